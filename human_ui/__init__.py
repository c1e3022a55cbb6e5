"""human_ui: the desktop windows (pygame) on top of the label store.

Modules:
    app: ``run_label``, ``label_queries`` (the lessons' window), ``open_window``.
    cli: the ``hfrl`` command, the composition root of every layer (the console script).
    window_cli: ``hfrl label`` and ``hfrl play`` argument parsing.
    answerer: ``RunWindow`` (one window for a ``--teacher human`` run) and ``WindowAnswerer``
        (the window in this process, lessons): the window as the loop's answerer.
    compare: the comparison window; compare_draw: its drawing; compare_layout: its geometry.
    compare_state: the comparison state machine (no surfaces); commands: keys and commands.
    label_source: where the window's pairs come from (``StoreSource``: a store);
        source_errors: what a source raises.
    server_source, server_window: the window on the label server (``hfrl label URL``);
        server_client: the server's HTTP API client (standard library only).
    playback: looping playback position, speeds, when a partly rendered pair can start.
    prefetch: background rendering of upcoming pairs (and of pending ones into the frame
        cache); prepared: a pair's frames as surfaces, growing while they render;
        frame_source: the renderer's protocol, the window's renderer, the render rate.
    redraw: when a window redraws (a still screen is not redrawn every tick).
    teaching: the reward model's view of a pair (teaching overlay).
    task_card: the task card (what to judge, a good and a bad example, first-use memory);
        task_card_view: its drawing; task_words: its words (no pygame; the server's too).
    server: ``hfrl serve``, the label server (its own subpackage: no pygame, no windows).
    play: the play window; play_state: keyboard play and recording (no surfaces).
    annotator: the annotator's name.
    script: scripted input (``--script FILE``).
    widgets: colours, fonts, text, buttons, scrubber.

See docs/UI.md.
"""

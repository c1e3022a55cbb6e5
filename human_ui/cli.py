"""The ``hfrl`` command: the composition root, where the layers meet.

Sub-commands:
    envs, record, gif, store     (``hfrl_gym.cli``) the suite, clips and label stores.
    train, report, video, demo   (``agents.cli``) train from preferences, plot, film.
    lesson                       (``agents.lessons``) the classroom lessons; ``lesson live``
                                 (``human_ui.live_lesson``) the class labels a run from browsers.
    label, play                  (``human_ui.window_cli``) the desktop windows.
    serve                        (``human_ui.server.cli``) the label server (docs/API.md).

This top-layer module is the console script's target (``pyproject.toml``): it is the one place
that knows every layer, so the lower ones never import upwards. What a lower layer needs from
this one is handed to it: ``hfrl train --teacher human`` gets the comparison window as its
answerer (``human_ui.answerer.RunWindow``; lessons ``WindowAnswerer``). Sub-commands are
imported only when they run, so ``hfrl --help`` loads neither PyTorch nor pygame. A user's
mistake (an ``HfrlError``) prints one line, ``error: <what to fix>``, and exits with status 2;
anything unexpected prints one line saying where its traceback was written, and exits with
status 1 (``hfrl_gym.cli.run_guarded``).

Functions:
    build_parser: the ``hfrl`` parser (delegated sub-commands parse their own flags).
    main: the entry point.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from hfrl_gym.cli import add_commands, limit_torch_threads, run_guarded
from human_ui.answerer import RunWindow, WindowAnswerer

# Sub-commands that parse their own flags: name -> (module with ``main(argv, ...)``, help).
DELEGATED: dict[str, tuple[str, str]] = {
    "train": ("agents.cli", "train an agent from preferences (RLHF) or a baseline"),
    "report": ("agents.cli", "figures comparing one or more run folders"),
    "video": ("agents.cli", "MP4 of a run's trained agent"),
    "demo": ("agents.cli", "the README's main job: a small RLHF run with its report"),
    "lesson": ("agents.lessons", "classroom lessons on RLHF (list them with `hfrl lesson`)"),
    "label": ("human_ui.window_cli", "the comparison window: answer a store's queries"),
    "play": ("human_ui.window_cli", "play a suite env with the keyboard, recording clips"),
    "serve": ("human_ui.server.cli", "the label server: a class labels a run from browsers"),
}
WINDOWS = {"train": RunWindow, "lesson": WindowAnswerer}
"""Sub-commands handed the comparison window (``window_answerer``) for a person to answer: a
training run keeps one window open for all its rounds; a lesson opens it for its queries."""


def build_parser() -> argparse.ArgumentParser:
    """The ``hfrl`` parser; delegated sub-commands are listed here and parse their own flags."""
    parser = argparse.ArgumentParser(
        prog="hfrl", description="Reinforcement learning from human feedback on control tasks."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_commands(sub)
    for name, (_, help_text) in DELEGATED.items():
        p = sub.add_parser(name, help=help_text, add_help=False, prefix_chars="\0")
        p.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hfrl`` console command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv[:2] == ["lesson", "live"]:  # composes the label server: this layer's

        def live() -> int:
            limit_torch_threads()
            return importlib.import_module("human_ui.live_lesson").main(argv)

        return run_guarded(live)
    if argv and argv[0] in DELEGATED:

        def delegated() -> int:
            limit_torch_threads()
            module = importlib.import_module(DELEGATED[argv[0]][0])
            if argv[0] in WINDOWS:
                return module.main(argv, window_answerer=WINDOWS[argv[0]])
            return module.main(argv)

        return run_guarded(delegated)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return run_guarded(lambda: args.func(args))


if __name__ == "__main__":
    sys.exit(main())

"""The comparison window: two clips side by side, answered by key or button.

The loop is events -> update -> draw -> flip -> tick. :meth:`CompareWindow.handle_event`
never draws: clicks become :class:`~human_ui.compare_state.Command` s through the layout's
buttons and the clips themselves (a click on a clip says it is the better one), everything
else goes to the :class:`~human_ui.compare_state.CompareState`. Frames come from a
:class:`~human_ui.prefetch.PairPrefetcher`, so switching pairs never renders.

The help overlay's first page is the task card (:mod:`human_ui.task_card`); it opens by
itself the first time an annotator labels an env, when the window is given a memory of the
cards seen.

The geometry is in :mod:`human_ui.compare_layout`; the drawing in :mod:`human_ui.compare_draw`.

Classes:
    CompareWindow: the window.
"""

from __future__ import annotations

from collections.abc import Callable

import pygame

from hfrl_gym.run_status_poll import RunView
from human_ui.commands import Command, HelpPage
from human_ui.compare_draw import CompareDrawing
from human_ui.compare_layout import compare_layout
from human_ui.compare_state import CompareState
from human_ui.prefetch import PairPrefetcher, PreparedPair
from human_ui.redraw import IDLE_WAIT_MS, RedrawGate
from human_ui.script import ScriptPlayer
from human_ui.task_card import TaskCards
from human_ui.task_card_view import TaskCardView


class CompareWindow(CompareDrawing):
    """The comparison window around a state machine and a prefetcher.

    Args:
        state: the comparison state machine.
        prefetcher: renders the pairs ``state.upcoming()`` names.
        describe_goal: ``env_id -> "env: goal"`` line for the header.
        title: the window caption.
        fps: window frames per second.
        script: scripted input, or ``None``.
        max_frames: stop after this many window frames (``None``: no limit).
        exit_when_done: stop when no query is pending (else wait for new ones).
        run_status: polls the status of the run that owns the store (``None``: no run).
        close_with_run: stop when that run has finished or stopped.
        task_cards: the task cards (``None``: text-only cards that never open by themselves).
    """

    def __init__(
        self,
        state: CompareState,
        prefetcher: PairPrefetcher,
        *,
        describe_goal: Callable[[str], str],
        title: str = "hfrl label",
        fps: int = 60,
        script: ScriptPlayer | None = None,
        max_frames: int | None = None,
        exit_when_done: bool = False,
        task_cards: TaskCards | None = None,
        run_status: Callable[[], RunView | None] | None = None,
        close_with_run: bool = False,
    ) -> None:
        self.state = state
        self.prefetcher = prefetcher
        self.describe_goal = describe_goal
        self.fps = fps
        self.max_frames = max_frames
        self.exit_when_done = exit_when_done
        self.run_status, self.close_with_run = run_status, close_with_run
        self.run_view: RunView | None = None  # the run's progress, polled in update()
        self.frames_drawn = 0  # loop iterations (a still scene is not redrawn each one)
        self.redraw = RedrawGate()
        self.task_cards = task_cards or TaskCards(describe_goal)
        self.card_view = TaskCardView()
        self._envs_seen: set[str] = set()  # envs whose task card was considered
        self.first_frame_at: dict[int, int] = {}  # query id -> window frame it first appeared
        self.surface = pygame.display.get_surface()
        pygame.display.set_caption(title)
        self.layout = compare_layout(self.surface.get_size(), teaching=False)
        self._layout_key: tuple[tuple[int, int], bool] = (self.surface.get_size(), False)
        self._render_box = self.layout.left_box.size
        self._relayout = False
        self._dragging = False
        self._mouse = (-1, -1)
        self._scaled: dict[tuple[int, int, int, tuple[int, int]], pygame.Surface] = {}
        self.script = script
        if script is not None:
            # a window that lives as long as a run waits for the run's next pair
            script.is_ready = lambda: self.state.ready or (self.state.done and not close_with_run)
            script.locate = self.button_centre
            script.save = lambda path: pygame.image.save(self.surface, path)

    # -- loop ----------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """Whether the loop should stop."""
        if self.state.quit_requested:
            return True
        if self.max_frames is not None and self.frames_drawn >= self.max_frames:
            return True
        if self.close_with_run and self.run_view is not None and self.run_view.ended:
            return True
        return self.exit_when_done and self.state.done

    def run(self) -> None:
        """Run the loop until the person quits (or the script, frame limit or queue ends)."""
        clock = pygame.time.Clock()
        dt_ms = 0
        while not self.finished:
            if self.script is not None:
                self.script.tick()
            events = pygame.event.get()
            if not events and self.script is None and not self.moving():
                event = pygame.event.wait(IDLE_WAIT_MS)  # still: sleep until input or timeout
                events = [] if event.type == pygame.NOEVENT else [event, *pygame.event.get()]
            for event in events:
                self.handle_event(event)
            self.update(dt_ms / 1000.0)
            moving = bool(events) or self.script is not None or self.moving()
            if self.redraw.due(self.scene_key(), moving=moving):
                self.draw()
                pygame.display.flip()
            dt_ms = clock.tick(self.fps)
            self.frames_drawn += 1

    def moving(self) -> bool:
        """Whether the window animates: clips playing or rendering, a drag, the task card."""
        state = self.state
        if self._dragging or state.help_page is HelpPage.TASK:
            return True
        return state.current is not None and not (state.ready and state.playback.paused)

    def scene_key(self) -> tuple[object, ...]:
        """What the window shows, in a few values: a change means a redraw."""
        state = self.state
        return (
            self.surface.get_size(),
            state.current,
            state.ready,
            state.mode,
            state.help_page,
            state.show_teaching,
            state.message,
            state.progress.text,
            state.playback.frame,
            state.playback.speed_index,
            len(state.history),
            None if self.run_view is None else self.run_view.text,
        )

    def button_centre(self, name: str) -> tuple[int, int] | None:
        """Centre of the button called ``name`` (for scripts), or ``None``."""
        button = self.layout.button(name)
        return None if button is None else button.rect.center

    def handle_event(self, event: pygame.event.Event) -> None:
        """Act on one event; never draws."""
        if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            help_button = self.layout.button(Command.HELP)
            if self.state.show_help and not (help_button and help_button.hit(event.pos)):
                self.state.help_page = None  # a click beside the overlay closes it
                return
            if self.layout.scrubber.hit(event.pos):
                self._dragging = True
                self.state.seek(self.layout.scrubber.fraction_at(event.pos[0]))
                return
            for button in self.layout.buttons:
                if button.hit(event.pos):
                    self.state.apply(Command(button.name))
                    return
            clicked = self.clip_at(event.pos)
            if clicked is not None:  # the same path as the arrow keys
                self.state.apply(clicked)
        elif event.type == pygame.MOUSEMOTION:
            self._mouse = event.pos
            if self._dragging:
                self.state.seek(self.layout.scrubber.fraction_at(event.pos[0]))
        elif event.type == pygame.MOUSEBUTTONUP:
            self._dragging = False
        elif event.type in (pygame.VIDEORESIZE, pygame.WINDOWSIZECHANGED):
            self._relayout = True
        else:
            self.state.handle_event(event)

    def clip_at(self, pos: tuple[int, int]) -> Command | None:
        """The answer a click at ``pos`` gives: on the left clip's card ``LEFT``, on the
        right one's ``RIGHT``, elsewhere ``None``."""
        if self.state.current is None:
            return None
        if self.layout.left_card.collidepoint(pos):
            return Command.LEFT
        if self.layout.right_card.collidepoint(pos):
            return Command.RIGHT
        return None

    def update(self, dt_s: float) -> None:
        """Lay out (after a resize), tell the prefetcher what is next, advance the state."""
        state = self.state
        if self._relayout:
            self.surface = pygame.display.get_surface()
            self._relayout = False
        key = (self.surface.get_size(), state.show_teaching)
        if key != self._layout_key:
            self._layout_key = key
            self.layout = compare_layout(key[0], teaching=state.show_teaching)
            self._render_box = compare_layout(key[0], teaching=False).left_box.size
        if self.run_status is not None:
            self.run_view = self.run_status()
        self.prefetcher.want(state.upcoming(), self._render_box)
        prepared = self.current_prepared()
        playable = prepared is not None and prepared.ok and prepared.playable(self.play_fps)
        if playable and prepared is not None:
            state.playback.rendered = prepared.rendered  # played while the rest renders
        state.update(dt_s, frames_ready=playable)
        if state.current is not None and state.ready:
            self.first_frame_at.setdefault(state.current, self.frames_drawn)
        env_id = None if state.pair is None else state.pair.left.env_id
        if env_id is not None and env_id not in self._envs_seen:
            self._envs_seen.add(env_id)
            if self.task_cards.first_use(state.annotator, env_id):
                state.help_page = HelpPage.TASK

    @property
    def play_fps(self) -> float:
        """Clip frames shown per second at the current speed."""
        playback = self.state.playback
        return playback.clip_fps * playback.speed

    def first_frames_shown(self) -> bool:
        """Whether both clips of the shown pair are on screen: playing, or their first frames
        held still (under the rendering progress) until the rest will arrive in time."""
        prepared = self.current_prepared()
        return prepared is not None and prepared.ok and prepared.rendered > 0

    def current_prepared(self) -> PreparedPair | None:
        """The shown pair's frames, rendered or rendering (the lists grow)."""
        current = self.state.current
        return None if current is None else self.prefetcher.peek(current)

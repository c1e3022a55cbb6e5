"""The comparison window: two clips side by side, answered by key or button.

The loop is events -> update -> draw -> flip -> tick. :meth:`CompareWindow.handle_event`
never draws: clicks become :class:`~human_ui.compare_state.Command` s through the layout's
buttons and the clips themselves (a click on a clip says it is the better one), everything
else goes to the :class:`~human_ui.compare_state.CompareState`. Frames come from a
:class:`~human_ui.prefetch.PairPrefetcher`, so switching pairs never renders.

The help overlay's first page is the task card (:mod:`human_ui.task_card`); it opens by
itself the first time an annotator labels an env, when the window is given a memory of the
cards seen.

The geometry is in :mod:`human_ui.compare_layout`.

Classes:
    CompareWindow: the window.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pygame

from hfrl_gym.run_status_poll import RunView
from human_ui.commands import Command, HelpPage, Mode, answer_text
from human_ui.compare_layout import HELP_ROWS, compare_layout, plain, task_card_rect
from human_ui.compare_state import CompareState
from human_ui.playback import SPEEDS
from human_ui.prefetch import PairPrefetcher, PreparedPair
from human_ui.redraw import IDLE_WAIT_MS, RedrawGate
from human_ui.script import ScriptPlayer
from human_ui.task_card import TaskCards
from human_ui.task_card_view import TaskCardView
from human_ui.teaching import agreement
from human_ui.widgets import (
    Theme,
    draw_panel,
    draw_sparkline,
    draw_text,
    fit_rect,
)


class CompareWindow:
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

    def current_prepared(self) -> PreparedPair | None:
        """The shown pair's frames, rendered or rendering (the lists grow)."""
        current = self.state.current
        return None if current is None else self.prefetcher.peek(current)

    # -- drawing -------------------------------------------------------------------------

    def draw(self) -> None:
        """Draw the whole window."""
        state, layout, surface = self.state, self.layout, self.surface
        fonts = layout.fonts
        surface.fill(Theme.BACKGROUND)
        self._draw_header()
        prepared = self.current_prepared()
        for side, card, box in (
            (0, layout.left_card, layout.left_box),
            (1, layout.right_card, layout.right_box),
        ):
            self._draw_card(side, card, box, prepared)
        if state.show_teaching and state.current is not None:
            self._draw_teaching(prepared)
        for button in layout.buttons:
            button.active = (
                (button.name == Command.PAUSE and state.playback.paused)
                or (button.name == Command.REVIEW and state.mode is Mode.REVIEW)
                or (button.name == Command.TEACHING and state.show_teaching)
                or (button.name == Command.HELP and state.show_help)
            )
            button.draw(surface, fonts.small, hover=button.hit(self._mouse))
        playback = state.playback
        if state.current is not None:
            speed = SPEEDS[playback.speed_index]
            counter = f"{playback.frame + 1}/{playback.num_frames}  {speed:g}x"
            draw_text(
                surface, counter, fonts.body, Theme.TEXT, layout.counter.midleft, anchor="midleft"
            )
            layout.scrubber.draw(surface, playback.fraction)
        status_width = layout.status.width
        if self.run_view is not None:  # the run's progress, right of the feedback line
            status_width = self._draw_run_line().left - layout.status.left - fonts.unit
        draw_text(
            surface,
            self._status_line(),
            fonts.body,
            Theme.MUTED,
            layout.status.topleft,
            max_width=max(fonts.unit, status_width),
        )
        if state.help_page is HelpPage.KEYS:
            rows = [(plain(k, fonts.arrows), m) for k, m in HELP_ROWS]
            rect = pygame.Rect(0, 0, min(layout.size[0] - 40, 52 * fonts.unit), 0)
            rect.height = min(layout.size[1] - 40, (len(rows) + 3) * fonts.body.get_linesize())
            rect.center = (layout.size[0] // 2, layout.size[1] // 2)
            draw_panel(surface, rect, "Keys", rows, fonts)
        elif state.help_page is HelpPage.TASK:
            self._draw_task_card()

    def _draw_task_card(self) -> None:
        pair = self.state.pair
        cards, fonts = self.task_cards, self.layout.fonts
        rect = task_card_rect(self.layout)
        if pair is None:
            note = [("", "the task card needs a pair to show: waiting for queries")]
            draw_panel(self.surface, rect, "Your task", note, fonts)
            return
        env_id = pair.left.env_id
        tick_s = self.frames_drawn / max(1, self.fps)
        examples = cards.examples(env_id)
        self.card_view.draw(self.surface, rect, fonts, cards.text(env_id), examples, tick_s=tick_s)

    def _draw_run_line(self) -> pygame.Rect:
        """The run's status at the right of the bottom line; returns where it went."""
        view, layout = self.run_view, self.layout
        assert view is not None
        colour = Theme.MUTED if not view.ended else Theme.GOOD if view.finished else Theme.BAD
        return draw_text(
            self.surface,
            view.text if view.text.startswith("run ") else f"run: {view.text}",
            layout.fonts.small,
            colour,
            layout.status.midright,
            anchor="midright",
            max_width=layout.status.width * 3 // 5,
        )

    def _caught_up_text(self) -> str:
        """What the left card says when no query is pending."""
        view = self.run_view
        if view is None or not view.ended:
            return "All caught up: waiting for new queries"
        ended = "has finished" if view.finished else "has stopped"
        return f"The run {ended}: no more queries will come"

    def _status_line(self) -> str:
        state = self.state
        parts = [state.message] if state.message else []
        if state.last_answer is not None and state.show_teaching:
            answered = self.prefetcher.get(state.last_answer[0])
            if answered is not None and answered.teaching is not None:
                parts.append(agreement(answered.teaching.p_left, state.last_answer[1]))
        parts.append("h: help")
        return "  ·  ".join(parts)

    def _draw_header(self) -> None:
        state, layout, surface = self.state, self.layout, self.surface
        fonts, header = layout.fonts, layout.header
        if state.pair is not None:
            title = self.describe_goal(state.pair.left.env_id)
        else:
            title = "hfrl label: no pair to show"
        draw_text(surface, title, fonts.title, Theme.TEXT, header.topleft, max_width=header.width)
        info = [f"annotator: {state.annotator}", state.progress.text]
        if state.current is not None:
            info.append(f"query {state.current}")
        if state.mode is Mode.REVIEW:
            info.append(f"REVIEW {state.review_index + 1}/{len(state.review_ids)}")
            if state.history:
                last = state.history[-1]
                choice = answer_text(last.choice, last.confidence)
                info.append(f"your answer: {choice} ({len(state.history)} kept)")
        y = header.top + fonts.title.get_linesize()
        draw_text(
            surface,
            "   ".join(info),
            fonts.body,
            Theme.MUTED,
            (header.left, y),
            max_width=header.width,
        )

    def _draw_card(
        self, side: int, card: pygame.Rect, box: pygame.Rect, prepared: PreparedPair | None
    ) -> None:
        state, surface, fonts = self.state, self.surface, self.layout.fonts
        colour = Theme.LEFT if side == 0 else Theme.RIGHT
        chosen = (
            state.mode is Mode.REVIEW
            and state.history
            and (state.history[-1].choice.value == ("left", "right")[side])
        )
        hover = state.ready and not state.show_help and card.collidepoint(self._mouse)
        pygame.draw.rect(surface, Theme.PANEL, card, border_radius=8)
        border = 5 if chosen else 4 if hover else 2
        pygame.draw.rect(surface, colour, card, width=border, border_radius=8)
        label = ("LEFT", "RIGHT")[side] + ("  (your answer)" if chosen else "")
        draw_text(surface, label, fonts.bold, colour, (box.left, card.top + fonts.unit // 4))
        if state.current is None:
            message = self._caught_up_text() if side == 0 else "r: review"
            draw_text(surface, message, fonts.body, Theme.MUTED, box.center, anchor="center")
            return
        if prepared is None or (prepared.ok and not state.ready):
            done, total = self.prefetcher.progress(state.current)
            text = f"rendering… {done}/{total} frames" if total else "rendering…"
            draw_text(surface, text, fonts.body, Theme.MUTED, box.center, anchor="center")
            bar = pygame.Rect(0, 0, box.width // 2, max(4, fonts.unit // 3))
            bar.midtop = (box.centerx, box.centery + fonts.body.get_linesize())
            pygame.draw.rect(surface, Theme.MUTED, bar, width=1)
            filled = bar.inflate(-2, -2)
            filled.width = round(filled.width * done / total) if total else 0
            pygame.draw.rect(surface, colour, filled)
            if state.wait_notice:  # an answer key came before the clips: say so where one looks
                below = (box.centerx, box.centery + 2 * fonts.body.get_linesize())
                notice, font = state.wait_notice, fonts.small
                draw_text(
                    surface, notice, font, Theme.BAD, below, anchor="center", max_width=box.width
                )
            return
        if not prepared.ok:
            draw_text(
                surface,
                f"cannot render: {prepared.error}",
                fonts.small,
                Theme.BAD,
                box.center,
                anchor="center",
                max_width=box.width,
            )
            return
        frames = prepared.left if side == 0 else prepared.right
        index = min(state.playback.frame, len(frames) - 1)
        frame = frames[index]
        target = fit_rect(frame.get_size(), box)
        if target.size != frame.get_size():
            key = (prepared.query_id, side, index, target.size)
            if key not in self._scaled:
                if any(k[0] != prepared.query_id or k[3] != target.size for k in self._scaled):
                    self._scaled.clear()  # scaled frames of one pair at one size only
                self._scaled[key] = pygame.transform.smoothscale(frame, target.size)
            frame = self._scaled[key]
        surface.blit(frame, target)

    def _draw_teaching(self, prepared: PreparedPair | None) -> None:
        layout, surface, fonts = self.layout, self.surface, self.layout.fonts
        info = None if prepared is None else prepared.teaching
        if info is None:
            note = "teaching: waiting for the pair" if prepared is None else prepared.teaching_note
            draw_text(
                surface,
                note,
                fonts.small,
                Theme.MUTED,
                layout.left_teach.topleft,
                max_width=layout.left_teach.width * 2,
            )
            return
        both = np.concatenate([info.left_rewards, info.right_rewards])
        value_range = (float(both.min()), float(both.max()))
        line = fonts.small.get_linesize()
        low, high = float(info.p_left_members.min()), float(info.p_left_members.max())
        for rewards, rect, colour, text in (
            (
                info.left_rewards,
                layout.left_teach,
                Theme.LEFT,
                f"model: return {info.left_return:+.1f} · P(left better) = {info.p_left:.2f}",
            ),
            (
                info.right_rewards,
                layout.right_teach,
                Theme.RIGHT,
                f"model: return {info.right_return:+.1f} · members {low:.2f}-{high:.2f}",
            ),
        ):
            draw_text(
                surface, text, fonts.small, colour, (rect.left, rect.top + 2), max_width=rect.width
            )
            plot = pygame.Rect(rect.left, rect.top + line + 4, rect.width, rect.height - line - 6)
            cursor = min(self.state.playback.frame, rewards.size - 1)
            draw_sparkline(surface, plot, rewards, colour, cursor=cursor, value_range=value_range)

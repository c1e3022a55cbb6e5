"""The comparison window: two clips side by side, answered by key or button.

The loop is events -> update -> draw -> flip -> tick. :meth:`CompareWindow.handle_event`
never draws: clicks become :class:`~human_ui.compare_state.Command` s through the layout's
buttons, everything else goes to the :class:`~human_ui.compare_state.CompareState`. Frames
come from a :class:`~human_ui.prefetch.PairPrefetcher`, so switching pairs never renders.

The geometry is in :mod:`human_ui.compare_layout`.

Classes:
    CompareWindow: the window.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pygame

from human_ui.commands import CHOICE_TEXT, Command, Mode
from human_ui.compare_layout import HELP_ROWS, compare_layout, plain
from human_ui.compare_state import CompareState
from human_ui.playback import SPEEDS
from human_ui.prefetch import PairPrefetcher, PreparedPair
from human_ui.script import ScriptPlayer
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
    ) -> None:
        self.state = state
        self.prefetcher = prefetcher
        self.describe_goal = describe_goal
        self.fps = fps
        self.max_frames = max_frames
        self.exit_when_done = exit_when_done
        self.frames_drawn = 0
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
            script.is_ready = lambda: self.state.ready or self.state.done
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
        return self.exit_when_done and self.state.done

    def run(self) -> None:
        """Run the loop until the person quits (or the script, frame limit or queue ends)."""
        clock = pygame.time.Clock()
        dt_ms = 0
        while not self.finished:
            if self.script is not None:
                self.script.tick()
            for event in pygame.event.get():
                self.handle_event(event)
            self.update(dt_ms / 1000.0)
            self.draw()
            pygame.display.flip()
            dt_ms = clock.tick(self.fps)
            self.frames_drawn += 1

    def button_centre(self, name: str) -> tuple[int, int] | None:
        """Centre of the button called ``name`` (for scripts), or ``None``."""
        button = self.layout.button(name)
        return None if button is None else button.rect.center

    def handle_event(self, event: pygame.event.Event) -> None:
        """Act on one event; never draws."""
        if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            if self.layout.scrubber.hit(event.pos):
                self._dragging = True
                self.state.seek(self.layout.scrubber.fraction_at(event.pos[0]))
                return
            for button in self.layout.buttons:
                if button.hit(event.pos):
                    self.state.apply(Command(button.name))
                    return
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
        self.prefetcher.want(state.upcoming(), self._render_box)
        prepared = self.current_prepared()
        state.update(dt_s, frames_ready=prepared is not None and prepared.ok)
        if state.current is not None and state.ready:
            self.first_frame_at.setdefault(state.current, self.frames_drawn)

    def current_prepared(self) -> PreparedPair | None:
        """The shown pair's frames, if rendered."""
        current = self.state.current
        return None if current is None else self.prefetcher.get(current)

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
        draw_text(
            surface,
            self._status_line(),
            fonts.body,
            Theme.MUTED,
            layout.status.topleft,
            max_width=layout.status.width,
        )
        if state.show_help:
            rows = [(plain(k, fonts.arrows), m) for k, m in HELP_ROWS]
            rect = pygame.Rect(0, 0, min(layout.size[0] - 40, 52 * fonts.unit), 0)
            rect.height = min(layout.size[1] - 40, (len(rows) + 3) * fonts.body.get_linesize())
            rect.center = (layout.size[0] // 2, layout.size[1] // 2)
            draw_panel(surface, rect, "Keys", rows, fonts)

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
                choice = CHOICE_TEXT[state.history[-1].choice]
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
        pygame.draw.rect(surface, Theme.PANEL, card, border_radius=8)
        pygame.draw.rect(surface, colour, card, width=5 if chosen else 2, border_radius=8)
        label = ("LEFT", "RIGHT")[side] + ("  (your answer)" if chosen else "")
        draw_text(surface, label, fonts.bold, colour, (box.left, card.top + fonts.unit // 4))
        if state.current is None:
            message = "All caught up: waiting for new queries" if side == 0 else "r: review"
            draw_text(surface, message, fonts.body, Theme.MUTED, box.center, anchor="center")
            return
        if prepared is None:
            done, total = self.prefetcher.progress(state.current)
            text = f"rendering… {done}/{total} frames" if total else "rendering…"
            draw_text(surface, text, fonts.body, Theme.MUTED, box.center, anchor="center")
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

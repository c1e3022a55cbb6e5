"""Drawing the comparison window: header, the two clip cards, the task card, the run's line.

Classes:
    CompareDrawing: the drawing half of :class:`human_ui.compare.CompareWindow` (a base class:
        it draws the window's state, layout and prefetched frames, and changes nothing).
"""

from __future__ import annotations

import numpy as np
import pygame

from human_ui.commands import Command, HelpPage, Mode, answer_text
from human_ui.compare_layout import HELP_ROWS, plain, task_card_rect
from human_ui.playback import SPEEDS
from human_ui.prefetch import PreparedPair
from human_ui.teaching import agreement
from human_ui.widgets import (
    Theme,
    draw_panel,
    draw_sparkline,
    draw_text,
    fit_rect,
)


class CompareDrawing:
    """What :class:`~human_ui.compare.CompareWindow` draws each frame (it sets the attributes)."""

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
            centre = box.center
            if prepared is not None and prepared.rendered > 0:  # the first frames, held still
                self._blit_frame(prepared, side, 0, box)  # until the rest arrives in time
                centre = (box.centerx, box.bottom - 3 * fonts.body.get_linesize())
                backing = pygame.Rect(0, 0, box.width, 3 * fonts.body.get_linesize())
                backing.midbottom = box.midbottom
                shade = pygame.Surface(backing.size, pygame.SRCALPHA)
                shade.fill((*Theme.PANEL, 210))
                surface.blit(shade, backing)
            draw_text(surface, text, fonts.body, Theme.MUTED, centre, anchor="center")
            bar = pygame.Rect(0, 0, box.width // 2, max(4, fonts.unit // 3))
            bar.midtop = (centre[0], centre[1] + fonts.body.get_linesize())
            pygame.draw.rect(surface, Theme.MUTED, bar, width=1)
            filled = bar.inflate(-2, -2)
            filled.width = round(filled.width * done / total) if total else 0
            pygame.draw.rect(surface, colour, filled)
            if state.wait_notice:  # an answer key came before the clips: say so where one looks
                below = (centre[0], centre[1] + 2 * fonts.body.get_linesize())
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
        self._blit_frame(prepared, side, state.playback.frame, box)

    def _blit_frame(self, prepared: PreparedPair, side: int, index: int, box: pygame.Rect) -> None:
        """Frame ``index`` of one clip (its last rendered one, if fewer), fitted into ``box``."""
        frames = prepared.left if side == 0 else prepared.right
        index = min(index, len(frames) - 1)
        frame = frames[index]
        target = fit_rect(frame.get_size(), box)
        if target.size != frame.get_size():
            key = (prepared.query_id, side, index, target.size)
            if key not in self._scaled:
                if any(k[0] != prepared.query_id or k[3] != target.size for k in self._scaled):
                    self._scaled.clear()  # scaled frames of one pair at one size only
                self._scaled[key] = pygame.transform.smoothscale(frame, target.size)
            frame = self._scaled[key]
        self.surface.blit(frame, target)

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

"""Drawing the task card: its words, and the good and the bad example clips playing in a loop.

The card's content comes from :mod:`human_ui.task_card`; this module only draws it.

Classes:
    TaskCardView: draws a card into a rectangle (keeps the example frames as surfaces).

Functions:
    wrap_text: a paragraph cut into lines that fit a width.
"""

from __future__ import annotations

import pygame

from human_ui.prefetch import to_surface
from human_ui.task_card import ExampleClips, TaskText
from human_ui.widgets import Fonts, Theme, draw_text, fit_rect

EXAMPLE_FPS = 10
"""Example frames shown per second (they are thumbnails: every few steps of the clip)."""


def wrap_text(text: str, font: pygame.font.Font, width: int) -> list[str]:
    """``text`` cut at spaces into lines at most ``width`` pixels wide (a longer word stays
    whole, :func:`~human_ui.widgets.draw_text` then cuts it).

    Example:
        >>> pygame.font.init()
        >>> font = Fonts(800).body
        >>> lines = wrap_text("keep the pole upright " * 6, font, 200)
        >>> len(lines) > 1 and all(font.size(line)[0] <= 200 for line in lines)
        True
    """
    lines: list[str] = []
    for word in text.split():
        if lines and font.size(f"{lines[-1]} {word}")[0] <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


class TaskCardView:
    """Draws task cards; keeps the surfaces of the last examples drawn.

    Example:
        >>> from hfrl_gym.envs.goals import TASK
        >>> from human_ui.task_card import task_text
        >>> pygame.font.init()
        >>> surface = pygame.Surface((800, 600))
        >>> text = task_text("hfrl/CartPole-v0", TASK, "hfrl/CartPole-v0 · task")
        >>> view = TaskCardView()
        >>> view.draw(surface, pygame.Rect(20, 20, 760, 560), Fonts(600), text, None, tick_s=0)
        >>> view.example_boxes  # no examples yet: none drawn
        []
    """

    def __init__(self) -> None:
        self.example_boxes: list[pygame.Rect] = []  # where the last examples were drawn
        self._examples: ExampleClips | None = None
        self._surfaces: tuple[list[pygame.Surface], list[pygame.Surface]] = ([], [])
        self._scaled: dict[tuple[int, int, tuple[int, int]], pygame.Surface] = {}

    def draw(
        self,
        surface: pygame.Surface,
        rect: pygame.Rect,
        fonts: Fonts,
        text: TaskText,
        examples: ExampleClips | None,
        *,
        tick_s: float,
    ) -> None:
        """Draw the card filling ``rect``.

        Args:
            surface: where to draw.
            rect: the card.
            fonts: the window's fonts.
            text: the card's words.
            examples: the example clips (``None``: still being found and rendered).
            tick_s: seconds since the window opened (which example frame is shown).
        """
        pygame.draw.rect(surface, Theme.PANEL, rect, border_radius=8)  # hides the clips
        pygame.draw.rect(surface, Theme.MUTED, rect, width=2, border_radius=8)
        pad, width = fonts.unit, rect.width - 2 * fonts.unit
        x, y = rect.left + pad, rect.top + pad
        y = draw_text(surface, "Your task", fonts.title, Theme.TEXT, (x, y)).bottom
        y = draw_text(surface, text.title, fonts.body, Theme.MUTED, (x, y), max_width=width).bottom
        y += pad // 2
        paragraphs = [(text.judge, fonts.bold, Theme.TEXT)]
        if text.forward:
            paragraphs.append((f"Direction: {text.forward}.", fonts.body, Theme.TEXT))
        paragraphs.append((f"Good: {text.good}.", fonts.body, Theme.GOOD))
        paragraphs.append((f"Bad: {text.bad}.", fonts.body, Theme.BAD))
        for paragraph, font, colour in paragraphs:
            for line in wrap_text(paragraph, font, width):
                y = draw_text(surface, line, font, colour, (x, y), max_width=width).bottom
        footer_y = rect.bottom - pad - fonts.small.get_linesize()
        footer = "answer with ← → ↓ space or a click on a clip  ·  h: all keys  ·  esc: close"
        if not fonts.arrows:
            footer = footer.replace("← → ↓", "Left Right Down")
        draw_text(surface, footer, fonts.small, Theme.MUTED, (x, footer_y), max_width=width)
        area = pygame.Rect(x, y + pad // 2, width, footer_y - pad // 2 - y - pad // 2)
        self._draw_examples(surface, area, fonts, examples, tick_s)

    def _draw_examples(
        self,
        surface: pygame.Surface,
        area: pygame.Rect,
        fonts: Fonts,
        examples: ExampleClips | None,
        tick_s: float,
    ) -> None:
        self.example_boxes = []
        line = fonts.body.get_linesize()
        if examples is None or not examples.ok:
            note = "finding a good and a bad example in the store…"
            note = note if examples is None else examples.note
            if area.height >= line:
                draw_text(surface, note, fonts.small, Theme.MUTED, area.topleft)
            return
        if area.height < 3 * line:
            return  # a window too small for pictures keeps the words
        if examples is not self._examples:
            self._examples = examples
            good, bad = examples.good, examples.bad
            self._surfaces = ([to_surface(f) for f in good], [to_surface(f) for f in bad])
            self._scaled.clear()
        gap = fonts.unit
        half = (area.width - gap) // 2
        columns = (
            (self._surfaces[0], f"a good clip (return {examples.good_return:+.1f})", Theme.GOOD),
            (self._surfaces[1], f"a bad clip (return {examples.bad_return:+.1f})", Theme.BAD),
        )
        for side, (frames, caption, colour) in enumerate(columns):
            column = pygame.Rect(area.left + side * (half + gap), area.top, half, area.height)
            draw_text(surface, caption, fonts.bold, colour, column.topleft, max_width=half)
            box = pygame.Rect(column.left, column.top + line, half, column.height - line)
            index = int(tick_s * EXAMPLE_FPS) % len(frames)
            target = fit_rect(frames[index].get_size(), box)
            key = (side, index, target.size)
            if key not in self._scaled:
                self._scaled[key] = pygame.transform.smoothscale(frames[index], target.size)
            surface.blit(self._scaled[key], target)
            pygame.draw.rect(surface, colour, target.inflate(4, 4), width=2)
            self.example_boxes.append(target)

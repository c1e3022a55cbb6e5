"""Where everything goes in the comparison window, for a window size (pure geometry).

Classes:
    CompareLayout: the rectangles, fonts and buttons of one window size.

Functions:
    compare_layout: the layout of a window size.
    task_card_rect: where the task card goes (over the clips, under the header).
    plain: text with arrow glyphs spelled out, for fonts without them.

Attributes:
    HELP_ROWS: the help overlay's (keys, meaning) rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import pygame

from human_ui.commands import Command
from human_ui.widgets import Button, Fonts, Scrubber, Theme

HELP_ROWS = (
    ("← or click the left clip", "left clip is better"),
    ("→ or click the right clip", "right clip is better"),
    ("shift or ctrl + ← / →", "much or slightly better (optional; slightly: a softer target)"),
    ("↓", "equally good"),
    ("space", "skip: can't tell"),
    ("backspace", "undo your last answer (also after a restart)"),
    ("", ""),
    ("p", "pause / play"),
    (", and .", "one frame back / forward (pauses)"),
    ("- and + (= or [ ])", "slower / faster (0.25x to 4x); never an answer"),
    ("home", "back to the first frame; drag the bar to seek"),
    ("", ""),
    ("r", "review mode: browse your answers and change them"),
    ("b / n", "previous / next answered pair (review mode)"),
    ("t", "teaching overlay: what the reward model predicts"),
    ("h or ?", "help: the task card, then these keys, then close"),
    ("esc or q", "close help / leave review / quit (answers are saved)"),
)
_ASCII = {"←": "Left", "→": "Right", "↓": "Down"}
_BUTTONS = (
    (Command.LEFT, "← Left is better", Theme.LEFT),
    (Command.EQUAL, "↓ Equal", Theme.EQUAL),
    (Command.SKIP, "Skip (space)", Theme.SKIP),
    (Command.RIGHT, "Right is better →", Theme.RIGHT),
    (Command.UNDO, "Undo (⌫)", Theme.UNDO),
)
_CONTROLS = (
    (Command.PAUSE, "Pause"),
    (Command.STEP_BACK, "<"),
    (Command.STEP_FORWARD, ">"),
    (Command.SLOWER, "-"),
    (Command.FASTER, "+"),
)
_TOGGLES = ((Command.REVIEW, "Review"), (Command.TEACHING, "Teach"), (Command.HELP, "Help"))


def plain(text: str, arrows: bool) -> str:
    """``text``, or with arrows spelled out when the font has no arrow glyphs.

    Example:
        >>> plain("← Left", arrows=False)
        'Left Left'
    """
    if arrows:
        return text
    for glyph, word in _ASCII.items():
        text = text.replace(glyph, word)
    return text.replace("⌫", "bksp")


@dataclass
class CompareLayout:
    """Rectangles of one window size (pixels).

    Attributes:
        size: the window size.
        fonts: fonts for that size.
        header: the title and progress lines.
        left_card, right_card: each clip's card (label row and picture).
        left_box, right_box: where each clip's frames go (their aspect ratio is kept).
        left_teach, right_teach: the teaching overlay strips (empty when it is off).
        counter: where the frame counter and the speed are written.
        scrubber: the position bar.
        buttons: every button, answers and controls.
        status: the feedback line at the bottom.

    Example:
        >>> pygame.font.init()
        >>> layout = compare_layout((1280, 800), teaching=False)
        >>> layout.left_box.size == layout.right_box.size
        True
        >>> layout.left_box.right < layout.right_box.left
        True
    """

    size: tuple[int, int]
    fonts: Fonts
    header: pygame.Rect
    left_card: pygame.Rect
    right_card: pygame.Rect
    left_box: pygame.Rect
    right_box: pygame.Rect
    left_teach: pygame.Rect
    right_teach: pygame.Rect
    counter: pygame.Rect
    scrubber: Scrubber
    buttons: list[Button]
    status: pygame.Rect

    def button(self, name: str) -> Button | None:
        """The button with this name (a :class:`Command` value), if any."""
        return next((b for b in self.buttons if b.name == name), None)


def _row(rect: pygame.Rect, weights: list[float], gap: int) -> list[pygame.Rect]:
    """Split ``rect`` horizontally in proportion to ``weights``."""
    usable = rect.width - gap * (len(weights) - 1)
    rects, x = [], rect.left
    for weight in weights:
        width = round(usable * weight / sum(weights))
        rects.append(pygame.Rect(x, rect.top, width, rect.height))
        x += width + gap
    return rects


def task_card_rect(layout: CompareLayout) -> pygame.Rect:
    """The task card's rectangle: over the clips and the controls, between the header and
    the answer buttons (both stay visible).

    Example:
        >>> pygame.font.init()
        >>> layout = compare_layout((1280, 800), teaching=False)
        >>> card = task_card_rect(layout)
        >>> card.top > layout.header.bottom, card.bottom < layout.button("left").rect.top
        (True, True)
    """
    gap = layout.fonts.unit // 2
    top = layout.header.bottom + gap
    bottom = min(button.rect.top for button in layout.buttons) - gap
    return pygame.Rect(layout.header.left, top, layout.header.width, max(40, bottom - top))


def compare_layout(size: tuple[int, int], *, teaching: bool) -> CompareLayout:
    """Lay out a comparison window of ``size`` pixels (with the teaching strips or not)."""
    width, height = max(320, size[0]), max(240, size[1])
    fonts = Fonts(height)
    unit = fonts.unit
    margin, gap = unit, unit // 2
    line = fonts.body.get_linesize()
    header = pygame.Rect(margin, margin // 2, width - 2 * margin, fonts.title.get_linesize() + line)
    status = pygame.Rect(margin, height - line - margin // 2, width - 2 * margin, line)
    answers = pygame.Rect(margin, status.top - gap - round(2.2 * unit), width - 2 * margin, 0)
    answers.height = round(2.2 * unit)
    controls = pygame.Rect(margin, answers.top - gap - round(1.6 * unit), answers.width, 0)
    controls.height = round(1.6 * unit)
    cards = pygame.Rect(margin, header.bottom + gap, answers.width, 0)
    cards.height = max(40, controls.top - gap - cards.top)
    left_card, right_card = _row(cards, [1, 1], margin)
    teach_height = round(4.5 * unit) if teaching else 0
    boxes, teach_rects = [], []
    for card in (left_card, right_card):
        inner = card.inflate(-gap, -gap)
        box = pygame.Rect(inner.left, inner.top + line + gap // 2, inner.width, 0)
        box.height = max(20, inner.bottom - box.top - teach_height)
        boxes.append(box)
        teach_rects.append(pygame.Rect(inner.left, box.bottom, inner.width, teach_height))
    arrows = fonts.arrows
    buttons = [
        Button(command.value, plain(label, arrows), colour, rect)
        for (command, label, colour), rect in zip(
            _BUTTONS, _row(answers, [3, 2, 2, 3, 2], gap), strict=True
        )
    ]
    weights = [1.4, 0.6, 0.6, 0.6, 0.6, 1.6, 8.0, 1.2, 1.2, 1.0]
    row = _row(controls, weights, gap)
    for (command, label), rect in zip(_CONTROLS, row[:5], strict=True):
        buttons.append(Button(command.value, label, Theme.NEUTRAL, rect))
    for (command, label), rect in zip(_TOGGLES, row[7:], strict=True):
        buttons.append(Button(command.value, label, Theme.NEUTRAL, rect))
    return CompareLayout(
        size=(width, height),
        fonts=fonts,
        header=header,
        left_card=left_card,
        right_card=right_card,
        left_box=boxes[0],
        right_box=boxes[1],
        left_teach=teach_rects[0],
        right_teach=teach_rects[1],
        counter=row[5],
        scrubber=Scrubber(row[6]),
        buttons=buttons,
        status=status,
    )

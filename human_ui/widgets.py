"""Drawing pieces shared by the windows: colours, scaled fonts, text, buttons, a scrubber.

Widgets know where they are (a ``pygame.Rect`` set by the window's layout) and how to draw
themselves; they do not handle events beyond answering "is this point on me?", so the
windows' event handling stays free of drawing.

Classes:
    Theme: the colours.
    Fonts: fonts scaled to the window height (DejaVu Sans when installed, for the arrows).
    Button: a labelled clickable rectangle with a name (scripts click buttons by name).
    Scrubber: a horizontal position bar; maps x to a fraction of the clip.

Functions:
    draw_text: text anchored at a point, clipped to a width with an ellipsis.
    draw_panel: a translucent box of text lines (the help overlay).
    draw_sparkline: a small line plot of values with a cursor (the teaching overlay).
    fit_rect: a rectangle of a given size's aspect ratio centred in a box.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pygame

Colour = tuple[int, int, int]


class Theme:
    """The colours of the windows (a dark background, so clip frames stand out).

    Example:
        >>> Theme.LEFT != Theme.RIGHT
        True
    """

    BACKGROUND: Colour = (30, 34, 41)
    PANEL: Colour = (43, 48, 58)
    TEXT: Colour = (232, 234, 237)
    MUTED: Colour = (154, 160, 171)
    LEFT: Colour = (78, 154, 241)
    RIGHT: Colour = (240, 160, 75)
    EQUAL: Colour = (150, 200, 120)
    SKIP: Colour = (120, 126, 138)
    UNDO: Colour = (220, 95, 95)
    NEUTRAL: Colour = (88, 96, 110)
    GOOD: Colour = (120, 200, 120)
    BAD: Colour = (235, 110, 100)


_FONT_NAMES = "dejavusans,notosans,liberationsans,freesans,arial"


class Fonts:
    """Fonts whose pixel sizes follow the window height, cached per size.

    Args:
        window_height: the window's height in pixels.

    Example:
        >>> import pygame
        >>> pygame.font.init()
        >>> fonts = Fonts(800)
        >>> fonts.body.get_height() > fonts.small.get_height()
        True
    """

    _cache: dict[tuple[str | None, int, bool], pygame.font.Font] = {}  # noqa: RUF012
    _path: str | None = None
    _looked_up = False

    def __init__(self, window_height: int) -> None:
        if not Fonts._looked_up:
            Fonts._path = pygame.font.match_font(_FONT_NAMES)
            Fonts._looked_up = True
        self.unit = max(12, min(34, window_height // 38))
        self.small = self.get(round(self.unit * 0.8))
        self.body = self.get(self.unit)
        self.bold = self.get(self.unit, bold=True)
        self.title = self.get(round(self.unit * 1.25), bold=True)

    @property
    def arrows(self) -> bool:
        """Whether the font draws arrow glyphs (pygame's own font does not)."""
        return Fonts._path is not None

    def get(self, size: int, *, bold: bool = False) -> pygame.font.Font:
        """The font at ``size`` pixels.

        A cached font dies with the font module: ``pygame.quit()`` (which Gymnasium's
        classic-control envs call when they close) invalidates it, so it is made again.
        """
        key = (Fonts._path, size, bold)
        font = Fonts._cache.get(key)
        if font is not None:
            try:
                font.get_height()
            except pygame.error:  # the font module was quit since it was made
                font = None
        if font is None:
            if not pygame.font.get_init():
                pygame.font.init()
            font = pygame.font.Font(Fonts._path, size)
            font.bold = bold
            Fonts._cache[key] = font
        return font


def draw_text(
    surface: pygame.Surface,
    text: str,
    font: pygame.font.Font,
    colour: Colour,
    pos: tuple[int, int],
    *,
    anchor: str = "topleft",
    max_width: int | None = None,
) -> pygame.Rect:
    """Draw one line of text; too long a line is cut with an ellipsis.

    Args:
        surface: where to draw.
        text: the line.
        font: the font.
        colour: the text colour.
        pos: the anchor point in pixels.
        anchor: a ``pygame.Rect`` attribute name (``"topleft"``, ``"center"``, ``"midtop"``...).
        max_width: width in pixels the text must fit in.

    Returns:
        The rectangle drawn.
    """
    if max_width is not None and font.size(text)[0] > max_width:
        while text and font.size(text + "…")[0] > max_width:
            text = text[:-1]
        text += "…"
    image = font.render(text, True, colour)
    rect = image.get_rect(**{anchor: pos})
    surface.blit(image, rect)
    return rect


def fit_rect(size: tuple[int, int], box: pygame.Rect) -> pygame.Rect:
    """The largest rectangle with ``size``'s aspect ratio centred in ``box``.

    Example:
        >>> tuple(fit_rect((300, 200), pygame.Rect(0, 0, 600, 600)))
        (0, 100, 600, 400)
    """
    width, height = max(1, size[0]), max(1, size[1])
    scale = min(box.width / width, box.height / height)
    rect = pygame.Rect(0, 0, max(1, round(width * scale)), max(1, round(height * scale)))
    rect.center = box.center
    return rect


@dataclass
class Button:
    """A clickable labelled rectangle.

    Attributes:
        name: the name scripts click it by (``{"click": "left"}``).
        label: the text on it.
        colour: its accent colour.
        rect: where it is (set by the layout).
        active: drawn highlighted (e.g. the pause button while paused).

    Example:
        >>> button = Button("left", "Left is better", Theme.LEFT, pygame.Rect(0, 0, 100, 30))
        >>> button.hit((50, 10)), button.hit((150, 10))
        (True, False)
    """

    name: str
    label: str
    colour: Colour
    rect: pygame.Rect = field(default_factory=lambda: pygame.Rect(0, 0, 0, 0))
    active: bool = False

    def hit(self, pos: tuple[int, int]) -> bool:
        """Whether ``pos`` is on the button."""
        return bool(self.rect.collidepoint(pos))

    def draw(self, surface: pygame.Surface, font: pygame.font.Font, *, hover: bool) -> None:
        """Draw the button (brighter when hovered or active)."""
        radius = max(4, self.rect.height // 4)
        fill = self.colour if (hover or self.active) else Theme.PANEL
        pygame.draw.rect(surface, fill, self.rect, border_radius=radius)
        pygame.draw.rect(surface, self.colour, self.rect, width=2, border_radius=radius)
        text_colour = Theme.BACKGROUND if (hover or self.active) else Theme.TEXT
        draw_text(
            surface,
            self.label,
            font,
            text_colour,
            self.rect.center,
            anchor="center",
            max_width=self.rect.width - 8,
        )


@dataclass
class Scrubber:
    """A horizontal bar showing the playback position; click or drag to seek.

    Example:
        >>> scrubber = Scrubber(pygame.Rect(90, 0, 221, 20))  # a 201-pixel track from x=100
        >>> scrubber.fraction_at(200), scrubber.fraction_at(0), scrubber.fraction_at(900)
        (0.5, 0.0, 1.0)
    """

    rect: pygame.Rect = field(default_factory=lambda: pygame.Rect(0, 0, 0, 0))

    def hit(self, pos: tuple[int, int]) -> bool:
        """Whether ``pos`` is on the bar (with a few pixels of slack above and below)."""
        return bool(self.rect.inflate(0, 12).collidepoint(pos))

    @property
    def radius(self) -> int:
        """Radius of the handle in pixels."""
        return max(4, self.rect.height // 2)

    @property
    def track(self) -> pygame.Rect:
        """The bar itself: the rect less the handle's radius at each end."""
        return self.rect.inflate(-2 * self.radius, -self.rect.height // 2)

    def fraction_at(self, x: int) -> float:
        """The clip fraction at window x coordinate ``x``, in ``[0, 1]``."""
        track = self.track
        if track.width <= 1:
            return 0.0
        return min(max((x - track.left) / (track.width - 1), 0.0), 1.0)

    def draw(self, surface: pygame.Surface, fraction: float) -> None:
        """Draw the bar filled up to ``fraction`` with a round handle (inside the rect)."""
        track = self.track
        pygame.draw.rect(surface, Theme.NEUTRAL, track, border_radius=track.height // 2)
        filled = track.copy()
        filled.width = max(1, round(track.width * fraction))
        pygame.draw.rect(surface, Theme.TEXT, filled, border_radius=track.height // 2)
        handle = (track.left + round((track.width - 1) * fraction), track.centery)
        pygame.draw.circle(surface, Theme.TEXT, handle, self.radius)


def draw_panel(
    surface: pygame.Surface,
    rect: pygame.Rect,
    title: str,
    rows: Sequence[tuple[str, str]],
    fonts: Fonts,
) -> None:
    """A translucent box with a title and two columns (keys, meaning): the help overlay."""
    shade = pygame.Surface(rect.size, pygame.SRCALPHA)
    shade.fill((*Theme.PANEL, 250))
    surface.blit(shade, rect)
    pygame.draw.rect(surface, Theme.MUTED, rect, width=2, border_radius=8)
    pad = fonts.unit
    y = draw_text(surface, title, fonts.title, Theme.TEXT, (rect.left + pad, rect.top + pad)).bottom
    key_width = max((fonts.bold.size(keys)[0] for keys, _ in rows), default=0) + pad
    line = fonts.body.get_linesize()
    for keys, meaning in rows:
        y += line if keys or meaning else line // 2
        if y + line > rect.bottom - pad // 2:
            break
        draw_text(surface, keys, fonts.bold, Theme.TEXT, (rect.left + pad, y))
        width = rect.width - key_width - 2 * pad
        draw_text(
            surface,
            meaning,
            fonts.body,
            Theme.MUTED,
            (rect.left + pad + key_width, y),
            max_width=width,
        )


def draw_sparkline(
    surface: pygame.Surface,
    rect: pygame.Rect,
    values: np.ndarray,
    colour: Colour,
    *,
    cursor: int | None = None,
    value_range: tuple[float, float] | None = None,
) -> None:
    """Plot ``(N,)`` values as a line across ``rect``, with a zero line and a cursor.

    Args:
        surface: where to draw.
        rect: the plot area.
        values: the values, left to right.
        colour: the line colour.
        cursor: index of the value to mark (the frame shown), or ``None``.
        value_range: ``(low, high)`` of the vertical axis (both clips share one); the
            values' own range when ``None``.
    """
    pygame.draw.rect(surface, Theme.PANEL, rect)
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0 or rect.width < 4 or rect.height < 4:
        return
    low, high = value_range or (float(values.min()), float(values.max()))
    span = high - low if high > low else 1.0

    def y_of(value: float) -> int:
        return round(rect.bottom - 2 - (value - low) / span * (rect.height - 4))

    if low < 0 < high:
        pygame.draw.line(surface, Theme.NEUTRAL, (rect.left, y_of(0)), (rect.right - 1, y_of(0)))
    xs = np.linspace(rect.left + 1, rect.right - 2, num=max(values.size, 2))
    points = [(round(x), y_of(v)) for x, v in zip(xs, np.resize(values, xs.size), strict=True)]
    pygame.draw.lines(surface, colour, False, points, 2)
    if cursor is not None and values.size:
        index = min(max(cursor, 0), values.size - 1)
        pygame.draw.circle(surface, Theme.TEXT, points[index], 3)

"""A pair's frames as pygame surfaces, filled in while they render, and their frame size.

The :class:`~human_ui.prefetch.PairPrefetcher` renders the two clips of a pair frame by frame,
left and right in turn, into a :class:`PreparedPair` the window already holds: the window
can start playing once :meth:`PreparedPair.playable` says the rest will arrive in time
(:func:`human_ui.playback.can_start`), and until then shows each clip's first frame, held
still, under a progress bar.

Classes:
    PreparedPair: a pair's frames as surfaces (complete, or growing), plus the teaching numbers.

Functions:
    fit_size: the largest size of a given aspect ratio inside a box.
    to_surface: an rgb frame as a pygame surface.

Attributes:
    MUJOCO_ASPECT: the range of aspect ratios MuJoCo frames take.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pygame

from human_ui.playback import can_start
from human_ui.teaching import TeachingInfo

MUJOCO_ASPECT = (1.0, 1.6)
"""MuJoCo frames take the clip box's aspect ratio (width / height), clamped to this range."""


def fit_size(aspect: float, box: tuple[int, int]) -> tuple[int, int]:
    """The largest ``(width, height)`` with ``width / height == aspect`` inside ``box``.

    Example:
        >>> fit_size(1.5, (600, 300)), fit_size(1.0, (600, 300))
        ((450, 300), (300, 300))
    """
    box_w, box_h = max(1, int(box[0])), max(1, int(box[1]))
    if box_w / box_h > aspect:
        return max(1, round(box_h * aspect)), box_h
    return box_w, max(1, round(box_w / aspect))


def to_surface(frame: np.ndarray) -> pygame.Surface:
    """A ``(H, W, 3)`` uint8 frame as a pygame surface (no display needed)."""
    frame = np.ascontiguousarray(frame, dtype=np.uint8)
    return pygame.image.frombuffer(frame.tobytes(), (frame.shape[1], frame.shape[0]), "RGB")


@dataclass
class PreparedPair:
    """A pair to show; its frame lists grow while the prefetcher renders them.

    Attributes:
        query_id: the query.
        left: the left clip's frames rendered so far, surfaces of one size.
        right: the right clip's frames rendered so far.
        teaching: the reward model's view of the pair, when there is a model.
        teaching_note: why there is no ``teaching`` (or which model gave it).
        error: why the pair could not be rendered (then ``left`` and ``right`` are empty).
        num_bytes: pixel bytes held.
        left_total: frames the left clip will have (``-1``: ``len(left)``, all there).
        right_total: frames the right clip will have (``-1``: ``len(right)``).
        render_fps: frames of the pair (a left and a right frame) rendered per second, as
            measured while it renders (0 until measured, and for a pair that was complete).

    Example:
        >>> PreparedPair(3, [], [], error="no GL").ok
        False
        >>> growing = PreparedPair(4, [None] * 5, [None] * 4, left_total=11, right_total=11)
        >>> growing.num_frames, growing.rendered, growing.complete
        (11, 4, False)
        >>> growing.render_fps = 5.0
        >>> growing.playable(play_fps=30.0)  # 7 frames left at 4/s: playback would wait
        False
    """

    query_id: int
    left: list[pygame.Surface]
    right: list[pygame.Surface]
    teaching: TeachingInfo | None = None
    teaching_note: str = ""
    error: str | None = None
    num_bytes: int = field(default=0, repr=False)
    left_total: int = -1
    right_total: int = -1
    render_fps: float = 0.0
    _started: bool = field(default=False, repr=False)

    @property
    def ok(self) -> bool:
        """Whether the frames are (or are being) made."""
        return self.error is None

    def _totals(self) -> tuple[int, int]:
        left = len(self.left) if self.left_total < 0 else self.left_total
        right = len(self.right) if self.right_total < 0 else self.right_total
        return left, right

    @property
    def num_frames(self) -> int:
        """Frames of the longer clip, when all are rendered."""
        return max(*self._totals(), 0)

    @property
    def rendered(self) -> int:
        """Frames of the pair that can be shown: frame ``i`` of both clips is rendered, or
        held on a clip's last frame, for every ``i`` below this."""
        count = self.num_frames
        for frames, total in zip((self.left, self.right), self._totals(), strict=True):
            if len(frames) < total:
                count = min(count, len(frames))
        return count

    @property
    def complete(self) -> bool:
        """Whether every frame is rendered."""
        return self.rendered >= self.num_frames

    def playable(self, play_fps: float) -> bool:
        """Whether playback can start (or has started): every frame not rendered yet will be
        before playback reaches it at ``play_fps`` frames a second. Once true, stays true."""
        if not self._started and self.ok and self.rendered > 0:
            self._started = can_start(self.num_frames, self.rendered, self.render_fps, play_fps)
        return self._started

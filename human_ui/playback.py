"""Playback of a pair of clips: which frame is shown, paused or playing, at what speed.

The two clips of a pair play in sync and loop; after the last frame the picture holds for a
moment (``hold_s``) so the end of a clip can be seen, then playback starts again at frame 0.
Nothing here draws: the window asks :attr:`Playback.frame` what to show.

A pair may start playing while its later frames are still rendering, as a video stream
does: :func:`can_start` says when the frames rendered so far and the measured render rate
guarantee that every later frame is rendered before playback reaches it, and
:attr:`Playback.rendered` holds the position at the last rendered frame (counted in
:attr:`Playback.stalls`) should rendering fall behind anyway (a slower machine, a faster
speed chosen while it renders).

Classes:
    Playback: a looping frame position advanced by wall-clock time.

Functions:
    can_start: whether a partly rendered pair can play without ever waiting for a frame.

Attributes:
    SPEEDS: the playback speeds offered, slowest first (0.25x to 4x).
"""

from __future__ import annotations

from hfrl_gym.errors import ConfigError

SPEEDS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)

RATE_MARGIN = 1.5
""":func:`can_start` assumes rendering this many times slower than measured."""


def can_start(
    num_frames: int, rendered: int, render_fps: float, play_fps: float, margin: float = RATE_MARGIN
) -> bool:
    """Whether playback can start now and never reach a frame that is not rendered yet.

    Frame ``k`` is shown ``k / play_fps`` seconds after the start; rendering at
    ``render_fps / margin`` frames a second, frame ``k >= rendered`` is ready
    ``(k + 1 - rendered) * margin / render_fps`` seconds from now. Both are linear in ``k``, so
    the first and the last frame not rendered yet decide.

    Args:
        num_frames: frames in the pair (``T + 1`` of the longer clip).
        rendered: frames of the pair rendered so far (both clips), from frame 0.
        render_fps: measured frames of the pair rendered per second (0: not measured yet).
        play_fps: frames shown per second (clip frames per second times the speed).
        margin: how many times slower than measured rendering is assumed to be.

    Example:
        >>> can_start(51, 51, 0.0, 30.0)  # all rendered
        True
        >>> can_start(51, 2, 60.0, 30.0), can_start(51, 2, 10.0, 30.0)
        (True, False)
        >>> can_start(51, 40, 10.0, 30.0)  # 11 frames left at 6.7/s: 1.65 s, needed by 1.67 s
        True
    """
    if rendered >= num_frames:
        return True
    if rendered < 1 or render_fps <= 0:
        return False
    seconds_per_frame = margin / render_fps
    return all(
        (k + 1 - rendered) * seconds_per_frame <= k / play_fps for k in (rendered, num_frames - 1)
    )


class Playback:
    """A looping position over ``num_frames`` frames played at ``clip_fps * speed``.

    Args:
        num_frames: frames in the longer clip of the pair (``T + 1``), at least 1.
        clip_fps: clip frames per second at speed 1.
        hold_s: seconds the last frame stays on screen before the loop restarts.

    Example:
        >>> playback = Playback(num_frames=11, clip_fps=10.0)
        >>> playback.advance(0.55)
        >>> playback.frame
        5
        >>> playback.faster(); playback.speed
        2.0
        >>> playback.toggle_pause(); playback.step(-2); playback.frame
        3
    """

    def __init__(self, num_frames: int = 1, clip_fps: float = 30.0, hold_s: float = 0.5) -> None:
        if clip_fps <= 0:
            raise ConfigError(f"clip_fps must be > 0 frames per second, got {clip_fps}")
        if hold_s < 0:
            raise ConfigError(f"hold_s must be >= 0 seconds, got {hold_s}")
        self.clip_fps = float(clip_fps)
        self.hold_s = float(hold_s)
        self.speed_index = SPEEDS.index(1.0)
        self.paused = False
        self.num_frames = 1
        self.rendered = 1
        self.stalls = 0
        self._stalled = False
        self._position = 0.0  # in frames; may run past the last frame by the hold time
        self.reset(num_frames)

    def reset(self, num_frames: int, rendered: int | None = None) -> None:
        """Start a new pair of ``num_frames`` frames at frame 0 (speed and pause are kept).

        Args:
            num_frames: frames in the longer clip of the pair, at least 1.
            rendered: frames rendered so far (``None``: all of them); see :attr:`rendered`.
        """
        if num_frames < 1:
            raise ConfigError(f"num_frames must be at least 1, got {num_frames}")
        self.num_frames = int(num_frames)
        self.rendered = self.num_frames if rendered is None else rendered
        self._stalled = False
        self._position = 0.0

    @property
    def rendered(self) -> int:
        """Frames that can be shown (rendered so far); playback holds at the last of them."""
        return self._rendered

    @rendered.setter
    def rendered(self, num_frames: int) -> None:
        self._rendered = min(max(1, int(num_frames)), self.num_frames)

    @property
    def speed(self) -> float:
        """The playback speed, one of :data:`SPEEDS`."""
        return SPEEDS[self.speed_index]

    @property
    def frame(self) -> int:
        """Index of the frame to show, in ``[0, rendered)``."""
        return min(int(self._position), self.num_frames - 1, self.rendered - 1)

    @property
    def fraction(self) -> float:
        """Position as a fraction of the clip, in ``[0, 1]`` (for the scrubber)."""
        if self.num_frames == 1:
            return 0.0
        return self.frame / (self.num_frames - 1)

    def advance(self, dt_s: float) -> None:
        """Move on by ``dt_s`` seconds of wall-clock time (nothing happens while paused)."""
        if self.paused or dt_s <= 0:
            return
        self._position += dt_s * self.clip_fps * self.speed
        if self.rendered < self.num_frames and self._position >= self.rendered:
            self.stalls += not self._stalled  # one stall however many ticks it lasts
            self._stalled = True
            self._position = float(self.rendered - 1)
            return
        self._stalled = False
        loop_length = self.num_frames + self.hold_s * self.clip_fps * self.speed
        if self._position >= loop_length:
            self._position %= loop_length
            if self._position >= self.num_frames:  # a huge dt_s: land inside the clip
                self._position = 0.0

    def toggle_pause(self) -> None:
        """Pause or resume."""
        self.paused = not self.paused

    def step(self, num_frames: int) -> None:
        """Pause and move by ``num_frames`` frames (negative: back), wrapping around."""
        self.paused = True
        self._position = float(min((self.frame + num_frames) % self.num_frames, self.rendered - 1))

    def seek(self, fraction: float) -> None:
        """Jump to a fraction of the clip (clamped to ``[0, 1]``); playing continues."""
        fraction = min(max(float(fraction), 0.0), 1.0)
        self._position = float(min(round(fraction * (self.num_frames - 1)), self.rendered - 1))

    def restart(self) -> None:
        """Go back to frame 0."""
        self._position = 0.0

    def faster(self) -> None:
        """The next speed up (stays at the fastest)."""
        self.speed_index = min(self.speed_index + 1, len(SPEEDS) - 1)

    def slower(self) -> None:
        """The next speed down (stays at the slowest)."""
        self.speed_index = max(self.speed_index - 1, 0)

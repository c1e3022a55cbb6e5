"""Playback of a pair of clips: which frame is shown, paused or playing, at what speed.

The two clips of a pair play in sync and loop; after the last frame the picture holds for a
moment (``hold_s``) so the end of a clip can be seen, then playback starts again at frame 0.
Nothing here draws: the window asks :attr:`Playback.frame` what to show.

Classes:
    Playback: a looping frame position advanced by wall-clock time.

Attributes:
    SPEEDS: the playback speeds offered, slowest first (0.25x to 4x).
"""

from __future__ import annotations

from hfrl_gym.errors import ConfigError

SPEEDS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)


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
        self._position = 0.0  # in frames; may run past the last frame by the hold time
        self.reset(num_frames)

    def reset(self, num_frames: int) -> None:
        """Start a new pair of ``num_frames`` frames at frame 0 (speed and pause are kept)."""
        if num_frames < 1:
            raise ConfigError(f"num_frames must be at least 1, got {num_frames}")
        self.num_frames = int(num_frames)
        self._position = 0.0

    @property
    def speed(self) -> float:
        """The playback speed, one of :data:`SPEEDS`."""
        return SPEEDS[self.speed_index]

    @property
    def frame(self) -> int:
        """Index of the frame to show, in ``[0, num_frames)``."""
        return min(int(self._position), self.num_frames - 1)

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
        self._position = float((self.frame + num_frames) % self.num_frames)

    def seek(self, fraction: float) -> None:
        """Jump to a fraction of the clip (clamped to ``[0, 1]``); playing continues."""
        fraction = min(max(float(fraction), 0.0), 1.0)
        self._position = float(round(fraction * (self.num_frames - 1)))

    def restart(self) -> None:
        """Go back to frame 0."""
        self._position = 0.0

    def faster(self) -> None:
        """The next speed up (stays at the fastest)."""
        self.speed_index = min(self.speed_index + 1, len(SPEEDS) - 1)

    def slower(self) -> None:
        """The next speed down (stays at the slowest)."""
        self.speed_index = max(self.speed_index - 1, 0)

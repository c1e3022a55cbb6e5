"""What the prefetcher renders with: the renderer's protocol, the window's renderer, the rate.

Classes:
    FrameRenderer: what the prefetcher needs from a renderer.

Functions:
    window_renderer: the renderer the window uses (MuJoCo without multisampling).
    render_rate: the frames per second a render in progress can be counted on for.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from hfrl_gym.clips import Clip

RECENT_FRAMES = 16
"""The render rate is also measured over this many recent frames (the slower one counts)."""


class FrameRenderer(Protocol):
    """What the prefetcher needs from a renderer (:class:`hfrl_gym.render.ClipRenderer`).

    Example:
        >>> from hfrl_gym.render import ClipRenderer
        >>> renderer: FrameRenderer = ClipRenderer()
        >>> renderer.close()
    """

    def render_state(
        self, env_id: str, state: np.ndarray, width: int | None = None, height: int | None = None
    ) -> np.ndarray: ...

    def render_frames(
        self, clip: Clip, width: int | None = None, height: int | None = None
    ) -> np.ndarray: ...

    def close(self) -> None: ...


def window_renderer() -> FrameRenderer:
    """A :class:`~hfrl_gym.render.ClipRenderer` without MuJoCo's multisampling (2-2.5x
    faster in software OpenGL, the same picture at clip sizes)."""
    from hfrl_gym.render import ClipRenderer

    return ClipRenderer(multisample=False)


def render_rate(times: list[float], recent: int = RECENT_FRAMES) -> float:
    """Frames per second to count on: the slowest of the whole render so far, its last
    ``recent`` frames, and its longest gap between two of those frames (a busy machine renders
    in bursts), from the times each frame was done (``times[0]``: the start).

    Example:
        >>> round(render_rate([0.0, 0.1, 0.2, 0.3, 0.7], recent=2), 3)  # a 0.4 s gap
        2.5
    """
    gaps = np.diff(np.asarray(times[-recent - 1 :]))
    whole = (len(times) - 1) / max(times[-1] - times[0], 1e-6)
    return min(whole, len(gaps) / max(float(gaps.sum()), 1e-6), 1.0 / max(float(gaps.max()), 1e-6))

"""Frames of a clip, rendered from its simulator snapshots, and GIF/MP4 export.

A clip stores snapshots, not pixels; frames are made only for clips a person will see, by
restoring each snapshot into a render env and rendering it. Classic control envs render at
their own size (600x400 or 500x500) and are resized (Gymnasium draws some of their parts in
fixed pixels, so they cannot draw at another size; the resize costs about 3 ms of CPU a frame
at 600x400, twice the drawing); MuJoCo envs render at the size asked, never larger.
Resizing uses Pillow. MuJoCo's off-screen multisampling (4x) can be turned off for a window,
where it costs 2-2.5x the render time in software OpenGL for edges that look the same at clip
sizes (``ClipRenderer(multisample=False)``); videos keep it. Video encoding (imageio,
imageio-ffmpeg) is imported only when a video is written.

Classes:
    ClipRenderer: keeps render envs (one per env id and size) and renders clips and states.

Functions:
    render_clip: the frames of one clip (a one-off ``ClipRenderer``).
    side_by_side: two frame sequences next to each other, the shorter held on its last frame.
    write_video: frames to a GIF or MP4 file, chosen by suffix.
    video_target: check a video path (suffix, writable folder) before rendering.
    export_clip: render a clip or a pair and write it as a video.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

import gymnasium as gym
import numpy as np
from PIL import Image

from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.envs.snapshots import set_state
from hfrl_gym.envs.suite import get_spec, make_env
from hfrl_gym.errors import ConfigError, RenderError

VIDEO_SUFFIXES = (".gif", ".mp4")


def _check_size(width: int | None, height: int | None) -> None:
    for name, value in (("width", width), ("height", height)):
        if value is not None and value < 1:
            raise ConfigError(f"{name} must be a positive number of pixels, got {value!r}")


def _resize(frame: np.ndarray, width: int | None, height: int | None) -> np.ndarray:
    """Resize one ``(H, W, 3)`` uint8 frame; a missing side keeps the aspect ratio."""
    frame_height, frame_width = frame.shape[:2]
    if width is None and height is None:
        return frame
    if width is None:
        width = max(1, round(frame_width * height / frame_height))
    if height is None:
        height = max(1, round(frame_height * width / frame_width))
    if (width, height) == (frame_width, frame_height):
        return frame
    image = Image.fromarray(frame).resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.uint8)


class ClipRenderer:
    """Renders clips from their snapshots, keeping one render env per env id (and size).

    Render envs are made lazily in ``rgb_array`` mode. Classic control envs are kept one per
    id and their frames resized; MuJoCo envs render natively at the size asked, so one is
    kept per ``(id, width, height)`` (480x480 when no size is given; one missing side copies
    the other).

    Args:
        multisample: MuJoCo's 4x off-screen multisampling (the live env's look, bit for bit);
            ``False`` renders 2-2.5x faster without it (the comparison window).

    Example:
        >>> import numpy as np
        >>> from hfrl_gym.envs import get_state, make_env
        >>> env = make_env("hfrl/CartPole-v0")
        >>> _ = env.reset(seed=0)
        >>> with ClipRenderer() as renderer:
        ...     frame = renderer.render_state("hfrl/CartPole-v0", get_state(env), width=150)
        >>> frame.shape, frame.dtype
        ((100, 150, 3), dtype('uint8'))
    """

    def __init__(self, *, multisample: bool = True) -> None:
        self.multisample = multisample
        self._envs: dict[tuple[str, int | None, int | None], gym.Env] = {}

    def _render_env(
        self, env_id: str, width: int | None, height: int | None
    ) -> tuple[gym.Env, bool]:
        """The render env for ``env_id`` and whether its frames still need resizing."""
        spec = get_spec(env_id)
        if spec.mujoco:
            width = width if width is not None else height
            height = height if height is not None else width
            key = (env_id, width, height)
        else:
            key = (env_id, None, None)
        env = self._envs.get(key)
        if env is None:
            env = make_env(env_id, render_mode="rgb_array", width=key[1], height=key[2])
            if spec.mujoco and not self.multisample:  # read when the GL context is made
                env.unwrapped.model.vis.quality.offsamples = 0  # type: ignore[attr-defined]
            env.reset(seed=0)  # Gymnasium refuses to render before the first reset
            self._envs[key] = env
        return env, not spec.mujoco

    def _render(self, env: gym.Env, env_id: str) -> np.ndarray:
        frame = env.render()
        if not isinstance(frame, np.ndarray) or frame.ndim != 3:
            raise RenderError(f"{env_id} returned no rgb frame from render(); got {frame!r}")
        return np.array(frame[:, :, :3], dtype=np.uint8)

    def render_state(
        self,
        env_id: str,
        state: np.ndarray,
        width: int | None = None,
        height: int | None = None,
    ) -> np.ndarray:
        """Render one snapshot.

        Args:
            env_id: the suite id the snapshot comes from.
            state: ``(state_dim,)`` float64 snapshot.
            width: frame width in pixels (``None``: the env's own, or from ``height``).
            height: frame height in pixels (``None``: the env's own, or from ``width``).

        Returns:
            ``(H, W, 3)`` uint8 frame.

        Raises:
            UnknownEnvError: ``env_id`` is not in the suite.
            ClipShapeError: the snapshot does not fit the env.
            RenderError: no rendering backend works (for MuJoCo: what to set or install).
        """
        _check_size(width, height)
        env, needs_resize = self._render_env(env_id, width, height)
        set_state(env, state)
        frame = self._render(env, env_id)
        return _resize(frame, width, height) if needs_resize else frame

    def render_frames(
        self, clip: Clip, width: int | None = None, height: int | None = None
    ) -> np.ndarray:
        """All frames of a clip: each snapshot restored and rendered, or stored frames resized.

        Args:
            clip: a clip with ``states`` (or with ``frames``).
            width: frame width in pixels (``None``: the env's own, or from ``height``).
            height: frame height in pixels (``None``: the env's own, or from ``width``).

        Returns:
            ``(T+1, H, W, 3)`` uint8 frames aligned with ``clip.observations``.
        """
        _check_size(width, height)
        if clip.states is None:
            stored = clip.frames if clip.frames is not None else ()  # Clip holds one of them
            return np.stack([_resize(frame, width, height) for frame in stored])
        env, needs_resize = self._render_env(clip.env_id, width, height)
        frames = []
        for state in clip.states:
            set_state(env, state)
            frame = self._render(env, clip.env_id)
            frames.append(_resize(frame, width, height) if needs_resize else frame)
        return np.stack(frames)

    def close(self) -> None:
        """Close every render env (rendering again makes new ones)."""
        envs, self._envs = self._envs, {}
        for env in envs.values():
            env.close()

    def __enter__(self) -> ClipRenderer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def render_clip(clip: Clip, width: int | None = None, height: int | None = None) -> np.ndarray:
    """The ``(T+1, H, W, 3)`` uint8 frames of one clip (see :meth:`ClipRenderer.render_frames`)."""
    with ClipRenderer() as renderer:
        return renderer.render_frames(clip, width=width, height=height)


def _check_frames(frames: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(frames)
    if array.ndim != 4 or array.shape[0] < 1 or array.shape[3] != 3 or array.dtype != np.uint8:
        raise ConfigError(
            f"{name} must be uint8 frames of shape (N >= 1, H, W, 3), got "
            f"{array.dtype} {array.shape}"
        )
    return array


def side_by_side(left_frames: np.ndarray, right_frames: np.ndarray, gap_px: int = 8) -> np.ndarray:
    """Put two frame sequences next to each other, separated by a white gap.

    The shorter sequence holds its last frame until the longer ends; a shorter frame height
    is padded with white below.

    Args:
        left_frames: ``(N1, H1, W1, 3)`` uint8.
        right_frames: ``(N2, H2, W2, 3)`` uint8.
        gap_px: width of the gap in pixels.

    Returns:
        ``(max(N1, N2), max(H1, H2), W1 + gap_px + W2, 3)`` uint8 frames.

    Example:
        >>> import numpy as np
        >>> both = side_by_side(np.zeros((3, 4, 5, 3), np.uint8), np.zeros((2, 6, 5, 3), np.uint8))
        >>> both.shape
        (3, 6, 18, 3)
    """
    left = _check_frames(left_frames, "left_frames")
    right = _check_frames(right_frames, "right_frames")
    if gap_px < 0:
        raise ConfigError(f"gap_px must be >= 0, got {gap_px}")
    num_frames = max(left.shape[0], right.shape[0])
    height = max(left.shape[1], right.shape[1])
    out = np.full(
        (num_frames, height, left.shape[2] + gap_px + right.shape[2], 3), 255, dtype=np.uint8
    )
    for frames, column in ((left, 0), (right, left.shape[2] + gap_px)):
        held = np.concatenate(
            [frames, np.repeat(frames[-1:], num_frames - frames.shape[0], axis=0)]
        )
        out[:, : frames.shape[1], column : column + frames.shape[2]] = held
    return out


def write_video(path: str | Path, frames: np.ndarray, fps: int = 30) -> Path:
    """Write frames as a GIF (``.gif``, looping) or an H.264 MP4 (``.mp4``).

    MP4 frames with an odd width or height are padded by one pixel (H.264 needs even sizes).
    A GIF shows identical consecutive frames as one longer frame (Pillow merges them), so it
    may hold fewer frames than given while playing for the same time.

    Args:
        path: the file to write; its parent folders are created.
        frames: ``(N, H, W, 3)`` uint8 frames.
        fps: frames per second.

    Returns:
        The path written.

    Raises:
        ConfigError: another suffix, a folder that cannot be written, bad frames, or ``fps``
            < 1. The file is written under a temporary name and renamed when complete.
    """
    target = video_target(path)
    array = _check_frames(frames, "frames")
    if fps < 1:
        raise ConfigError(f"fps must be >= 1, got {fps}")
    import imageio.v2 as imageio  # video encoding only where a video is written

    temporary = target.with_name(f".{target.name}.writing{target.suffix}")
    try:
        if target.suffix.lower() == ".gif":
            imageio.mimsave(temporary, list(array), format="GIF", duration=1000.0 / fps, loop=0)
        else:
            pad_height, pad_width = array.shape[1] % 2, array.shape[2] % 2
            if pad_height or pad_width:
                pads = ((0, 0), (0, pad_height), (0, pad_width), (0, 0))
                array = np.pad(array, pads, mode="edge")
            with imageio.get_writer(
                temporary, format="FFMPEG", fps=fps, codec="libx264", macro_block_size=1, quality=8
            ) as writer:
                for frame in array:
                    writer.append_data(frame)
        os.replace(temporary, target)
    except OSError as error:
        raise ConfigError(
            f"cannot write video {target} ({error.strerror or error}); pass a path in a folder "
            "you can write, on a disk with space"
        ) from None
    finally:
        temporary.unlink(missing_ok=True)
    return target


def video_target(path: str | Path) -> Path:
    """``path`` as a video file to write: a ``.gif`` or ``.mp4`` in a writable folder.

    The folder is created when missing. Checked before any frame is rendered.

    Raises:
        ConfigError: another suffix, or a folder that cannot be made or written.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise ConfigError(
            f"cannot write video {str(target)!r}: use a .gif or .mp4 file name, got "
            f"{suffix or 'no suffix'!r}"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(
            f"cannot write video {target}: cannot make its folder ({error.strerror}); pass a "
            "path in a folder you can write"
        ) from None
    if target.is_dir() or not os.access(target.parent, os.W_OK | os.X_OK):
        raise ConfigError(
            f"cannot write video {target}: it is a folder, or {target.parent} is not writable; "
            "pass a path in a folder you can write"
        )
    return target


def export_clip(
    path: str | Path,
    clip_or_pair: Clip | ClipPair,
    width: int | None = None,
    height: int | None = None,
    fps: int = 30,
    renderer: ClipRenderer | None = None,
) -> Path:
    """Render a clip (or a pair, side by side) and write it as a GIF or MP4.

    Args:
        path: ``.gif`` or ``.mp4`` file to write.
        clip_or_pair: one clip, or a pair shown left and right.
        width: width of each clip's frames in pixels (``None``: the env's own).
        height: height of each clip's frames in pixels (``None``: the env's own).
        fps: frames per second.
        renderer: a renderer to reuse (its envs stay open); a one-off one if ``None``.

    Returns:
        The path written.
    """
    video_target(path)  # before rendering: a path that cannot be written is refused at once
    own = renderer is None
    active = ClipRenderer() if renderer is None else renderer
    try:
        if isinstance(clip_or_pair, ClipPair):
            frames = side_by_side(
                active.render_frames(clip_or_pair.left, width, height),
                active.render_frames(clip_or_pair.right, width, height),
            )
        else:
            frames = active.render_frames(clip_or_pair, width, height)
    finally:
        if own:
            active.close()
    return write_video(path, frames, fps=fps)

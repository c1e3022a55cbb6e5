"""Clips encoded as WebM videos, in a worker process of the label server.

The label server renders clips from their snapshots (:class:`hfrl_gym.render.ClipRenderer`)
in worker processes started with ``spawn``: rendering holds the CPU (and classic control's
renderer loads pygame), so it stays out of the server's process, whose threads answer
requests. This module imports neither the web framework nor anything of the windows.

The format is WebM with VP8 (libvpx, in imageio-ffmpeg's ffmpeg), ``yuv420p``, no audio:
Chromium and Firefox play it without plugins. A video is written under a temporary name and
renamed into place (atomic), so a reader never sees half of one.

Functions:
    render_webm: render one clip of a store and write it as a WebM file.
    env_geometry: the frame size and frame rate of an env's videos.
    exit_with_parent: a worker's initializer: the worker ends when the server is gone.
"""

from __future__ import annotations

import os
import threading
import time
from functools import cache
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from hfrl_gym.envs import get_state, make_env
from hfrl_gym.render import ClipRenderer
from hfrl_gym.store import LabelStore

_stores: dict[str, LabelStore] = {}
ENCODER_OPTIONS = [
    "-b:v", "400k", "-deadline", "realtime", "-cpu-used", "16", "-threads", "1", "-an",
]  # fmt: skip
"""libvpx settings: one thread (its threads cost 20x on a busy machine: 0.1-0.2 s a 51-frame
clip with one, 1.5-5.5 s without, measured here beside training), real-time speed; 400 kb/s
is plenty for 320 px of simple scenes."""


def exit_with_parent(parent_pid: int, every_s: float = 1.0) -> None:
    """A render worker's initializer: end the worker once the server that started it is gone.

    A server killed outright (SIGKILL) cannot stop its pool, and its workers would wait for
    work forever; each worker looks at its parent every ``every_s`` seconds instead.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(every_s)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


@cache
def _renderer() -> ClipRenderer:
    return ClipRenderer(multisample=False)


@cache
def _fps(env_id: str) -> int:
    env = make_env(env_id)
    try:
        fps = env.metadata.get("render_fps") or 30
    finally:
        env.close()
    return int(fps)


def _store(path: str) -> LabelStore:
    if path not in _stores:
        _stores[path] = LabelStore(path, create=False)
    return _stores[path]


def _even(frames: np.ndarray) -> np.ndarray:
    """Frames cropped to even sides (``yuv420p`` needs them)."""
    height, width = frames.shape[1] // 2 * 2, frames.shape[2] // 2 * 2
    return np.ascontiguousarray(frames[:, :height, :width])


def write_webm(path: Path, frames: np.ndarray, fps: int) -> None:
    """Write ``(N, H, W, 3)`` uint8 frames (even sides) as a VP8 WebM file, atomically."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp.webm")
    writer = imageio_ffmpeg.write_frames(
        str(temporary),
        (frames.shape[2], frames.shape[1]),
        fps=fps,
        codec="libvpx",
        pix_fmt_out="yuv420p",
        macro_block_size=2,
        output_params=ENCODER_OPTIONS,
    )
    writer.send(None)
    for frame in frames:
        writer.send(frame)
    writer.close()
    os.replace(temporary, path)


def render_webm(store_path: str, uid: str, out_path: str, width: int) -> tuple[int, int, int]:
    """Render clip ``uid`` of the store at ``width`` px and write it to ``out_path``.

    Returns:
        ``(width, height, fps)`` of the video.
    """
    clip = _store(store_path).get_clip(uid)
    frames = _even(_renderer().render_frames(clip, width=width))
    fps = _fps(clip.env_id)
    write_webm(Path(out_path), frames, fps)
    return frames.shape[2], frames.shape[1], fps


def env_geometry(env_id: str, width: int) -> tuple[int, int, int]:
    """``(width, height, fps)`` of the videos of ``env_id`` rendered ``width`` px wide."""
    env = make_env(env_id)
    try:
        env.reset(seed=0)
        frame = _renderer().render_state(env_id, get_state(env), width=width)
    finally:
        env.close()
    return frame.shape[1] // 2 * 2, frame.shape[0] // 2 * 2, _fps(env_id)

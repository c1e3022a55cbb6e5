"""Render upcoming pairs in a background thread, so an answer never waits for rendering.

MuJoCo renders about 100-160 ms a frame in software here, so a 50-step pair takes seconds.
The window tells a :class:`PairPrefetcher` which queries it will show next (most urgent
first); one background thread renders them, frame by frame, into pygame surfaces, and keeps
a few finished pairs (the shown one, the upcoming ones, the last answered for undo). A pair
that stops being wanted while it renders is abandoned. The thread runs at a lower CPU
priority (``nice`` 10, inherited by MuJoCo's software-rendering threads), so playback stays
smooth and rendering uses the spare CPU.

The render env lives in that thread (GL contexts belong to the thread that made them), so
MuJoCo must use a thread-safe off-screen backend (``MUJOCO_GL=egl`` or ``osmesa``). Call
``pygame.init()`` (or at least ``pygame.display.init()``) in the main thread before the
first classic-control render, which initialises pygame from this thread otherwise.

Classes:
    PreparedPair: a pair's frames as surfaces, plus the teaching overlay's numbers.
    PairPrefetcher: the background renderer.

Functions:
    fit_size: the largest size of a given aspect ratio inside a box.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pygame

from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.envs import get_spec
from human_ui.teaching import TeachingInfo, TeachingModel

MUJOCO_ASPECT = (1.0, 1.6)
"""MuJoCo frames take the clip box's aspect ratio (width / height), clamped to this range."""


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


def _default_renderer() -> FrameRenderer:
    from hfrl_gym.render import ClipRenderer

    return ClipRenderer()


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
    """A pair ready to show.

    Attributes:
        query_id: the query.
        left: the left clip's frames, ``T_left + 1`` surfaces of one size.
        right: the right clip's frames.
        teaching: the reward model's view of the pair, when there is a model.
        teaching_note: why there is no ``teaching`` (or which model gave it).
        error: why the pair could not be rendered (then ``left`` and ``right`` are empty).

    Example:
        >>> PreparedPair(3, [], [], error="no GL").ok
        False
    """

    query_id: int
    left: list[pygame.Surface]
    right: list[pygame.Surface]
    teaching: TeachingInfo | None = None
    teaching_note: str = ""
    error: str | None = None
    num_bytes: int = field(default=0, repr=False)

    @property
    def ok(self) -> bool:
        """Whether the frames are there."""
        return self.error is None


class _AbandonedError(Exception):
    """The pair being rendered is no longer wanted."""


class PairPrefetcher:
    """Renders wanted pairs in one background thread, most urgent first.

    Args:
        load_pair: ``query_id -> ClipPair`` (called in the background thread).
        make_renderer: makes the renderer, in the background thread.
        teaching: explains pairs for the teaching overlay (``None``: no overlay numbers).
        max_pairs: finished pairs kept; the least recently wanted are dropped first.

    Example:
        >>> import numpy as np
        >>> from hfrl_gym.recording import record_random_clips
        >>> a, b = record_random_clips("hfrl/CartPole-v0", num_clips=2, clip_num_steps=3, seed=0)
        >>> prefetcher = PairPrefetcher({7: ClipPair(a, b, 7)}.__getitem__)
        >>> prefetcher.want([7], box=(90, 90))
        >>> ready = prefetcher.wait(7, timeout_s=30)
        >>> len(ready.left), ready.left[0].get_size()
        (4, (90, 60))
        >>> prefetcher.close()
    """

    def __init__(
        self,
        load_pair: Callable[[int], ClipPair],
        *,
        make_renderer: Callable[[], FrameRenderer] = _default_renderer,
        teaching: TeachingModel | None = None,
        max_pairs: int = 6,
    ) -> None:
        self._load_pair = load_pair
        self._make_renderer = make_renderer
        self._teaching = teaching
        self.max_pairs = max(1, max_pairs)
        self._cond = threading.Condition()
        self._wanted: list[int] = []
        self._box = (320, 240)
        self._done: OrderedDict[int, PreparedPair] = OrderedDict()
        self._progress: dict[int, tuple[int, int]] = {}
        self._aspects: dict[str, float] = {}
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="hfrl-prefetch", daemon=True)
        self._thread.start()

    # -- main thread ---------------------------------------------------------------------

    def want(self, query_ids: Sequence[int], box: tuple[int, int]) -> None:
        """Say which pairs will be shown next (most urgent first) and the clip box size."""
        with self._cond:
            wanted = list(dict.fromkeys(int(q) for q in query_ids))
            if wanted == self._wanted and box == self._box:
                return
            self._wanted, self._box = wanted, (max(1, box[0]), max(1, box[1]))
            for query_id in reversed(wanted):
                if query_id in self._done:
                    self._done.move_to_end(query_id)
            self._cond.notify_all()

    def get(self, query_id: int) -> PreparedPair | None:
        """The finished pair, or ``None`` while it is not rendered yet."""
        with self._cond:
            return self._done.get(query_id)

    def progress(self, query_id: int) -> tuple[int, int]:
        """``(frames rendered, frames in the pair)`` of a pair being rendered (0, 0 if not)."""
        with self._cond:
            return self._progress.get(query_id, (0, 0))

    def wait(self, query_id: int, timeout_s: float) -> PreparedPair | None:
        """Block until the pair is finished (it must be wanted), or ``timeout_s`` passes."""
        with self._cond:
            self._cond.wait_for(lambda: query_id in self._done or self._closing, timeout_s)
            return self._done.get(query_id)

    def close(self) -> None:
        """Stop the thread (after the frame it is rendering) and drop every pair."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout=30)
        with self._cond:
            self._done.clear()

    # -- background thread ---------------------------------------------------------------

    def _next_job(self) -> tuple[int, tuple[int, int]] | None:
        for query_id in self._wanted:
            if query_id not in self._done:
                return query_id, self._box
        return None

    def _run(self) -> None:
        renderer: FrameRenderer | None = None
        if hasattr(os, "setpriority"):  # the window first: render with the spare CPU
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        try:
            while True:
                with self._cond:
                    self._cond.wait_for(lambda: self._closing or self._next_job() is not None)
                    if self._closing:
                        return
                    job = self._next_job()
                if job is None:
                    continue
                query_id, box = job
                try:
                    renderer = renderer or self._make_renderer()
                    prepared = self._prepare(renderer, query_id, box)
                except _AbandonedError:
                    continue
                except Exception as error:  # shown in the window instead of killing the thread
                    prepared = PreparedPair(query_id, [], [], error=f"{error}")
                self._finish(prepared)
        finally:
            if renderer is not None:
                renderer.close()

    def _finish(self, prepared: PreparedPair) -> None:
        with self._cond:
            self._progress.pop(prepared.query_id, None)
            self._done[prepared.query_id] = prepared
            wanted = set(self._wanted)
            for query_id in list(self._done):
                if len(self._done) <= self.max_pairs:
                    break
                if query_id not in wanted:
                    del self._done[query_id]
            self._cond.notify_all()

    def _still_wanted(self, query_id: int, done: int, total: int) -> None:
        with self._cond:
            if self._closing or query_id not in self._wanted:
                self._progress.pop(query_id, None)
                raise _AbandonedError
            self._progress[query_id] = (done, total)

    def _size(self, renderer: FrameRenderer, clip: Clip, box: tuple[int, int]) -> tuple[int, int]:
        if clip.states is None:
            frames = clip.frames if clip.frames is not None else np.zeros((1, 3, 4, 3))
            return fit_size(frames.shape[2] / frames.shape[1], box)
        if get_spec(clip.env_id).mujoco:
            low, high = MUJOCO_ASPECT
            return fit_size(min(max(box[0] / box[1], low), high), box)
        if clip.env_id not in self._aspects:
            frame = renderer.render_state(clip.env_id, clip.states[0])
            self._aspects[clip.env_id] = frame.shape[1] / frame.shape[0]
        return fit_size(self._aspects[clip.env_id], box)

    def _prepare(
        self, renderer: FrameRenderer, query_id: int, box: tuple[int, int]
    ) -> PreparedPair:
        pair = self._load_pair(query_id)
        total = pair.left.num_steps + pair.right.num_steps + 2
        sides: list[list[pygame.Surface]] = []
        num_bytes = 0
        for clip in (pair.left, pair.right):
            width, height = self._size(renderer, clip, box)
            surfaces: list[pygame.Surface] = []
            if clip.states is None:
                self._still_wanted(query_id, len(sides) * (total // 2), total)
                surfaces = [to_surface(f) for f in renderer.render_frames(clip, width, height)]
            else:
                for state in clip.states:
                    done = sum(len(side) for side in sides) + len(surfaces)
                    self._still_wanted(query_id, done, total)
                    frame = renderer.render_state(clip.env_id, state, width, height)
                    surfaces.append(to_surface(frame))
            num_bytes += sum(s.get_width() * s.get_height() * 3 for s in surfaces)
            sides.append(surfaces)
        info, note = None, ""
        if self._teaching is not None:
            try:
                info = self._teaching.explain(pair)
                note = self._teaching.note
            except Exception as error:  # the overlay says why instead of losing the frames
                note = f"reward model failed on this pair: {error}"
        return PreparedPair(query_id, sides[0], sides[1], info, note, num_bytes=num_bytes)

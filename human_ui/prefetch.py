"""Render upcoming pairs in a background thread, so an answer never waits for rendering.

The window tells a :class:`PairPrefetcher` which queries it will show next (most urgent
first) and the size it shows clips at; one background thread renders them at that size,
frame by frame, left and right in turn, into :class:`~human_ui.prepared.PreparedPair` s the
window can already hold: playback starts once the frames rendered so far and the measured
render rate guarantee the rest arrives in time (:meth:`PreparedPair.playable`). A few pairs
are kept in memory (the shown one, the upcoming ones, the last answered for undo), within
``max_pairs`` and ``max_bytes``; a pair that stops being wanted while it renders is abandoned.

With a :class:`~hfrl_gym.frame_cache.FrameCache`, finished clips are written to disk, a
wanted clip found there is read instead of rendered, and when nothing wanted needs work the
thread renders ahead into the cache every query ``ahead()`` names (all pending queries, in the
order they will be shown), so a burst of answers finds its pairs on disk.

The thread runs at the window's CPU priority by default (``nice``: 0 more). It used to run at
``nice`` 10 to keep the window's frame times even, but beside a training run (``nice`` 0) that
left it a tenth of the CPU training got, and pairs took many seconds to appear; a window frame
drawn a few milliseconds late costs a person less than a pair that does not come. It is a
thread, not a process: MuJoCo and pygame release the GIL while they draw, and the window's
loop is idle most of a frame (docs/BENCHMARKS.md, desktop window).

The render env lives in that thread (GL contexts belong to the thread that made them), so
MuJoCo must use a thread-safe off-screen backend (``MUJOCO_GL=egl`` or ``osmesa``). Call
``pygame.init()`` (or at least ``pygame.display.init()``) in the main thread before the
first classic-control render, which initialises pygame from this thread otherwise.

Classes:
    PairPrefetcher: the background renderer.

Functions:
    store_prefetcher: the window's prefetcher on a store, with its frame cache and ahead list.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np
import pygame

from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.envs import get_spec
from hfrl_gym.errors import ConfigError
from hfrl_gym.frame_cache import FrameCache, cache_folder_for
from hfrl_gym.store import LabelStore
from human_ui.frame_source import FrameRenderer, render_rate, window_renderer
from human_ui.prepared import MUJOCO_ASPECT, PreparedPair, fit_size, to_surface
from human_ui.teaching import TeachingInfo, TeachingModel

__all__ = [
    "MUJOCO_ASPECT",
    "FrameRenderer",
    "PairPrefetcher",
    "PreparedPair",
    "fit_size",
    "store_prefetcher",
    "to_surface",
    "window_renderer",
]

AHEAD_POLL_S = 1.0
"""Seconds between calls of ``ahead()`` while the thread has nothing else to do."""

AHEAD_QUERIES = 64
"""Pending queries :func:`store_prefetcher` renders ahead into the cache, at most."""


class _AbandonedError(Exception):
    """The pair being rendered is no longer wanted."""


class PairPrefetcher:
    """Renders wanted pairs in one background thread, most urgent first.

    Args:
        load_pair: ``query_id -> ClipPair`` (called in the background thread).
        make_renderer: makes the renderer, in the background thread.
        teaching: explains pairs for the teaching overlay (``None``: no overlay numbers).
        max_pairs: pairs kept in memory; the least recently wanted are dropped first.
        max_bytes: pixel bytes kept in memory, beyond the wanted pairs.
        cache: rendered clips on disk, read before rendering and written after.
        ahead: the queries to render into ``cache`` when nothing wanted needs work, soonest
            needed first (called in the background thread; ignored without ``cache``).
        nice: how much lower than the window's the thread's CPU priority is (0: the same).

    Example:
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
        make_renderer: Callable[[], FrameRenderer] = window_renderer,
        teaching: TeachingModel | None = None,
        max_pairs: int = 6,
        max_bytes: int = 512 * 2**20,
        cache: FrameCache | None = None,
        ahead: Callable[[], Sequence[int]] | None = None,
        nice: int = 0,
    ) -> None:
        self.nice = max(0, nice)
        self._load_pair = load_pair
        self._make_renderer = make_renderer
        self._teaching = teaching
        self.max_pairs = max(1, max_pairs)
        self.max_bytes = max(1, max_bytes)
        self.cache = cache
        self._ahead = ahead if cache is not None else None
        self._cond = threading.Condition()
        self._wanted: list[int] = []
        self._box = (320, 240)
        self._box_known = False  # nothing is rendered ahead before the window says its size
        self._done: OrderedDict[int, PreparedPair] = OrderedDict()
        self._partial: dict[int, PreparedPair] = {}
        self._progress: dict[int, tuple[int, int]] = {}
        self._aspects: dict[str, float] = {}
        self._ahead_checked: set[tuple[int, tuple[int, int]]] = set()
        self._next_ahead_poll = 0.0
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
            self._box_known = True
            for query_id in reversed(wanted):
                if query_id in self._done:
                    self._done.move_to_end(query_id)
            self._cond.notify_all()

    def get(self, query_id: int) -> PreparedPair | None:
        """The finished pair, or ``None`` while it is not completely rendered."""
        with self._cond:
            return self._done.get(query_id)

    def peek(self, query_id: int) -> PreparedPair | None:
        """The pair, finished or still rendering (its frame lists grow), or ``None``."""
        with self._cond:
            return self._done.get(query_id) or self._partial.get(query_id)

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
            self._partial.clear()

    # -- background thread ---------------------------------------------------------------

    def _next_job(self) -> tuple[int, tuple[int, int]] | None:
        for query_id in self._wanted:
            if query_id not in self._done:
                return query_id, self._box
        return None

    def _has_work(self) -> bool:
        if self._closing or self._next_job() is not None:
            return True
        if self._ahead is None or not self._box_known:
            return False
        return time.monotonic() >= self._next_ahead_poll

    def _run(self) -> None:
        renderer: FrameRenderer | None = None
        if self.nice > 0 and hasattr(os, "setpriority"):  # MuJoCo's GL threads inherit it
            with contextlib.suppress(OSError):
                niceness = os.getpriority(os.PRIO_PROCESS, 0) + self.nice
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
        try:
            while True:
                with self._cond:
                    timeout = None
                    if self._ahead is not None and self._box_known:
                        timeout = max(0.0, self._next_ahead_poll - time.monotonic())
                    if not self._cond.wait_for(self._has_work, timeout):
                        continue
                    if self._closing:
                        return
                    job = self._next_job()
                if job is None:
                    try:
                        renderer = renderer or self._make_renderer()
                        self._render_ahead(renderer)
                    except Exception:  # ahead is a bonus: the wanted pair reports the error
                        self._next_ahead_poll = time.monotonic() + 30 * AHEAD_POLL_S
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
            self._partial.pop(prepared.query_id, None)
            self._done[prepared.query_id] = prepared
            wanted = set(self._wanted)
            held = sum(pair.num_bytes for pair in self._done.values())
            for query_id in list(self._done):
                if len(self._done) <= self.max_pairs and held <= self.max_bytes:
                    break
                if query_id not in wanted:
                    held -= self._done.pop(query_id).num_bytes
            self._cond.notify_all()

    def _still_wanted(self, query_id: int, done: int, total: int) -> None:
        with self._cond:
            if self._closing or query_id not in self._wanted:
                self._progress.pop(query_id, None)
                self._partial.pop(query_id, None)
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

    def _cached(self, clip: Clip, size: tuple[int, int]) -> np.ndarray | None:
        if self.cache is None or clip.states is None:
            return None
        return self.cache.get(clip.uid, *size)

    def _prepare(
        self, renderer: FrameRenderer, query_id: int, box: tuple[int, int]
    ) -> PreparedPair:
        pair = self._load_pair(query_id)
        clips = (pair.left, pair.right)
        sizes = [self._size(renderer, clip, box) for clip in clips]
        totals = [clip.num_steps + 1 for clip in clips]
        prepared = PreparedPair(query_id, [], [], left_total=totals[0], right_total=totals[1])
        prepared.teaching, prepared.teaching_note = self._explain(pair)
        to_render: list[tuple[list[pygame.Surface], Clip, tuple[int, int]]] = []
        for side, clip, size in zip((prepared.left, prepared.right), clips, sizes, strict=True):
            frames = self._cached(clip, size)
            if frames is None and clip.states is None:
                frames = renderer.render_frames(clip, *size)
            if frames is None:
                to_render.append((side, clip, size))
            else:
                side.extend(to_surface(frame) for frame in frames)
        with self._cond:
            self._partial[query_id] = prepared
        fresh = self._render_interleaved(renderer, prepared, to_render)
        if self.cache is not None:
            for (_, clip, _), frames in zip(to_render, fresh, strict=True):
                self.cache.put(clip.uid, np.stack(frames))
        surfaces = [*prepared.left, *prepared.right]
        prepared.num_bytes = sum(s.get_width() * s.get_height() * 3 for s in surfaces)
        return prepared

    def _render_interleaved(
        self,
        renderer: FrameRenderer,
        prepared: PreparedPair,
        jobs: list[tuple[list[pygame.Surface], Clip, tuple[int, int]]],
    ) -> list[list[np.ndarray]]:
        """Frame ``i`` of each clip in turn, so both clips grow together; the rate is measured.

        Returns the frames rendered, per job, when there is a cache to write them to.
        """
        rendered: list[list[np.ndarray]] = [[] for _ in jobs]
        total = prepared.num_frames * 2
        times = [time.perf_counter()]  # when each frame of the pair was done
        for index in range(prepared.num_frames):
            for (side, clip, (width, height)), frames in zip(jobs, rendered, strict=True):
                states = clip.states if clip.states is not None else ()
                if index >= len(states):
                    continue
                done = len(prepared.left) + len(prepared.right)
                self._still_wanted(prepared.query_id, done, total)
                frame = renderer.render_state(clip.env_id, states[index], width, height)
                if self.cache is not None:
                    frames.append(frame)
                side.append(to_surface(frame))
            times.append(time.perf_counter())
            prepared.render_fps = render_rate(times)
        return rendered

    def _explain(self, pair: ClipPair) -> tuple[TeachingInfo | None, str]:
        if self._teaching is None:
            return None, ""
        try:
            return self._teaching.explain(pair), self._teaching.note
        except Exception as error:  # the overlay says why instead of losing the frames
            return None, f"reward model failed on this pair: {error}"

    def _render_ahead(self, renderer: FrameRenderer) -> None:
        """Render into the cache the clips of ``ahead()`` not there yet, one clip at a time."""
        self._next_ahead_poll = time.monotonic() + AHEAD_POLL_S
        if self._ahead is None or self.cache is None:
            return
        with self._cond:
            box = self._box
            wanted = set(self._wanted)
        for query_id in self._ahead():
            if (query_id, box) in self._ahead_checked or query_id in wanted:
                continue
            pair = self._load_pair(query_id)
            for clip in (pair.left, pair.right):
                size = self._size(renderer, clip, box)
                if clip.states is None or (clip.uid, *size) in self.cache:
                    continue
                frames = []
                for state in clip.states:
                    with self._cond:
                        if self._closing or self._next_job() is not None:
                            return  # the window needs the thread: this clip is started again
                    frames.append(renderer.render_state(clip.env_id, state, *size))
                self.cache.put(clip.uid, np.stack(frames))
            self._ahead_checked.add((query_id, box))


def store_prefetcher(
    store: LabelStore,
    *,
    teaching: TeachingModel | None = None,
    max_pairs: int = 6,
    query_ids: Sequence[int] | None = None,
    annotator: str | None = None,
) -> PairPrefetcher:
    """The comparison window's prefetcher: pairs from ``store``, clips cached on disk beside it
    (:func:`~hfrl_gym.frame_cache.cache_folder_for`; no cache when that folder cannot be
    made), and the store's pending queries rendered ahead into the cache.

    Args:
        store: the open label store.
        teaching: explains pairs for the teaching overlay.
        max_pairs: pairs kept in memory.
        query_ids: render ahead only these queries (a training round); ``None``: all.
        annotator: render ahead the queries this annotator has not answered (``None``: the
            queries nobody answered).
    """
    try:
        cache: FrameCache | None = FrameCache(cache_folder_for(store.path))
    except ConfigError:
        cache = None

    def pending() -> list[int]:
        queries = store.pending_queries(
            annotator=annotator, limit=AHEAD_QUERIES, query_ids=query_ids
        )
        return [query.id for query in queries]

    return PairPrefetcher(
        store.pair, teaching=teaching, max_pairs=max_pairs, cache=cache, ahead=pending
    )

"""The clips' videos: a disk cache, rendering in worker processes, and rendering ahead.

:class:`ClipVideos` keeps one WebM file per clip in ``<store>.frames/web/`` (beside the
store's frame cache of the windows). A video asked for that is not there yet is rendered at
once by a worker process (:mod:`human_ui.server.render_job`); a thread renders the clips of
the pending queries ahead of demand, one per worker at a time, so the on-demand work never
queues behind more than one clip a worker. A clip never changes, so a video once written
is served as it is.

Classes:
    VideoInfo: what a client needs to lay a clip out before its video arrives.
    ClipVideos: the cache, the workers and the ahead-of-demand thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hfrl_gym.frame_cache import cache_folder_for
from hfrl_gym.store_codec import check_uid
from human_ui.server import render_job

VIDEO_WIDTH = 320
"""Width in pixels of every clip video (height by the env's aspect)."""


@dataclass(frozen=True)
class VideoInfo:
    """A clip video's frame size and rate."""

    width: int
    height: int
    fps: int


class ClipVideos:
    """WebM videos of a store's clips, rendered by worker processes and cached on disk.

    Args:
        store_path: the label store.
        pending: returns the uids of clips to render ahead (those of the pending queries).
        workers: worker processes (0: a thread of this process, for tests; it loads the
            renderers, pygame among them, into this process).
        ahead_every_s: seconds between looks for clips to render ahead (0: never).
    """

    def __init__(
        self,
        store_path: Path,
        pending: Callable[[], list[str]],
        *,
        workers: int = 1,
        ahead_every_s: float = 0.5,
    ) -> None:
        self.store_path = Path(store_path)
        self.folder = cache_folder_for(self.store_path, variant="web")
        self.folder.mkdir(parents=True, exist_ok=True)
        self._pending = pending
        self._lock = threading.Lock()
        self._jobs: dict[str, concurrent.futures.Future] = {}
        self._geometry: dict[str, VideoInfo] = {}
        self._workers = workers
        self._pool = self._new_pool()
        self._stop = threading.Event()
        self._ahead = None
        if ahead_every_s > 0:
            self._ahead = threading.Thread(
                target=self._render_ahead, args=(ahead_every_s,), daemon=True, name="videos"
            )
            self._ahead.start()

    def _new_pool(self) -> concurrent.futures.Executor:
        if self._workers < 1:  # in this process (tests): a thread
            return concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="render")
        context = multiprocessing.get_context("spawn")  # no fork of a threaded server
        return concurrent.futures.ProcessPoolExecutor(
            self._workers,
            mp_context=context,
            initializer=render_job.exit_with_parent,
            initargs=(os.getpid(),),
        )

    def _run(self, function: Callable, *args: object) -> concurrent.futures.Future:
        """Submit to the workers; a pool broken by a worker's crash is replaced once."""
        try:
            return self._pool.submit(function, *args)
        except concurrent.futures.process.BrokenProcessPool:
            self._pool = self._new_pool()
            return self._pool.submit(function, *args)

    def path(self, uid: str) -> Path:
        """The video file of a clip (``StoreError`` for an unsafe uid)."""
        return self.folder / f"{check_uid(uid)}-{VIDEO_WIDTH}.webm"

    def info(self, env_id: str) -> VideoInfo:
        """Frame size and rate of the videos of ``env_id`` (found once per env)."""
        if env_id not in self._geometry:
            job = self._run(render_job.env_geometry, env_id, VIDEO_WIDTH)
            self._geometry[env_id] = VideoInfo(*job.result())
        return self._geometry[env_id]

    def submit(self, uid: str) -> concurrent.futures.Future:
        """Render the clip's video unless a job for it runs already; its job."""
        with self._lock:
            job = self._jobs.get(uid)
            if job is None:
                job = self._run(
                    render_job.render_webm,
                    str(self.store_path),
                    uid,
                    str(self.path(uid)),
                    VIDEO_WIDTH,
                )
                self._jobs[uid] = job
                job.add_done_callback(lambda _, uid=uid: self._forget(uid))
            return job

    def _forget(self, uid: str) -> None:
        with self._lock:
            self._jobs.pop(uid, None)

    async def get(self, uid: str, timeout_s: float = 60.0) -> Path:
        """The clip's video file, rendered now if it is not cached (waits up to
        ``timeout_s``, without holding a thread of the server)."""
        path = self.path(uid)
        if not path.exists():
            job = asyncio.wrap_future(self.submit(uid))
            await asyncio.wait_for(job, timeout=timeout_s)
        return path

    def _render_ahead(self, every_s: float) -> None:
        failed: set[str] = set()  # not tried again ahead; on demand, with the error
        while not self._stop.wait(every_s):
            try:
                uids = self._pending()
            except Exception:  # the store busy or closing: look again later
                continue
            todo = [uid for uid in uids if uid not in failed and not self.path(uid).exists()]
            running: list[tuple[str, concurrent.futures.Future]] = []
            for uid in todo:  # as many in flight as there are workers: each busy, none queued
                if self._stop.is_set():
                    return
                running.append((uid, self.submit(uid)))
                if len(running) >= max(1, self._workers):
                    self._finish(running.pop(0), failed)
            for job in running:
                self._finish(job, failed)

    @staticmethod
    def _finish(job: tuple[str, concurrent.futures.Future], failed: set[str]) -> None:
        uid, future = job
        try:
            future.result()
        except Exception:
            failed.add(uid)

    def close(self) -> None:
        """Stop rendering ahead and end the worker processes."""
        self._stop.set()
        if self._ahead is not None:
            self._ahead.join(timeout=10.0)
        self._pool.shutdown(wait=False, cancel_futures=True)

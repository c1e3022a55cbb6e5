"""What the label server's routes share: the store, the class, the videos, the run folder.

Classes:
    ServerSettings: how ``hfrl serve`` was asked to run.
    ServerContext: the open store, class database and video cache of one server.

Functions:
    resolve_store: the store of a run folder or a store file.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hfrl_gym.errors import ConfigError
from hfrl_gym.run_status_poll import StatusPoller
from hfrl_gym.store import LabelStore
from hfrl_gym.store_leases import SHARED_ANSWERS_KEY
from human_ui.server.class_db import ClassDatabase, class_database_path
from human_ui.server.videos import ClipVideos

RUN_STORE = "store.sqlite"
DEFAULT_SHARED = (5, 2)
"""A new class asks two students for every 5th query, so that agreement is defined."""
AHEAD_QUERIES = 300
"""Pending queries (the first, by id: those leased next) whose clips are rendered ahead."""
STATUS_FIELDS = (
    "phase", "mode", "env_id", "round", "num_rounds", "refits", "labels_answered",
    "labels_budget", "pending_queries", "env_steps", "env_steps_budget", "message",
)  # fmt: skip
"""The fields of a run's status a student may see (status.json holds no return)."""


def resolve_store(target: Path) -> tuple[Path, Path | None]:
    """``(store file, run folder or None)`` of a run folder or a store file.

    Raises:
        ConfigError: neither a run folder with ``store.sqlite`` nor a file.
    """
    if target.is_dir():
        store = target / RUN_STORE
        if not store.is_file():
            raise ConfigError(
                f"{target} has no {RUN_STORE}; give a run folder of `hfrl train` or a store file"
            )
        return store, target
    if not target.is_file():
        raise ConfigError(f"{target} does not exist; give a run folder or a label store file")
    run = target.parent if (target.parent / "config.json").is_file() else None
    return target, run


@dataclass(frozen=True)
class ServerSettings:
    """How the server runs.

    Attributes:
        target: the run folder or store file given to ``hfrl serve``.
        token_days: days a student token stays valid.
        lease_s: lease length of a new class.
        render_workers: worker processes rendering clip videos.
        max_body_bytes: largest request body accepted.
        ahead_every_s: seconds between looks for clips to render ahead (0: never).
    """

    target: Path
    token_days: float = 7.0
    lease_s: float = 300.0
    render_workers: int = 1
    max_body_bytes: int = 64 * 1024
    ahead_every_s: float = 0.5


class ServerContext:
    """The open parts of one server (made when the app starts, closed when it stops)."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.store_path, self.run_folder = resolve_store(settings.target)
        self.store = LabelStore(self.store_path, create=False)
        if self.store.get_meta(SHARED_ANSWERS_KEY) is None:  # a class's first start
            self.store.set_shared_answers(*DEFAULT_SHARED)
        self.classes = ClassDatabase(class_database_path(self.store_path), lease_s=settings.lease_s)
        self.videos = ClipVideos(
            self.store_path,
            self._clips_ahead,
            workers=settings.render_workers,
            ahead_every_s=settings.ahead_every_s,
        )
        self._poller = None
        if self.run_folder is not None:
            self._poller = StatusPoller(self.run_folder, live_counts=self._live_counts)
        self._poll_lock = threading.Lock()
        threading.Thread(target=self._warm_up, daemon=True, name="warm-up").start()

    def _warm_up(self) -> None:
        """Start a render worker and measure the env's videos before the first student."""
        try:
            env_id = self.env_id()
            if env_id is not None:
                self.videos.info(env_id)
        except Exception:  # the same error comes again, to the request that needs it
            return

    def close(self) -> None:
        """Stop rendering and close the files."""
        self.videos.close()
        self.classes.close()
        self.store.close()

    def _live_counts(self) -> tuple[int, int]:
        counts = self.store.counts()
        return counts["answered"], counts["pending"]

    def _clips_ahead(self) -> list[str]:
        queries = self.store.pending_queries(limit=AHEAD_QUERIES)
        return [uid for query in queries for uid in (query.left_uid, query.right_uid)]

    def env_id(self) -> str | None:
        """The env of the store's clips (the store's ``env_id`` meta, or its first clip's)."""
        env_id = self.store.get_meta("env_id")
        if isinstance(env_id, str):
            return env_id
        uids = self.store.clip_uids()[:1]
        return self.store.clip_kinds(uids)[uids[0]][0] if uids else None

    def goal_name(self) -> str:
        """The goal being taught: the store's ``goal`` meta, the run's, or ``task``."""
        goal = self.store.get_meta("goal")
        if not isinstance(goal, str) and self.run_folder is not None:
            config = self.run_folder / "config.json"
            try:
                goal = json.loads(config.read_text(encoding="utf-8")).get("goal")
            except (OSError, ValueError, AttributeError):
                goal = None
        return goal if isinstance(goal, str) and goal else "task"

    def run_view(self) -> tuple[dict[str, Any] | None, str]:
        """The run's status fields a student may see, and its line (``None``, "" without)."""
        if self._poller is None:
            return None, ""
        with self._poll_lock:
            view = self._poller.poll()
        if view is None:
            return None, ""
        fields = dataclasses.asdict(view.status)
        run = {name: fields[name] for name in STATUS_FIELDS}
        run["phase"] = view.status.phase.value
        run["ended"] = view.ended
        return run, view.text

    def student_token_s(self) -> float:
        """Seconds a new student token stays valid."""
        return self.settings.token_days * 86400.0

    @staticmethod
    def now() -> float:
        """Unix seconds."""
        return time.time()

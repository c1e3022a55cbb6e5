"""Reading a run's status file as it changes: the poll a window or the label server makes.

Classes:
    RunView: a status as a reader shows it: the line, whether the run has ended.
    StatusPoller: a reader's cheap poll (re-reads only when the file changed).

The file's format and its writer are :mod:`hfrl_gym.run_status`.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hfrl_gym.errors import ConfigError
from hfrl_gym.run_status import (
    Phase,
    RunStatus,
    describe,
    process_alive,
    read_status,
    status_path,
)


@dataclass(frozen=True)
class RunView:
    """A run's status as a reader shows it.

    Attributes:
        status: the last status read.
        alive: whether its process runs (``None``: unknown, another machine).
        text: the line to show (:func:`describe`, or why the file cannot be read).
        ended: the run has finished or stopped (or its process is gone).
    """

    status: RunStatus
    alive: bool | None
    text: str
    ended: bool

    @property
    def finished(self) -> bool:
        """Whether the run finished (spent its budgets)."""
        return self.status.phase is Phase.FINISHED


class StatusPoller:
    """Polls a run folder's status for a window: cheap enough to call every frame.

    The file is looked at (one ``stat``) at most every ``interval_s`` and read only when it
    changed; a damaged file keeps the last good status, with the reason in the text. A reader
    that has the run's store open passes ``live_counts``: the labels answered and pending are
    then the store's own, at each look, rather than those the training process wrote when its
    phase began (it writes no more while it waits for answers).

    Args:
        run_root: the run folder.
        interval_s: least seconds between two looks at the file.
        clock: monotonic seconds (tests pass a fake one).
        live_counts: ``() -> (queries answered, queries pending)`` from the run's store.

    Example:
        >>> import tempfile
        >>> from hfrl_gym.run_status import StatusWriter
        >>> root = Path(tempfile.mkdtemp())
        >>> poller = StatusPoller(root, interval_s=0)
        >>> poller.poll() is None
        True
        >>> StatusWriter(root, env_id="x", labels_budget=0, env_steps_budget=5).finish()
        >>> poller.poll().text
        'run finished · env steps 0/5'
    """

    def __init__(
        self,
        run_root: str | os.PathLike[str],
        *,
        interval_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        live_counts: Callable[[], tuple[int, int]] | None = None,
    ) -> None:
        self.run_root = Path(run_root)
        self.interval_s, self.clock, self.live_counts = interval_s, clock, live_counts
        self._looked = -float("inf")
        self._key: tuple[int, int, int] | None = None
        self._status: RunStatus | None = None
        self._error = ""
        self._view: RunView | None = None

    def poll(self) -> RunView | None:
        """The run's view now (``None`` while there is no status file)."""
        now = self.clock()
        if now - self._looked < self.interval_s:
            return self._view
        self._looked = now
        path = status_path(self.run_root)
        try:
            stat = path.stat()
        except OSError:
            self._key, self._status, self._view = None, None, None
            return None
        key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if key != self._key:
            self._key = key
            try:
                self._status, self._error = read_status(self.run_root), ""
            except ConfigError as error:
                self._error = str(error)
        status = self._status
        if status is None:
            return None
        if self.live_counts is not None and not status.phase.ended:
            answered, pending = self.live_counts()
            status = dataclasses.replace(status, labels_answered=answered, pending_queries=pending)
        alive = None if status.phase.ended else process_alive(status)
        text = describe(status, alive=alive)
        if self._error:
            text = f"{text} (status unreadable now: {self._error})"
        ended = status.phase.ended or alive is False
        self._view = RunView(status, alive, text, ended)
        return self._view

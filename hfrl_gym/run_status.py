"""A training run's status file: what the run is doing now, for windows and web pages.

Training writes ``status.json`` in its run folder whenever its phase changes (and, while PPO
runs, at most once a second with the env steps); readers poll it. It holds the run's progress
only: phase, round, refits, labels and env steps against their budgets. It never holds a
return, true or learned, nor anything else a student must not see: the label server of
issue 14 serves it to the people labelling, and the fields are fixed here, not free-form.

Format ``hfrl-run-status`` version 1, one JSON object::

    format, format_version   "hfrl-run-status", 1
    phase                    starting | recording | exploring | waiting | fitting |
                             training | evaluating | finished | stopped
    mode                     "sync" (rounds take turns) or "async" (PPO never waits)
    env_id                   the suite env
    round, num_rounds        the current round and the number of rounds (null in async mode)
    refits                   reward-model fits so far (earlier sessions of a resumed run too)
    labels_answered          queries answered so far; labels_budget: the run's label budget
    pending_queries          queries posted and not answered yet
    env_steps                env steps so far; env_steps_budget: the run's --steps
    message                  a line for people ("" or why the run stopped)
    pid, host                the training process and its machine
    started_at, updated_at   Unix times (seconds) of this session's start and of this write

The file is replaced atomically (a temporary file, then ``os.replace``), so a reader sees the
old status or the new one, never half of one. A reader refuses a newer ``format_version``;
fields it does not know are ignored.

Classes:
    Phase: what a run is doing.
    RunStatus: one status (validated on construction).
    StatusWriter: the writer's API (the synchronous loop and ``hfrl train --async`` call it).

Readers that poll (the window, the label server) use :mod:`hfrl_gym.run_status_poll`.

Functions:
    read_status: the status in a run folder, or ``None``.
    process_alive: whether the training process of a status still runs (this machine only).
    describe: the one-line text of a status.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hfrl_gym.errors import ConfigError

STATUS_FILE = "status.json"
FORMAT_NAME = "hfrl-run-status"
FORMAT_VERSION = 1


class Phase(enum.Enum):
    """What a run is doing."""

    STARTING = "starting"
    RECORDING = "recording"
    EXPLORING = "exploring"
    WAITING = "waiting"
    FITTING = "fitting"
    TRAINING = "training"
    EVALUATING = "evaluating"
    FINISHED = "finished"
    STOPPED = "stopped"

    @property
    def ended(self) -> bool:
        """Whether the run is over (finished or stopped)."""
        return self in (Phase.FINISHED, Phase.STOPPED)


_PHASE_TEXT = {
    Phase.STARTING: "starting",
    Phase.RECORDING: "recording clips of the policy",
    Phase.EXPLORING: "PPO exploring (before the first labels)",
    Phase.WAITING: "waiting for answers",
    Phase.FITTING: "fitting the reward model",
    Phase.TRAINING: "PPO training",
    Phase.EVALUATING: "evaluating and saving",
    Phase.FINISHED: "run finished",
    Phase.STOPPED: "run stopped",
}


@dataclass(frozen=True)
class RunStatus:
    """One status of a run (see the module docstring for each field).

    Example:
        >>> status = RunStatus(Phase.TRAINING, env_id="hfrl/CartPole-v0", round=1,
        ...                    num_rounds=4, refits=2, labels_answered=40, labels_budget=100,
        ...                    env_steps=12288, env_steps_budget=50000)
        >>> RunStatus.from_dict(status.to_dict()) == status
        True
        >>> describe(status)
        'PPO training · round 2/4 · 2 refits · labels 40/100 · env steps 12,288/50,000'
    """

    phase: Phase
    env_id: str
    mode: str = "sync"
    round: int | None = None
    num_rounds: int | None = None
    refits: int = 0
    labels_answered: int = 0
    labels_budget: int = 0
    pending_queries: int = 0
    env_steps: int = 0
    env_steps_budget: int = 0
    message: str = ""
    pid: int = 0
    host: str = ""
    started_at: float = 0.0
    updated_at: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.phase, Phase):
            raise ValueError(f"phase {self.phase!r} is not one of {[p.value for p in Phase]}")
        if self.mode not in ("sync", "async"):
            raise ValueError(f"mode {self.mode!r} is not sync or async")
        for name in ("env_id", "message", "host"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} {getattr(self, name)!r} is not a string")
        counts = ("refits", "labels_answered", "labels_budget", "pending_queries", "env_steps")
        for name in (*counts, "env_steps_budget", "pid"):
            _check_count(name, getattr(self, name))
        for name in ("round", "num_rounds"):
            if getattr(self, name) is not None:
                _check_count(name, getattr(self, name))
        for name in ("started_at", "updated_at"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} {value!r} is not a time >= 0")

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``status.json``."""
        fields = dataclasses.asdict(self)
        fields["phase"] = self.phase.value
        return {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **fields}

    @classmethod
    def from_dict(cls, data: Any) -> RunStatus:
        """Read a ``status.json`` object.

        Raises:
            ConfigError: not a run status, a newer format version, or a wrong field.
        """
        if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
            raise ConfigError(f"not an {FORMAT_NAME} file (its format field is missing)")
        version = data.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
            raise ConfigError(
                f"run status format version {version!r}; this hfrl_gym reads up to "
                f"{FORMAT_VERSION}: upgrade hfrl_gym"
            )
        known = {field.name for field in dataclasses.fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        try:
            values["phase"] = Phase(values.get("phase"))
            return cls(**values)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"the run status is damaged ({error})") from None


def _check_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} {value!r} is not a whole number >= 0")


def describe(status: RunStatus, *, alive: bool | None = True) -> str:
    """The status in one line, for the window's status line and the label server's page.

    Args:
        status: the status.
        alive: whether its process still runs (``None``: unknown, another machine); a run
            whose process is gone while its status says it runs is said to have stopped.

    Example:
        >>> status = RunStatus(Phase.WAITING, env_id="x", round=0, num_rounds=3,
        ...                    labels_budget=60, pending_queries=30, env_steps=1000,
        ...                    env_steps_budget=9000)
        >>> describe(status)
        'waiting for answers (30 pending) · round 1/3 · labels 0/60 · env steps 1,000/9,000'
        >>> describe(status, alive=False).split(" · ")[0]
        'run stopped (its training process is gone)'
    """
    phase = status.phase
    if alive is False and not phase.ended:
        head = "run stopped (its training process is gone)"
    else:
        head = _PHASE_TEXT[phase]
        if phase is Phase.WAITING:
            head += f" ({status.pending_queries} pending)"
        if phase is Phase.STOPPED and status.message:
            head += f": {status.message}"
    parts = [head]
    if status.round is not None and status.num_rounds:
        parts.append(f"round {min(status.round + 1, status.num_rounds)}/{status.num_rounds}")
    if status.refits:
        parts.append(f"{status.refits} refit{'s' if status.refits != 1 else ''}")
    if status.labels_budget:
        parts.append(f"labels {status.labels_answered}/{status.labels_budget}")
    parts.append(f"env steps {status.env_steps:,}/{status.env_steps_budget:,}")
    return " · ".join(parts)


def status_path(run_root: str | os.PathLike[str]) -> Path:
    """Where a run folder's status file is."""
    return Path(run_root) / STATUS_FILE


def read_status(run_root: str | os.PathLike[str]) -> RunStatus | None:
    """The status in a run folder, or ``None`` when it has none (yet).

    Raises:
        ConfigError: the file is unreadable, damaged or of a newer format, naming it.
    """
    path = status_path(run_root)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read {path} ({error})") from None
    try:
        return RunStatus.from_dict(json.loads(text))
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path} is not JSON ({error.msg})") from None
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


def process_alive(status: RunStatus) -> bool | None:
    """Whether the status's training process still runs; ``None`` if it is on another machine.

    Example:
        >>> process_alive(RunStatus(Phase.TRAINING, env_id="x", pid=os.getpid(),
        ...                         host=socket.gethostname()))
        True
    """
    if status.host != socket.gethostname() or status.pid <= 0:
        return None
    try:
        os.kill(status.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process of that number
        return True
    return True


class StatusWriter:
    """Writes a run's ``status.json``: phase changes at once, env steps at most once a second.

    The synchronous loop calls it through ``agents``' status hooks; an asynchronous loop calls
    :meth:`update` from the thread that owns the phase it reports. A status that cannot be
    written (a full disk) never stops the training: :attr:`write_error` says why.

    Args:
        run_root: the run folder.
        env_id: the suite env.
        labels_budget: the run's label budget (0: a baseline without labels).
        env_steps_budget: the run's env-step budget.
        num_rounds: the rounds of a synchronous run (``None`` in async mode).
        mode: ``"sync"`` or ``"async"``.
        heartbeat_s: least seconds between two :meth:`heartbeat` writes.
        clock: monotonic seconds (tests pass a fake one).

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> writer = StatusWriter(root, env_id="hfrl/CartPole-v0", labels_budget=10,
        ...                       env_steps_budget=1000, num_rounds=2)
        >>> writer.update(Phase.TRAINING, round_index=0, refits=1, env_steps=100)
        >>> read_status(root).refits, read_status(root).phase
        (1, <Phase.TRAINING: 'training'>)
    """

    def __init__(
        self,
        run_root: str | os.PathLike[str],
        *,
        env_id: str,
        labels_budget: int,
        env_steps_budget: int,
        num_rounds: int | None = None,
        mode: str = "sync",
        heartbeat_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = status_path(run_root)
        self.heartbeat_s, self.clock = heartbeat_s, clock
        self.status = RunStatus(
            Phase.STARTING,
            env_id=env_id,
            mode=mode,
            num_rounds=num_rounds,
            labels_budget=labels_budget,
            env_steps_budget=env_steps_budget,
            pid=os.getpid(),
            host=socket.gethostname(),
            started_at=time.time(),
        )
        self.write_error: str | None = None
        self._last_write = -float("inf")
        self.writes = 0

    def update(
        self,
        phase: Phase | None = None,
        *,
        round_index: int | None = None,
        refits: int | None = None,
        labels_answered: int | None = None,
        pending_queries: int | None = None,
        env_steps: int | None = None,
        message: str | None = None,
    ) -> None:
        """Change the given fields (``None``: keep) and write the status now."""
        changes: dict[str, Any] = {
            "phase": phase,
            "round": round_index,
            "refits": refits,
            "labels_answered": labels_answered,
            "pending_queries": pending_queries,
            "env_steps": env_steps,
            "message": message,
        }
        self.status = dataclasses.replace(
            self.status, **{key: value for key, value in changes.items() if value is not None}
        )
        self._write()

    def heartbeat(self, *, env_steps: int) -> None:
        """Note the env steps; written when ``heartbeat_s`` passed since the last write."""
        self.status = dataclasses.replace(self.status, env_steps=env_steps)
        if self.clock() - self._last_write >= self.heartbeat_s:
            self._write()

    def finish(self) -> None:
        """The run finished: its budgets are spent."""
        self.update(Phase.FINISHED, pending_queries=0, message="")

    def stop(self, message: str) -> None:
        """The run stopped before its end; ``message`` says why (and how to resume)."""
        self.update(Phase.STOPPED, message=message)

    def _write(self) -> None:
        self.status = dataclasses.replace(self.status, updated_at=time.time())
        text = json.dumps(self.status.to_dict(), indent=2) + "\n"
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as error:
            self.write_error = f"cannot write {self.path}: {error}"
            return
        self._last_write = self.clock()
        self.writes += 1

"""Simulated students: clients of the label server that label as a class of browsers would.

Each student is a thread on the standard library's HTTP client (``human_ui.server_client``,
neither pygame nor the web framework) and labels as the browser page does: lease a pair,
fetch both clips' videos, answer. What it answers is its chooser's: uniformly random verdicts
(:class:`RandomChooser`, the load benchmark ``scripts/bench_server.py``) or a B-Pref scripted
teacher judging the pair (:class:`TeacherChooser`, ``hfrl lesson live --dry-run``, where each
student has its own imperfection: :func:`class_presets`). Every reply a student gets is
searched for a true reward's traces (:data:`FORBIDDEN`).

The scripted teacher's eyes: a person judges the videos; a simulated one reads the two clips'
true rewards from the store file (same machine, its own read connection). What reaches the
server, and the training run through it, is only the verdict.

Classes:
    Tally: what one student saw.
    Chooser: the protocol of what a student answers.
    RandomChooser: left, right, equal or skip, uniformly.
    TeacherChooser: a B-Pref scripted teacher's verdict on the leased pair.
    SimulatedStudent: lease, fetch both videos, answer; at a pace or as fast as it can.

Functions:
    class_presets: the scripted teacher of each of a class's students.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from hfrl_gym.clips import ClipPair
from hfrl_gym.envs import get_goal
from hfrl_gym.store import LabelStore
from hfrl_gym.teachers import make_teacher
from human_ui.server_client import ServerClient, ServerRefusedError
from human_ui.source_errors import SourceError

FORBIDDEN = re.compile(rb'true_|"[a-z_]*(return|reward)[a-z_]*"\s*:', re.IGNORECASE)
"""A true reward's traces in a JSON body: ``true_...`` anywhere, or a key naming a return or a
reward."""
CHOICES = ("left", "right", "equal", "skip")
PRESET_CYCLE = ("oracle", "noisy", "mistake", "myopic")
"""The B-Pref teachers a simulated class is made of, in turn (docs/TEACHERS.md): rational,
Boltzmann-noisy, mistaken one answer in ten, and myopic."""


def class_presets(num_students: int) -> list[str]:
    """The scripted teacher of each of ``num_students`` students, the presets in turn.

    Example:
        >>> class_presets(6)
        ['oracle', 'noisy', 'mistake', 'myopic', 'oracle', 'noisy']
    """
    return [PRESET_CYCLE[i % len(PRESET_CYCLE)] for i in range(num_students)]


@dataclass
class Tally:
    """What one student saw (only its own thread writes it).

    Attributes:
        acknowledged: ``(answer id, query id)`` of each answer the server stored (201).
        answer_ms: milliseconds from sending an answer to its acknowledgement (paced).
        ready_ms: milliseconds from asking for a pair to having both its videos (paced).
        burst_answer_ms, burst_ready_ms: the same, while answering as fast as it can.
        empty_leases: leases that came back without a pair.
        refused: answers refused with 409 (the lease had expired).
        errors: other failures, one line each.
        forbidden: replies that held a true reward's traces (must stay empty).
    """

    acknowledged: list[tuple[int, int]] = field(default_factory=list)
    answer_ms: list[float] = field(default_factory=list)
    ready_ms: list[float] = field(default_factory=list)
    burst_answer_ms: list[float] = field(default_factory=list)
    burst_ready_ms: list[float] = field(default_factory=list)
    empty_leases: int = 0
    refused: int = 0
    errors: list[str] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)


class Chooser(Protocol):
    """What a simulated student answers to a leased pair."""

    def choose(self, pair: dict, rng: random.Random) -> str:
        """``left``, ``right``, ``equal`` or ``skip`` for the pair (the lease's JSON)."""
        ...

    def close(self) -> None:
        """Release what it holds (called by the student's thread when it ends)."""
        ...


class RandomChooser:
    """Left, right, equal or skip, uniformly (load tests: what is answered does not matter)."""

    def choose(self, pair: dict, rng: random.Random) -> str:
        """A uniformly random verdict."""
        return rng.choice(CHOICES)

    def close(self) -> None:
        """Nothing to release."""


class TeacherChooser:
    """A B-Pref scripted teacher (``make_teacher``) judging the leased pair by a goal.

    Args:
        store_path: the store the server serves (its clips' true rewards are the teacher's
            eyes; opened read-only in the student's thread, when first needed).
        env_id: the suite env of the clips.
        goal: the goal the teacher judges by.
        preset: ``oracle``, ``noisy``, ``mistake`` or ``myopic`` (the presets that need no
            threshold from the clips' returns).
        seed: the teacher's random source.
    """

    def __init__(self, store_path: Path, *, env_id: str, goal: str, preset: str, seed: int) -> None:
        self.store_path, self.preset = Path(store_path), preset
        self.teacher = make_teacher(
            preset, goal=get_goal(env_id, goal), rng=np.random.default_rng(seed)
        )
        self._store: LabelStore | None = None

    def choose(self, pair: dict, rng: random.Random) -> str:
        """The teacher's verdict on the pair's two clips."""
        if self._store is None:
            self._store = LabelStore(self.store_path, create=False)
        left, right = self._store.get_clips([pair["left"]["clip_uid"], pair["right"]["clip_uid"]])
        (answer,) = self.teacher.label([ClipPair(left, right, int(pair["query_id"]))])
        return answer.choice.value

    def close(self) -> None:
        """Close the store connection."""
        if self._store is not None:
            self._store.close()
            self._store = None


class SimulatedStudent(threading.Thread):
    """A simulated student: lease a pair, fetch both videos, answer; repeat until stopped.

    Args:
        client: the student's client (a joined token).
        name: the student's name (the store's annotator).
        chooser: what it answers.
        seed: its random source (pace, seconds reported, the random chooser).
        interval_s: seconds between answers (0: as fast as it can).
        seconds_per_label: ``(low, high)`` of the time it reports an answer took.
        fetch_videos: fetch both clips' videos before answering, as the page does.

    Attributes:
        counting: whether latencies are recorded now (a benchmark's warm-up is not).
        stop_at: ``time.monotonic()`` at which it stops (default: never; :meth:`stop`).
        tally: what it saw.
    """

    def __init__(
        self,
        client: ServerClient,
        name: str,
        *,
        chooser: Chooser,
        seed: int,
        interval_s: float = 2.0,
        seconds_per_label: tuple[float, float] = (1.0, 4.0),
        fetch_videos: bool = True,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.client, self.annotator, self.chooser = client, name, chooser
        self.rng = random.Random(seed)
        self.interval_s, self.seconds_per_label = interval_s, seconds_per_label
        self.fetch_videos = fetch_videos
        self.tally = Tally()
        self.counting = False
        self.stop_at = float("inf")
        self._stopped = threading.Event()

    def stop(self) -> None:
        """Stop after the request under way (the thread ends soon after)."""
        self._stopped.set()

    def _check(self, what: str, body: bytes) -> None:
        if FORBIDDEN.search(body):
            self.tally.forbidden.append(f"{what}: {body[:200]!r}")

    def _get(self, path: str) -> bytes:
        status, body, _ = self.client.request("GET", path)
        if status != 200:
            raise ServerRefusedError(status, body[:200].decode("utf-8", "replace"), f"GET {path}")
        return body

    def _next_pair(self) -> dict | None:
        start = time.perf_counter()
        status, body, _ = self.client.request("POST", "/leases", {"count": 1})
        self._check("POST /leases", body)
        if status != 200:
            raise ServerRefusedError(status, body[:200].decode(), "POST /leases")
        pairs = json.loads(body)["pairs"]
        if not pairs:
            self.tally.empty_leases += self.counting
            return None
        pair = pairs[0]
        if self.fetch_videos:
            for side in ("left", "right"):
                self._get(pair[side]["video_url"])
        if self.counting:
            ready = self.tally.ready_ms if self.interval_s else self.tally.burst_ready_ms
            ready.append(1000 * (time.perf_counter() - start))
        if self.rng.random() < 0.1:  # what a desktop window reads: searched too
            uid = pair["left"]["clip_uid"]
            self._check("GET snapshot", self._get(f"/clips/{uid}/snapshot"))
        return pair

    def _answer(self, pair: dict) -> None:
        body = {
            "query_id": pair["query_id"],
            "choice": self.chooser.choose(pair, self.rng),
            "confidence": None,
            "seconds": round(self.rng.uniform(*self.seconds_per_label), 2),
            "request_id": uuid.uuid4().hex,
        }
        start = time.perf_counter()
        status, reply, _ = self.client.request("POST", "/answers", body)
        elapsed_ms = 1000 * (time.perf_counter() - start)
        self._check("POST /answers", reply)
        if status == 201:
            data = json.loads(reply)
            self.tally.acknowledged.append((int(data["answer_id"]), int(data["query_id"])))
            if self.counting:
                times = self.tally.answer_ms if self.interval_s else self.tally.burst_answer_ms
                times.append(elapsed_ms)
        elif status == 409:
            self.tally.refused += 1
        else:
            self.tally.errors.append(f"answer {status}: {reply[:200]!r}")

    def _read_everything(self) -> None:
        """What else a student may read, searched for true rewards too."""
        for path in ("/me", "/task", "/status", "/answers/mine"):
            self._check(f"GET {path}", self._get(path))

    def _going(self) -> bool:
        return not self._stopped.is_set() and time.monotonic() < self.stop_at

    def run(self) -> None:
        try:
            self._read_everything()
            self._label()
            self._read_everything()
        except SourceError as error:
            self.tally.errors.append(f"{error}")
        finally:
            self.chooser.close()
            self.client.close()  # its kept-alive connection: the server's shutdown waits on it

    def _label(self) -> None:
        next_at = time.monotonic() + self.rng.uniform(0, self.interval_s)
        while self._going():
            try:
                pair = self._next_pair()
                if pair is None:
                    self._stopped.wait(0.5)
                    continue
                self._stopped.wait(max(0.0, next_at - time.monotonic()))
                if not self._going():
                    return
                self._answer(pair)
                next_at = max(next_at + self.interval_s, time.monotonic()) if self.interval_s else 0
            except SourceError as error:
                self.tally.errors.append(f"{error}")
                self._stopped.wait(0.5)

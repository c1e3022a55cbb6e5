"""A simulated person: a scripted teacher answering a store at a person's pace, in a thread.

Classes:
    PersonLog: what the simulated person saw: its answers and how long it waited for pairs.
    SimulatedPerson: answers the store's oldest pending query after a random 2-5 s "look",
        one at a time, in its own thread and with its own store connection.

It stands in for someone at ``hfrl label`` in the tests and the benchmark of ``hfrl train
--async`` (``scripts/bench_async.py``): like a window in another process, it knows nothing of
the trainer and meets it only through the store. The true reward reaches it (it is a
scripted teacher judging by a goal), never the agent.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from agents.answerers import ScriptedAnswerer
from hfrl_gym.store import LabelStore


@dataclass
class PersonLog:
    """What the simulated person did, for the benchmark.

    Attributes:
        answer_times: ``time.monotonic()`` of each answer committed.
        waits_s: seconds from each answer to the next pair being there to answer (the
            person's wait for a new pair), for every pair after the first.
        open_wait_s: seconds of the wait still going on when the person stopped (no pair
            came: the run posted its whole budget, or stopped), ``None`` when it was not
            waiting.
    """

    answer_times: list[float] = field(default_factory=list)
    waits_s: list[float] = field(default_factory=list)
    open_wait_s: float | None = None


class SimulatedPerson:
    """Answers a store's pending queries one by one, each after a random delay.

    Args:
        store_path: the store to answer (waited for until it exists).
        env_id: the suite env the clips come from.
        clip_num_steps: steps per clip (the teacher's thresholds scale with it).
        seconds_per_answer: ``(low, high)``: each answer takes a uniform draw from it.
        rng: the person's random source (delays and the teacher's choices).
        preset: the scripted teacher (``oracle`` by default).
        goal: the goal the teacher judges by.
        poll_s: seconds between looks at the store for a new pair.
        max_answers: stop answering after this many (a person who leaves); ``None``: no limit.

    Use: ``start()`` before (or after) the run makes its store; ``stop()`` returns the
    :class:`PersonLog`. ``scripts/bench_async.py`` and ``tests/agents/test_async_loop.py`` use
    it.
    """

    def __init__(
        self,
        store_path: Path,
        *,
        env_id: str,
        clip_num_steps: int,
        rng: np.random.Generator,
        seconds_per_answer: tuple[float, float] = (2.0, 5.0),
        preset: str = "oracle",
        goal: str = "task",
        poll_s: float = 0.02,
        max_answers: int | None = None,
    ) -> None:
        self.store_path, self.rng, self.poll_s = Path(store_path), rng, poll_s
        self.low_s, self.high_s = seconds_per_answer
        self.max_answers = max_answers
        self.answerer = ScriptedAnswerer(
            preset, env_id=env_id, goal=goal, clip_num_steps=clip_num_steps, rng=rng
        )
        self.log = PersonLog()
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="simulated-person", daemon=True)

    def start(self) -> SimulatedPerson:
        """Start answering in the background; returns ``self``."""
        self._thread.start()
        return self

    def stop(self) -> PersonLog:
        """Stop (an answer being looked at is not given) and return the log.

        Raises:
            RuntimeError: the person's thread failed (the cause chained).
        """
        self._stop.set()
        self._thread.join()
        if self.error is not None:
            raise RuntimeError(f"the simulated person failed: {self.error}") from self.error
        return self.log

    def _run(self) -> None:
        try:
            while not self.store_path.exists():
                if self._stop.wait(self.poll_s):
                    return
            with LabelStore(self.store_path, create=False) as store:
                self._answer_until_stopped(store)
        except BaseException as error:  # re-raised by stop()
            self.error = error

    def _answer_until_stopped(self, store: LabelStore) -> None:
        last_answer: float | None = None
        while not self._stop.is_set():
            if self.max_answers is not None and len(self.log.answer_times) >= self.max_answers:
                return
            pending = store.pending_queries(limit=1)
            if not pending:
                if last_answer is not None:
                    self.log.open_wait_s = time.monotonic() - last_answer
                self._stop.wait(self.poll_s)
                continue
            if last_answer is not None:
                self.log.waits_s.append(time.monotonic() - last_answer)
                self.log.open_wait_s = None
            if self._stop.wait(float(self.rng.uniform(self.low_s, self.high_s))):
                return
            self.answerer.answer(store, pending)  # committed before it returns
            last_answer = time.monotonic()
            self.log.answer_times.append(last_answer)

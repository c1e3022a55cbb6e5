"""The run's status file, written by the synchronous loop's parts as they work.

:func:`with_status` wraps the loop's parts (as ``agents.faults`` does for the resume tests), so
``run_rounds`` stays the paper's loop: each part says which phase begins before it works, and
:class:`StatusReporter` writes the phase with the run's counts (``hfrl_gym.run_status``). The
progress bar adds the env steps while PPO runs (``Progress(on_env_steps=...)``).

What each part reports:

    agent.record        recording       agent.explore       exploring
    answerer.answer     waiting         reward.fit          fitting
    agent.train         training        agent.evaluate      evaluating (then saving)

An asynchronous loop calls :meth:`StatusReporter.report` itself, from the thread that owns
the phase.

Classes:
    StatusReporter: writes a phase with the counts read from the store, model and agent.

Functions:
    with_status: the loop's parts, each reporting its phase to a reporter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from hfrl_gym.errors import HfrlError
from hfrl_gym.run_status import Phase, StatusWriter
from hfrl_gym.store import LabelStore

if TYPE_CHECKING:
    from agents.rlhf_loop import LoopParts


class StatusReporter:
    """Writes the run's phase with its counts: refits, labels answered, pending, env steps.

    Args:
        writer: the run's status writer.
        store: the run's label store (answered and pending queries are counted there).
        env_steps: the run's env steps so far (the agent's count).
        refits: the reward model's fits so far (``num_fits``: earlier sessions too).
        resume_command: said in the status when the run stops.
    """

    def __init__(
        self,
        writer: StatusWriter,
        *,
        store: LabelStore,
        env_steps: Callable[[], int],
        refits: Callable[[], int],
        resume_command: str,
    ) -> None:
        self.writer, self.store = writer, store
        self.env_steps, self.refits = env_steps, refits
        self.resume_command = resume_command

    def report(self, phase: Phase, *, round_index: int | None = None) -> None:
        """Write ``phase`` (of round ``round_index``, ``None``: the same round) now."""
        counts = self.store.counts()
        self.writer.update(
            phase,
            round_index=round_index,
            refits=self.refits(),
            labels_answered=counts["answered"],
            pending_queries=counts["pending"],
            env_steps=self.env_steps(),
        )

    def heartbeat(self, env_steps: int) -> None:
        """The env steps while PPO runs (written at most once a second)."""
        self.writer.heartbeat(env_steps=env_steps)

    def finish(self) -> None:
        """The run spent its budgets."""
        self.report(Phase.FINISHED)

    def stop(self, error: BaseException) -> None:
        """The run stopped on ``error``; the status says why and how to resume."""
        if isinstance(error, HfrlError):
            why = str(error)
        elif isinstance(error, KeyboardInterrupt):
            why = f"interrupted; resume with `{self.resume_command}`"
        else:
            why = f"{type(error).__name__}; resume with `{self.resume_command}`"
        self.writer.stop(why)


class _Reporting:
    """Forwards to ``inner``; reports the phase each wrapped method begins."""

    def __init__(self, inner: Any, reporter: StatusReporter) -> None:
        self._inner, self._reporter = inner, reporter

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    # the agent
    def record(
        self, num_env_steps: int, *, round_index: int, clip_num_steps: int, **kwargs: Any
    ) -> Any:
        self._reporter.report(Phase.RECORDING, round_index=round_index)
        return self._inner.record(
            num_env_steps, round_index=round_index, clip_num_steps=clip_num_steps, **kwargs
        )

    def explore(self, num_env_steps: int, *, round_index: int) -> Any:
        self._reporter.report(Phase.EXPLORING, round_index=round_index)
        return self._inner.explore(num_env_steps, round_index=round_index)

    def train(self, num_env_steps: int, *, round_index: int) -> None:
        self._reporter.report(Phase.TRAINING, round_index=round_index)
        self._inner.train(num_env_steps, round_index=round_index)

    def evaluate(self) -> Any:
        self._reporter.report(Phase.EVALUATING)
        return self._inner.evaluate()

    # the answerer and the reward fitter
    def answer(self, store: LabelStore, queries: Sequence[Any]) -> None:
        round_index = queries[0].round if queries else None
        self._reporter.report(Phase.WAITING, round_index=round_index)
        self._inner.answer(store, queries)

    def fit(self, store: LabelStore, **kwargs: Any) -> Any:
        self._reporter.report(Phase.FITTING)
        return self._inner.fit(store, **kwargs)


def with_status(parts: LoopParts, reporter: StatusReporter) -> LoopParts:
    """``parts`` whose agent, answerer and reward fitter report their phases to ``reporter``."""
    return dataclasses.replace(
        parts,
        agent=_Reporting(parts.agent, reporter),
        answerer=None if parts.answerer is None else _Reporting(parts.answerer, reporter),
        reward=None if parts.reward is None else _Reporting(parts.reward, reporter),
    )

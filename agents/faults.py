"""Fault injection for resume tests: kill the training process at a named phase of a round.

A run must resume from a kill at any moment. The tests kill it at random moments, and at
each named phase of a round, asserting every phase was reached. The phases are the moments
between the loop's parts:

    before_answer   the round's queries are posted, none answered by this call
    after_answer    every query answered, the reward model not yet refit
    after_fit       refit, PPO not yet trained
    after_train     PPO trained, the round not yet saved
    after_save      the round saved (state.json written)

Set ``HFRL_PHASE_LOG=FILE`` to append ``phase@round`` lines as phases are reached, and
``HFRL_KILL_AT=phase@round`` to SIGKILL the process there. Without them nothing is wrapped.

Functions:
    phase_hook_from_env: the hook the environment asks for, or ``None``.
    with_phase_hook: the loop's parts, each call followed (or preceded) by the hook.
"""

from __future__ import annotations

import dataclasses
import os
import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.rlhf_loop import LoopParts

PHASES = ("before_answer", "after_answer", "after_fit", "after_train", "after_save")
PhaseHook = Callable[[str, int], None]


def phase_hook_from_env(environ: dict[str, str] | None = None) -> PhaseHook | None:
    """The hook ``HFRL_PHASE_LOG`` / ``HFRL_KILL_AT`` ask for, or ``None`` when neither is set."""
    environ = dict(os.environ if environ is None else environ)
    log, kill_at = environ.get("HFRL_PHASE_LOG"), environ.get("HFRL_KILL_AT")
    if not log and not kill_at:
        return None

    def hook(phase: str, round_index: int) -> None:
        mark = f"{phase}@{round_index}"
        if log:
            with Path(log).open("a") as handle:
                handle.write(mark + "\n")
        if mark == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    return hook


class _Hooked:
    """Forwards to ``inner``; calls the hook around the methods that end a phase."""

    def __init__(self, inner: Any, hook: PhaseHook, state: dict[str, int]) -> None:
        self._inner, self._hook, self._state = inner, hook, state

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def answer(self, store: Any, queries: Sequence[Any]) -> None:
        self._state["round"] = queries[0].round if queries else self._state["round"]
        self._hook("before_answer", self._state["round"])
        self._inner.answer(store, queries)
        self._hook("after_answer", self._state["round"])

    def fit(self, store: Any, **kwargs: Any) -> Any:
        report = self._inner.fit(store, **kwargs)
        self._hook("after_fit", self._state["round"])
        return report

    def train(self, num_env_steps: int, *, round_index: int) -> None:
        self._state["round"] = round_index
        self._inner.train(num_env_steps, round_index=round_index)
        self._hook("after_train", round_index)

    def save(self, round_index: int, evaluation: Any, **kwargs: Any) -> Any:
        state = self._inner.save(round_index, evaluation, **kwargs)
        self._hook("after_save", round_index)
        return state


def with_phase_hook(parts: LoopParts, hook: PhaseHook) -> LoopParts:
    """``parts`` whose answerer, reward fitter, agent and checkpoint report their phases."""
    state = {"round": 0}
    return dataclasses.replace(
        parts,
        answerer=None if parts.answerer is None else _Hooked(parts.answerer, hook, state),
        reward=None if parts.reward is None else _Hooked(parts.reward, hook, state),
        agent=_Hooked(parts.agent, hook, state),
        checkpoint=_Hooked(parts.checkpoint, hook, state),
    )

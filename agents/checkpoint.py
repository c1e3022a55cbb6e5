"""The checkpoint part of the loop: after each round, everything needed to resume the run.

Classes:
    RunState: how far a run got (``state.json``).
    WallClock: the run's wall time, earlier sessions of a resumed run included.
    RunCheckpoint: saves the policy (SAC: and its replay buffer), the reward model, the
        round's metrics and the state.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

from agents.callbacks import Progress
from agents.diagnostics import answer_shares
from agents.evaluate import Evaluation
from agents.reward_fitter import RewardFitter
from agents.rounds_agent import RoundsAgent
from agents.run_folder import RunFolder
from hfrl_gym.errors import ConfigError
from hfrl_gym.store import LabelStore


@dataclass(frozen=True)
class RunState:
    """How far a run got: what ``state.json`` holds.

    Attributes:
        next_round: the first round not finished.
        env_steps: env steps taken (PPO's and the recordings').
        ppo_steps: the algorithm's own env steps (PPO's or SAC's ``num_timesteps``).
        wall_seconds: wall time so far, in seconds.

    Example:
        >>> RunState.from_dict({"next_round": 2, "env_steps": 10, "ppo_steps": 8,
        ...                     "wall_seconds": 1.5}).next_round
        2
    """

    next_round: int = 0
    env_steps: int = 0
    ppo_steps: int = 0
    wall_seconds: float = 0.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunState:
        """Read ``state.json``'s fields (``ConfigError`` naming a missing or wrong one)."""
        try:
            state = cls(
                next_round=_count(data["next_round"]),
                env_steps=_count(data["env_steps"]),
                ppo_steps=_count(data.get("ppo_steps", 0)),
                wall_seconds=float(data.get("wall_seconds", 0.0)),
            )
            if not 0.0 <= state.wall_seconds < math.inf:
                raise ValueError(f"wall_seconds {state.wall_seconds}")
        except (KeyError, TypeError, ValueError, OverflowError) as error:
            raise ConfigError(
                f"state.json is damaged ({error!r}); start the run again with another --out"
            ) from None
        return state


def _count(value: Any) -> int:
    """A whole number >= 0 of ``state.json`` (``ValueError`` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{value!r} is not a whole number >= 0")
    return value


class WallClock:
    """Seconds since this process started the run, plus those of earlier sessions."""

    def __init__(self, before_s: float = 0.0) -> None:
        self.before_s, self.started = before_s, time.monotonic()

    def seconds(self) -> float:
        """Wall time of the run so far, in seconds."""
        return self.before_s + time.monotonic() - self.started


class RunCheckpoint:
    """Writes a round's results to the run folder, in an order a kill cannot corrupt.

    The policy and reward model first, then the episodes and metrics, then ``state.json``,
    which says the round is done (an atomic replace): a run killed before that repeats the
    round from its saved queries and answers.
    """

    def __init__(
        self,
        run: RunFolder,
        *,
        agent: RoundsAgent,
        fitter: RewardFitter | None,
        store: LabelStore,
        clock: WallClock,
        progress: Progress | None = None,
    ) -> None:
        self.run, self.agent, self.fitter, self.store = run, agent, fitter, store
        self.clock, self.progress = clock, progress

    def labels_used(self) -> int:
        """Queries answered so far (skips included: they cost the teacher's time)."""
        return int(self.store.counts()["answered"])

    def save(self, round_index: int, evaluation: Evaluation, *, labels_round: int) -> RunState:
        """Save round ``round_index``'s results; return the state a resume starts from."""
        self.agent.save(self.run.policy_path)
        fit = probe = None
        if self.fitter is not None:
            self.fitter.model.save(self.run.reward_model_dir)
            fit, probe = self.fitter.last_fit, self.fitter.last_probe
        shares = answer_shares(self.store, round_index)
        self.run.append_episodes(self.agent.pop_episodes())
        labels_used = self.labels_used()
        self.run.append_metrics(
            {
                "round": round_index,
                "env_steps": self.agent.env_steps,
                "labels_used": labels_used,
                "labels_round": labels_round,
                "val_accuracy": None if fit is None else fit.val_accuracy,
                "val_loss": None if fit is None else fit.val_loss,
                "true_return_mean": evaluation.true_mean,
                "true_return_std": evaluation.true_std,
                "goal_return_mean": evaluation.goal_mean,
                "fit_seconds": None if fit is None else fit.seconds,
                "wall_seconds": self.clock.seconds(),
                "learned_true_spearman": None if probe is None else probe.learned_true_spearman,
                "reward_std": None if probe is None else probe.reward_std,
                "reward_drift": None if probe is None else probe.reward_drift,
                "tie_share": None if shares is None else shares[0],
                "skip_share": None if shares is None else shares[1],
            }
        )
        state = RunState(
            next_round=round_index + 1,
            env_steps=self.agent.env_steps,
            ppo_steps=self.agent.model.num_timesteps,
            wall_seconds=self.clock.seconds(),
        )
        self.run.write_json(self.run.state_path, asdict(state))
        if self.progress is not None:
            accuracy = None if fit is None else fit.val_accuracy
            self.progress.note(labels=labels_used, val_acc=accuracy)
        return state

"""The budget arithmetic of a run, done once: labels and PPO env steps of every round.

Classes:
    RunPlan: labels and PPO env steps per round, and the env steps recorded before round 0.

Functions:
    labels_per_round: a front-loaded split of the label budget over the rounds.
    steps_per_round: PPO env steps of each round, in whole rollouts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hfrl_gym.errors import ConfigError


def split_by_weights(total: int, weights: np.ndarray) -> list[int]:
    """Split ``total`` into integers in proportion to ``weights``; the sum is exact.

    Largest remainders get the units left over; equal remainders go to the earlier entries.

    Example:
        >>> split_by_weights(10, np.array([1.0, 1.0, 1.0]))
        [4, 3, 3]
    """
    shares = total * weights / weights.sum()
    counts = np.floor(shares).astype(int)
    for index in np.argsort(-(shares - counts), kind="stable")[: total - counts.sum()]:
        counts[index] += 1
    return [int(c) for c in counts]


def labels_per_round(num_labels: int, num_rounds: int, decay: float) -> list[int]:
    """Split ``num_labels`` over rounds in proportion to ``decay**k``; the sum is exact.

    Example:
        >>> labels_per_round(100, 4, 0.5)
        [53, 27, 13, 7]
    """
    return split_by_weights(num_labels, decay ** np.arange(num_rounds))


def steps_per_round(
    num_env_steps: int, num_rounds: int, rollout_steps: int = 1, growth: float = 1.0
) -> list[int]:
    """PPO env steps of each round: whole rollouts, never over the budget.

    PPO collects whole rollouts of ``rollout_steps`` (``n_steps * num_envs``) env steps, so a
    round asked for a part of one would overrun. The budget's whole rollouts are split in
    proportion to ``growth**k``: evenly by default (earlier rounds taking the remainder); with
    ``growth`` > 1 early rounds are short, so the reward is refit often while it changes most.

    Example:
        >>> steps_per_round(100, 3)
        [34, 33, 33]
        >>> steps_per_round(48_000, 6, rollout_steps=4096)  # 11 rollouts
        [8192, 8192, 8192, 8192, 8192, 4096]
        >>> steps_per_round(10_000, 4, rollout_steps=100, growth=2.0)
        [700, 1300, 2700, 5300]
    """
    rollouts = num_env_steps // rollout_steps
    weights = growth ** np.arange(num_rounds, dtype=np.float64)
    return [count * rollout_steps for count in split_by_weights(rollouts, weights)]


@dataclass(frozen=True)
class RunPlan:
    """How a run spends its budgets, round by round.

    Attributes:
        labels: labels (queries posted) of each round; all 0 for a baseline.
        ppo_env_steps: PPO env steps of each round (whole rollouts).
        initial_env_steps: env steps of the untrained policy recorded for round 0's queries
            (0 for a baseline, which asks nothing, and with exploration).
        explore_env_steps: env steps of unsupervised exploration before round 0's queries,
            whose clips they compare (whole rollouts; 0: none).
        num_env_steps: the run's env-step budget; what is not a whole rollout goes unused.
        rollout_env_steps: env steps of one PPO rollout (PPO learns in whole rollouts).
        record_env_steps: env steps of one recording of the current policy (round 0's
            without exploration; a resumed process's first, taken from its round's PPO).
        perturb_env_steps: env steps of one perturbed recording (the current policy with
            random actions mixed in) after the PPO of each round whose next round asks
            (:attr:`perturb_rounds`); 0: none.

    Example:
        >>> plan = RunPlan.create(num_labels=50, num_env_steps=20_000, num_rounds=4,
        ...                       label_decay=0.5, initial_env_steps=2_000, rollout_env_steps=512)
        >>> plan.labels, plan.ppo_env_steps, plan.total_env_steps
        ((27, 13, 7, 3), (4608, 4608, 4608, 4096), 19920)
    """

    labels: tuple[int, ...]
    ppo_env_steps: tuple[int, ...]
    initial_env_steps: int
    num_env_steps: int
    explore_env_steps: int = 0
    rollout_env_steps: int = 1
    record_env_steps: int = 0
    perturb_env_steps: int = 0

    @classmethod
    def create(
        cls,
        *,
        num_labels: int,
        num_env_steps: int,
        num_rounds: int,
        label_decay: float,
        initial_env_steps: int,
        rollout_env_steps: int,
        explore_env_steps: int = 0,
        round_growth: float = 1.0,
        perturb_env_steps: int = 0,
        num_envs: int = 1,
    ) -> RunPlan:
        """Split the budgets; ``num_labels`` 0 plans a baseline (no initial recording).

        With ``explore_env_steps`` (RLHF only), PPO first explores for that many env steps
        (rounded down to whole rollouts) and round 0 compares its clips: nothing is recorded
        without learning, and the rounds share what is left. With ``perturb_env_steps``
        (RLHF only), that many env steps in all are set aside for the perturbed recordings,
        shared equally by the rounds that make one, each a whole number of steps of the
        ``num_envs`` envs; PPO's rounds share the rest.

        Raises:
            ConfigError: the env steps left for PPO are less than one rollout (with the
                arithmetic).
        """
        explore = (explore_env_steps // rollout_env_steps) * rollout_env_steps
        explore = explore if num_labels > 0 else 0
        initial = initial_env_steps if num_labels > 0 and not explore else 0
        labels = tuple(labels_per_round(num_labels, num_rounds, label_decay))
        recordings = sum(1 for count in labels[1:] if count > 0)
        perturb = 0
        if num_labels > 0 and perturb_env_steps > 0 and recordings > 0:
            perturb = (perturb_env_steps // recordings // num_envs) * num_envs
        ppo_budget = num_env_steps - initial - explore - perturb * recordings
        if ppo_budget < rollout_env_steps:
            raise ConfigError(
                f"--steps {num_env_steps} leaves {ppo_budget} env steps for PPO after "
                f"{initial + explore + perturb * recordings} recorded for queries, less than one "
                f"PPO rollout of {rollout_env_steps}; raise --steps to at least "
                f"{initial + explore + perturb * recordings + rollout_env_steps}"
            )
        return cls(
            labels=labels,
            ppo_env_steps=tuple(
                steps_per_round(ppo_budget, num_rounds, rollout_env_steps, round_growth)
            ),
            initial_env_steps=initial,
            num_env_steps=num_env_steps,
            explore_env_steps=explore,
            rollout_env_steps=rollout_env_steps,
            record_env_steps=initial_env_steps,
            perturb_env_steps=perturb,
        )

    def ppo_steps_after_recording(self, round_index: int, recorded_env_steps: int) -> int:
        """Round ``round_index``'s PPO steps less the whole rollouts a recording took.

        A resumed process records the current policy for its first queries (the clips of the
        round before were lost with the killed process); those env steps come out of the
        round's PPO share, so a resumed run stays within its budget.

        Example:
            >>> plan = RunPlan((5, 5), (1024, 1024), 0, 2048, rollout_env_steps=512)
            >>> plan.ppo_steps_after_recording(1, 600), plan.ppo_steps_after_recording(1, 0)
            (0, 1024)
        """
        rollouts = -(-recorded_env_steps // self.rollout_env_steps)  # ceiling
        return max(0, self.ppo_env_steps[round_index] - rollouts * self.rollout_env_steps)

    @property
    def num_rounds(self) -> int:
        """Rounds of the run."""
        return len(self.labels)

    @property
    def perturb_rounds(self) -> tuple[int, ...]:
        """The rounds after whose PPO a perturbed recording is made: those whose next round
        asks (none without :attr:`perturb_env_steps`)."""
        if self.perturb_env_steps <= 0:
            return ()
        return tuple(k for k in range(self.num_rounds - 1) if self.labels[k + 1] > 0)

    @property
    def ppo_budget(self) -> int:
        """PPO's share of the budget, exploration included (its schedules span it)."""
        perturbed = self.perturb_env_steps * len(self.perturb_rounds)
        return self.num_env_steps - self.initial_env_steps - perturbed

    @property
    def total_env_steps(self) -> int:
        """Env steps the run will take: the initial recording or exploration, the perturbed
        recordings, and PPO's."""
        perturbed = self.perturb_env_steps * len(self.perturb_rounds)
        return self.initial_env_steps + self.explore_env_steps + perturbed + sum(self.ppo_env_steps)

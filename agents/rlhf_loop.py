"""The RLHF loop of Christiano et al. (2017), one round at a time.

Functions:
    labels_per_round: a front-loaded split of the label budget over the rounds.
    steps_per_round: PPO env steps of each round.
    train: run (or resume) a training run; RLHF, or a baseline with the same budget.

Each round: the clips of the latest experience (round 0: of the untrained policy) -> pairs
chosen -> posted to the store as queries -> a teacher answers -> the reward model is refit on
every answer so far -> PPO continues on the new learned reward -> the policy is evaluated on
the true reward and everything is saved. A baseline (``reward`` = true, constant, random) runs
the same rounds with no labels, so its curves line up with RLHF's.
"""

from __future__ import annotations

import numpy as np

from agents.config import TrainConfig
from agents.session import TrainingSession
from agents.summary import finish_run


def labels_per_round(num_labels: int, num_rounds: int, decay: float) -> list[int]:
    """Split ``num_labels`` over rounds in proportion to ``decay**k``; the sum is exact.

    Example:
        >>> labels_per_round(100, 4, 0.5)
        [53, 27, 13, 7]
    """
    weights = decay ** np.arange(num_rounds)
    shares = num_labels * weights / weights.sum()
    counts = np.floor(shares).astype(int)
    for index in np.argsort(-(shares - counts), kind="stable")[: num_labels - counts.sum()]:
        counts[index] += 1
    return [int(c) for c in counts]


def steps_per_round(num_env_steps: int, num_rounds: int, rollout_steps: int = 1) -> list[int]:
    """PPO env steps of each round: whole rollouts, spread evenly, never over the budget.

    PPO collects whole rollouts of ``rollout_steps`` (``n_steps * num_envs``) env steps, so a
    round asked for a part of one would overrun. The budget's whole rollouts are spread over
    the rounds, earlier rounds taking the remainder.

    Example:
        >>> steps_per_round(100, 3)
        [34, 33, 33]
        >>> steps_per_round(48_000, 6, rollout_steps=4096)  # 11 rollouts
        [8192, 8192, 8192, 8192, 8192, 4096]
    """
    rollouts = num_env_steps // rollout_steps
    base, extra = divmod(rollouts, num_rounds)
    return [(base + (k < extra)) * rollout_steps for k in range(num_rounds)]


def train(config: TrainConfig, *, resume: bool = False, show_progress: bool = True) -> dict:
    """Run ``config`` to the end (or resume it) and return its summary."""
    session = TrainingSession(config, resume=resume, show_progress=show_progress)
    learns_reward = config.reward == "learned"
    labels = labels_per_round(
        config.labels if learns_reward else 0, config.rounds, config.label_decay
    )
    ppo_budget = config.steps - (config.initial_steps if learns_reward else 0)
    ppo_steps = steps_per_round(ppo_budget, config.rounds, session.rollout_steps)
    try:
        clips = []  # round 0: post_queries records the untrained policy's clips
        for k in range(session.next_round, config.rounds):
            if learns_reward and labels[k] > 0:
                queries = session.post_queries(k, clips, labels[k])
                session.answer(queries)
                session.refit_reward_model()
            session.train_ppo(ppo_steps[k])
            clips = session.harvester.pop_clips()
            session.checkpoint(k, session.evaluate(), labels[k])
        return finish_run(session)
    finally:
        session.close()

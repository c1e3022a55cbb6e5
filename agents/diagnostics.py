"""What happens inside a run, round by round: does the learned reward track the true one?

Validation accuracy on a handful of held-out pairs says little (with 22 labels it reads 0.67
or 1.0). These measures tell a run that is learning from one that has collapsed:

Classes:
    RewardProbe: the learned reward on all the clips a round recorded (not only those asked
        about), against their true returns and against the previous fit.

Functions:
    spearman: rank correlation with tied values averaged.
    probe_reward: a :class:`RewardProbe` of a reward model on clips.
    answer_shares: the shares of a round's answers that were ties and skips.

The true return is used here only to measure; it never reaches the reward model or PPO.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hfrl_gym.answers import Choice
from hfrl_gym.clips import Clip
from hfrl_gym.reward_model import RewardModel
from hfrl_gym.store import LabelStore


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 0..N-1 of ``values``, tied values sharing their mean rank."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values), dtype=float)
    _, group, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.bincount(group, weights=ranks)
    return sums[group] / counts[group]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two ``(N,)`` arrays, ties averaged (``nan`` if constant).

    Example:
        >>> spearman(np.array([1.0, 2.0, 3.0]), np.array([10.0, 30.0, 20.0]))
        0.5
        >>> round(spearman(np.array([0.0, 0.0, 1.0, 2.0]), np.array([5.0, 1.0, 7.0, 9.0])), 3)
        0.949
    """
    ranks_a, ranks_b = _average_ranks(np.asarray(a)), _average_ranks(np.asarray(b))
    if ranks_a.std() == 0 or ranks_b.std() == 0:
        return float("nan")
    return float(np.corrcoef(ranks_a, ranks_b)[0, 1])


@dataclass(frozen=True)
class RewardProbe:
    """The learned reward on a round's clips.

    Attributes:
        learned_true_spearman: rank correlation of learned and true clip returns (``nan``
            when either is constant).
        reward_std: standard deviation of the per-step reward PPO sees on these clips
            (normalised units: 1 on the transitions the model was fit on).
        reward_drift: mean absolute change of that per-step reward since the previous fit,
            on the same clips; ``None`` at the first fit.
        per_step: ``(sum of clip steps,)`` the per-step rewards, for the next drift.
    """

    learned_true_spearman: float
    reward_std: float
    reward_drift: float | None
    per_step: np.ndarray


def probe_reward(
    model: RewardModel, clips: Sequence[Clip], previous: RewardProbe | None = None
) -> RewardProbe | None:
    """Measure ``model`` on ``clips`` (``None`` with fewer than two clips).

    Example:
        >>> from hfrl_gym.recording import record_random_clips
        >>> from hfrl_gym.envs import make_env
        >>> env = make_env("hfrl/CartPole-v0")
        >>> model = RewardModel(env.observation_space, env.action_space,
        ...                     env_id="hfrl/CartPole-v0", seed=0, device="cpu")
        >>> clips = record_random_clips("hfrl/CartPole-v0", num_clips=5, clip_num_steps=10,
        ...                             seed=0)
        >>> probe = probe_reward(model, clips)
        >>> probe.reward_drift is None, probe.per_step.shape
        (True, (50,))
    """
    if len(clips) < 2:
        return None
    observations = np.concatenate([clip.observations[:-1] for clip in clips])
    actions = np.concatenate([clip.actions for clip in clips])
    next_observations = np.concatenate([clip.observations[1:] for clip in clips])
    per_step = model.predict_rewards(observations, actions, next_observations).astype(np.float64)
    starts = np.cumsum([0] + [clip.num_steps for clip in clips[:-1]])
    learned = np.add.reduceat(per_step, starts)
    drift = None
    if previous is not None and previous.per_step.shape == per_step.shape:
        drift = float(np.abs(per_step - previous.per_step).mean())
    return RewardProbe(
        learned_true_spearman=spearman(learned, np.array([c.true_return for c in clips])),
        reward_std=float(per_step.std()),
        reward_drift=drift,
        per_step=per_step,
    )


def answer_shares(store: LabelStore, round_index: int) -> tuple[float, float] | None:
    """Shares of round ``round_index``'s newest answers that were ``equal`` and ``skip``.

    ``None`` when the round has no answers. Many ties or skips mean the pairs asked about
    could not be told apart by the teacher: labels spent, little learned.
    """
    query_ids = {q.id for q in store.queries(round=round_index)}
    latest = [a for qid, a in store.latest_answers().items() if qid in query_ids]
    if not latest:
        return None
    ties = sum(a.choice is Choice.EQUAL for a in latest) / len(latest)
    skips = sum(a.choice is Choice.SKIP for a in latest) / len(latest)
    return ties, skips

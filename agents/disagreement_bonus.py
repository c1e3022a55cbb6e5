"""Exploration that goes on after the state-entropy phase: a bonus where the reward ensemble
disagrees (RUNE, Liang et al. 2022, "Reward Uncertainty for Exploration in Preference-based
Reinforcement Learning").

The learned reward is trusted most where the labelled clips went. A policy that settles on
what the first clips showed (CartPole's cart balanced at the centre when the goal is the left
of the track; MountainCar's car rocking at the bottom) is never shown the states that would
tell the reward model otherwise. The ensemble's members agree where the labels constrain them
and disagree elsewhere, so adding their disagreement to the reward sends the agent, and the
clips it records for the next queries, where the model is unsure. The weight falls linearly to
0 over the run's env steps, so the last rounds train on the learned reward alone.

Classes:
    DisagreementBonus: the learned reward plus a decaying bonus for the members' disagreement.
"""

from __future__ import annotations

import numpy as np

from hfrl_gym.errors import ConfigError
from hfrl_gym.reward_model import RewardModel


class DisagreementBonus:
    """``r = mean + beta * std`` of the ensemble's rewards (normalised units), ``beta`` falling
    from ``weight`` at step 0 to 0 at ``total_env_steps``.

    The agent calls :meth:`set_env_steps` before each stretch of learning, so ``beta`` is
    constant within a round and a resumed run scores as the uninterrupted one. ``num_fits``
    and ``beta`` together say which reward scores (an off-policy agent relabels its replay
    buffer when either changes).

    Args:
        model: the learned reward (refit in place by the run).
        weight: ``beta`` at the start of the run, > 0.
        total_env_steps: the run's env-step budget, > 0.

    Example:
        >>> import gymnasium as gym
        >>> space = gym.spaces.Box(-1, 1, (2,))
        >>> model = RewardModel(space, gym.spaces.Discrete(2), env_id="toy", seed=0)
        >>> bonus = DisagreementBonus(model, weight=1.0, total_env_steps=100)
        >>> obs, acts = np.ones((4, 2)), np.array([0, 1, 0, 1])
        >>> full = bonus.predict_rewards(obs, acts, obs) - model.predict_rewards(obs, acts, obs)
        >>> bonus.set_env_steps(75)
        >>> bonus.beta
        0.25
        >>> quarter = bonus.predict_rewards(obs, acts, obs) - model.predict_rewards(obs, acts, obs)
        >>> bool(np.all(full > 0) and np.allclose(quarter, full / 4, atol=1e-6))
        True
    """

    def __init__(self, model: RewardModel, *, weight: float, total_env_steps: int) -> None:
        if not (np.isfinite(weight) and weight > 0) or total_env_steps <= 0:
            raise ConfigError(
                f"a disagreement bonus needs weight > 0 and total_env_steps > 0, got {weight} "
                f"and {total_env_steps}"
            )
        self.model = model
        self.weight = float(weight)
        self.total_env_steps = int(total_env_steps)
        self.beta = self.weight

    @property
    def num_fits(self) -> int:
        """The model's fits so far."""
        return self.model.num_fits

    def set_env_steps(self, env_steps: int) -> None:
        """Set ``beta`` for a run that has taken ``env_steps`` env steps."""
        self.beta = self.weight * max(0.0, 1.0 - env_steps / self.total_env_steps)

    def predict_rewards(
        self, observations: np.ndarray, actions: np.ndarray, next_observations: np.ndarray
    ) -> np.ndarray:
        """``(N,)`` float32: the learned reward plus ``beta`` times the members' spread."""
        return self.model.predict_rewards(
            observations, actions, next_observations, disagreement_bonus=self.beta
        )

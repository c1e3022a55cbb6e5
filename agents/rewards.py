"""The rewards of the baselines, the controls that show learning is real.

Classes:
    ConstantReward: +1 every step; on the fixed-horizon suite it carries no information.
    GoalReward: an alternative goal's reward, told to the agent outright.
"""

from __future__ import annotations

import numpy as np

from hfrl_gym.envs.goals import Goal
from hfrl_gym.errors import ConfigError


class ConstantReward:
    """A reward of ``value`` for every transition.

    Example:
        >>> ConstantReward().predict_rewards(np.zeros((3, 4)), np.zeros(3), np.zeros((3, 4)))
        array([1., 1., 1.])
    """

    def __init__(self, value: float = 1.0) -> None:
        self.value = float(value)

    def predict_rewards(
        self, observations: np.ndarray, actions: np.ndarray, next_observations: np.ndarray
    ) -> np.ndarray:
        """``(N,)`` copies of the constant."""
        return np.full(len(observations), self.value)


class GoalReward:
    """An alternative goal's own reward: the baseline an RLHF run of that goal is scored against.

    PPO trained on it shows what the algorithm reaches when it is told the goal outright
    (``hfrl train --reward goal --goal NAME``).

    Args:
        goal: the goal; it must have a transition reward (not ``task``, whose baseline is
            ``--reward true``).

    Example:
        >>> from hfrl_gym.envs import get_goal
        >>> reward = GoalReward(get_goal("hfrl/Pendulum-v0", "spin"))
        >>> obs = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, -4.0]])
        >>> reward.predict_rewards(obs, np.zeros((2, 1)), np.array([[1.0, 0.0, -4.0],
        ...                                                         [1.0, 0.0, 8.0]]))
        array([0.5, 1. ], dtype=float32)
    """

    def __init__(self, goal: Goal) -> None:
        if goal.transition_reward is None:
            raise ConfigError(
                f"goal {goal.name!r} is the env's own reward: train on it with --reward true"
            )
        self.goal = goal

    def predict_rewards(
        self, observations: np.ndarray, actions: np.ndarray, next_observations: np.ndarray
    ) -> np.ndarray:
        """``(N,)`` float32 rewards of the goal."""
        assert self.goal.transition_reward is not None
        rewards = self.goal.transition_reward(
            np.asarray(observations, np.float64),
            np.asarray(actions, np.float64),
            np.asarray(next_observations, np.float64),
        )
        return np.asarray(rewards, dtype=np.float32).reshape(len(observations))

"""Replace an env's reward with a learned one.

Classes:
    BatchRewardFunction: the protocol a learned reward implements (a batch in, rewards out).
    LearnedReward: a Gymnasium wrapper whose reward comes from a ``BatchRewardFunction``.

The reward model needs the observation *and* the action, so ``LearnedReward`` overrides
``step`` rather than subclassing ``gymnasium.RewardWrapper``. The env's own reward is never
lost: it is returned in ``info["true_reward"]``.
"""

from __future__ import annotations

from typing import Any, Protocol, SupportsFloat

import gymnasium as gym
import numpy as np


class BatchRewardFunction(Protocol):
    """A learned reward scored on a batch of transitions.

    ``RewardModel`` implements it; so can any object with this one method.
    """

    def predict_rewards(
        self, observations: np.ndarray, actions: np.ndarray, next_observations: np.ndarray
    ) -> np.ndarray:
        """Rewards ``(N,)`` for ``observations (N, *obs)``, ``actions (N, *act)``,
        ``next_observations (N, *obs)``."""
        ...


class LearnedReward(gym.Wrapper):
    """Give the agent ``reward_fn(obs, action, next_obs)`` instead of the env's reward.

    The env's reward goes to ``info["true_reward"]``. For vectorised training, prefer
    ``agents.vec_learned_reward.VecLearnedReward``, which scores every sub-env in one batch.

    Args:
        env: the env whose reward is replaced.
        reward_fn: the learned reward; may be swapped later with :meth:`set_reward_fn`.

    Example:
        >>> import hfrl_gym
        >>> from hfrl_gym.envs import make_env
        >>> class CartLeft:  # rewards being left of centre: obs[0] is the cart position
        ...     def predict_rewards(self, obs, actions, next_obs):
        ...         return -next_obs[:, 0]
        >>> env = LearnedReward(make_env("hfrl/CartPole-v0"), CartLeft())
        >>> _ = env.reset(seed=0)
        >>> obs, reward, _, _, info = env.step(0)
        >>> bool(np.isclose(reward, -obs[0], atol=1e-6)), info["true_reward"]
        (True, 1.0)
    """

    def __init__(self, env: gym.Env, reward_fn: BatchRewardFunction) -> None:
        super().__init__(env)
        self.reward_fn = reward_fn
        self._last_obs: np.ndarray | None = None

    def set_reward_fn(self, reward_fn: BatchRewardFunction) -> None:
        """Use another learned reward from the next step on (after a refit, say)."""
        self.reward_fn = reward_fn

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the env and remember the first observation."""
        obs, info = self.env.reset(seed=seed, options=options)
        self._last_obs = np.array(obs)
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step the env; the reward is the learned one, the env's is in ``info``."""
        if self._last_obs is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        obs, true_reward, terminated, truncated, info = self.env.step(action)
        reward = self.reward_fn.predict_rewards(
            self._last_obs[None], np.asarray(action)[None], np.asarray(obs)[None]
        )
        info["true_reward"] = float(info.get("true_reward", true_reward))
        self._last_obs = np.array(obs)
        return obs, float(np.asarray(reward).reshape(-1)[0]), terminated, truncated, info

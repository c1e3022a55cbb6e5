"""Replace a vectorised env's reward with a learned one, all sub-envs in one batch.

Classes:
    VecLearnedReward: an SB3 ``VecEnvWrapper`` scoring every sub-env's transition at once.
"""

from __future__ import annotations

import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn

from hfrl_gym.wrappers.learned_reward import BatchRewardFunction


class VecLearnedReward(VecEnvWrapper):
    """Give PPO the learned reward of ``(obs, action, next_obs)`` for every sub-env.

    One ``reward_fn.predict_rewards`` call scores all ``num_envs`` transitions of a step (on
    the reward model's device). When a sub-env's episode ends, the VecEnv has already reset it
    and returns the new episode's first observation; the transition's real next observation
    is ``info["terminal_observation"]``, and that is what is scored. The env's own reward goes
    to ``info["true_reward"]`` and :meth:`get_original_reward`. Put the episode ``Monitor``
    inside (around each sub-env) so logged episode returns are true returns, and any
    observation normalisation outside, so the reward model sees raw observations.

    Args:
        venv: the vectorised env (its sub-envs are suite envs, usually with ``Monitor``).
        reward_fn: the learned reward; swap it after a refit with :meth:`set_reward_fn`.

    Example:
        >>> import hfrl_gym
        >>> from stable_baselines3.common.vec_env import DummyVecEnv
        >>> from hfrl_gym.envs import make_env
        >>> class Upright:  # -|pole angle| after the step
        ...     def predict_rewards(self, obs, actions, next_obs):
        ...         return -np.abs(next_obs[:, 2])
        >>> inner = DummyVecEnv([lambda: make_env("hfrl/CartPole-v0")] * 2)
        >>> venv = VecLearnedReward(inner, Upright())
        >>> obs = venv.reset()
        >>> obs, rewards, dones, infos = venv.step(np.array([0, 1]))
        >>> bool(np.allclose(rewards, -np.abs(obs[:, 2]))), [i["true_reward"] for i in infos]
        (True, [1.0, 1.0])
    """

    def __init__(self, venv: VecEnv, reward_fn: BatchRewardFunction) -> None:
        super().__init__(venv)
        self.reward_fn = reward_fn
        self._last_obs: np.ndarray | None = None
        self._actions: np.ndarray | None = None
        self._original_reward = np.zeros(self.num_envs, dtype=np.float64)

    def set_reward_fn(self, reward_fn: BatchRewardFunction) -> None:
        """Score with another learned reward from the next step on."""
        self.reward_fn = reward_fn

    def get_original_reward(self) -> np.ndarray:
        """The env's own rewards ``(num_envs,)`` of the last step."""
        return self._original_reward.copy()

    def reset(self) -> VecEnvObs:
        """Reset every sub-env and remember the first observations."""
        obs = self.venv.reset()
        self._last_obs = np.array(obs)
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        """Send the actions on, keeping them for scoring."""
        self._actions = np.array(actions)
        self.venv.step_async(actions)

    def step_wait(self) -> VecEnvStepReturn:
        """Step all sub-envs and score their transitions in one batch."""
        obs, rewards, dones, infos = self.venv.step_wait()
        if self._last_obs is None or self._actions is None:
            raise RuntimeError("VecLearnedReward: call reset() before step()")
        next_obs = np.array(obs)
        for index in np.flatnonzero(dones):
            next_obs[index] = infos[index]["terminal_observation"]
        learned = self.reward_fn.predict_rewards(self._last_obs, self._actions, next_obs)
        self._original_reward = np.asarray(rewards, dtype=np.float64)
        for index, info in enumerate(infos):
            info["true_reward"] = float(info.get("true_reward", rewards[index]))
        self._last_obs = np.array(obs)
        return obs, np.asarray(learned, dtype=np.float32).reshape(self.num_envs), dones, infos

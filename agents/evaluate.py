"""Evaluate a policy on the true reward (and on the goal being taught).

Classes:
    Episodes: whole episodes of one policy (observations, actions, true rewards).
    Evaluation: true and goal returns of evaluated episodes.

Functions:
    run_episodes: run a policy for whole episodes of a suite env, side by side.
    evaluate_policy_returns: mean and spread of episode returns of a policy in a suite env.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from hfrl_gym.envs import get_goal, make_env
from hfrl_gym.wrappers.learned_reward import BatchRewardFunction


class ActingPolicy(Protocol):
    """Anything with SB3's ``predict`` (a PPO model, say)."""

    def predict(self, observation: np.ndarray, deterministic: bool = ...) -> tuple: ...


@dataclass(frozen=True)
class Episodes:
    """Whole episodes of one policy, run side by side.

    Attributes:
        observations: ``(E, T+1, *obs_shape)``.
        actions: ``(E, T, *act_shape)``.
        true_rewards: ``(E, T)`` the env's own rewards.

    Example:
        >>> class Still:  # always push left
        ...     def predict(self, obs, deterministic=False):
        ...         return np.zeros(len(obs), np.int64), None
        >>> episodes = run_episodes(Still(), "hfrl/CartPole-v0", num_episodes=2, seed=0)
        >>> left = episodes.goal_returns("hfrl/CartPole-v0", "left")
        >>> episodes.observations.shape, episodes.true_rewards.sum(axis=1).tolist()
        ((2, 501, 4), [10.0, 9.0])
        >>> np.round(left, 2).tolist()  # pushing left: a few steps up, each worth about 0.5
        [5.53, 4.92]
    """

    observations: np.ndarray
    actions: np.ndarray
    true_rewards: np.ndarray

    def goal_returns(self, env_id: str, goal: str) -> np.ndarray:
        """``(E,)`` returns under a goal of the env."""
        goal_fn = get_goal(env_id, goal)
        return np.array(
            [
                goal_fn.rewards(self.observations[i], self.actions[i], self.true_rewards[i]).sum()
                for i in range(len(self.true_rewards))
            ]
        )

    def learned_returns(self, reward: BatchRewardFunction, gamma: float = 1.0) -> np.ndarray:
        """``(E,)`` returns under a learned reward, discounted by ``gamma`` (PPO optimises
        the return discounted by its own ``gamma``, from every state it visits)."""
        num_episodes, num_steps = self.true_rewards.shape
        obs = self.observations[:, :-1].reshape(num_episodes * num_steps, -1)
        next_obs = self.observations[:, 1:].reshape(num_episodes * num_steps, -1)
        actions = self.actions.reshape(num_episodes * num_steps, *self.actions.shape[2:])
        rewards = np.asarray(reward.predict_rewards(obs, actions, next_obs), np.float64)
        return rewards.reshape(num_episodes, num_steps) @ gamma ** np.arange(num_steps)


def run_episodes(
    policy: Any, env_id: str, *, num_episodes: int, seed: int, deterministic: bool = False
) -> Episodes:
    """Run ``policy.predict`` for whole episodes of a suite env.

    Actions are sampled, as while training, unless ``deterministic``: an untrained network's
    most likely action can, by chance, already balance a pole, which would confuse a class.

    Args:
        policy: anything with SB3's ``predict`` (a PPO model or a policy).
        env_id: a suite id (fixed horizon: every episode has the same length).
        num_episodes: episodes, reset with seeds ``seed, seed + 1, ...``.
        seed: the first episode's seed.
        deterministic: take the most likely action instead of sampling one.
    """
    envs = [make_env(env_id) for _ in range(num_episodes)]
    try:
        obs = np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(envs)])
        observations, actions, rewards = [obs], [], []
        done = False
        while not done:
            action, _ = policy.predict(obs, deterministic=deterministic)
            action = np.asarray(action)
            steps = [env.step(a) for env, a in zip(envs, action, strict=True)]
            obs = np.stack([step[0] for step in steps])
            observations.append(obs)
            actions.append(action)
            rewards.append([float(step[1]) for step in steps])
            done = any(step[2] or step[3] for step in steps)
    finally:
        for env in envs:
            env.close()
    return Episodes(
        np.stack(observations, axis=1), np.stack(actions, axis=1), np.asarray(rewards).T
    )


@dataclass(frozen=True)
class Evaluation:
    """Returns of whole episodes.

    Attributes:
        true_returns: ``(episodes,)`` returns under the env's task reward.
        goal_returns: ``(episodes,)`` returns under the evaluated goal (equal to
            ``true_returns`` for the task goal).
    """

    true_returns: np.ndarray
    goal_returns: np.ndarray

    @property
    def true_mean(self) -> float:
        """Mean true return."""
        return float(self.true_returns.mean())

    @property
    def true_std(self) -> float:
        """Standard deviation of the true return over episodes."""
        return float(self.true_returns.std())

    @property
    def goal_mean(self) -> float:
        """Mean return under the goal."""
        return float(self.goal_returns.mean())


def evaluate_policy_returns(
    policy: ActingPolicy,
    env_id: str,
    *,
    num_episodes: int,
    seed: int,
    goal: str = "task",
    deterministic: bool = True,
) -> Evaluation:
    """True and goal returns of ``num_episodes`` whole episodes (seeds ``seed, seed+1, ...``).

    Example:
        >>> class Left:
        ...     def predict(self, observation, deterministic=True):
        ...         return np.zeros(len(observation), np.int64), None
        >>> result = evaluate_policy_returns(Left(), "hfrl/CartPole-v0", num_episodes=2, seed=0)
        >>> result.true_returns.shape, bool(result.true_mean < 50)
        ((2,), True)
    """
    episodes = run_episodes(
        policy, env_id, num_episodes=num_episodes, seed=seed, deterministic=deterministic
    )
    return Evaluation(episodes.true_rewards.sum(axis=1), episodes.goal_returns(env_id, goal))

"""Evaluate a policy on the true reward (and on the goal being taught).

Functions:
    evaluate_policy_returns: mean and spread of episode returns of a policy in a suite env.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from hfrl_gym.envs import get_goal, make_env


class ActingPolicy(Protocol):
    """Anything with SB3's ``predict`` (a PPO model, say)."""

    def predict(self, observation: np.ndarray, deterministic: bool = ...) -> tuple: ...


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
    """Run ``num_episodes`` whole episodes (seeds ``seed, seed+1, ...``) and sum rewards.

    The episodes run side by side, one batched ``predict`` per step.

    Example:
        >>> class Left:
        ...     def predict(self, observation, deterministic=True):
        ...         return np.zeros(len(observation), np.int64), None
        >>> result = evaluate_policy_returns(Left(), "hfrl/CartPole-v0", num_episodes=2, seed=0)
        >>> result.true_returns.shape, bool(result.true_mean < 50)
        ((2,), True)
    """
    envs = [make_env(env_id) for _ in range(num_episodes)]
    goal_fn = get_goal(env_id, goal)
    try:
        obs = np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(envs)])
        observations, actions, rewards = [obs], [], []
        done = False
        while not done:  # the suite's fixed horizon ends every episode on the same step
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
    true_rewards = np.asarray(rewards).T  # (episodes, T)
    observations_array = np.stack(observations, axis=1)  # (episodes, T+1, *obs)
    actions_array = np.stack(actions, axis=1)
    goal_returns = [
        goal_fn.rewards(observations_array[i], actions_array[i], true_rewards[i]).sum()
        for i in range(num_episodes)
    ]
    return Evaluation(true_rewards.sum(axis=1), np.asarray(goal_returns))

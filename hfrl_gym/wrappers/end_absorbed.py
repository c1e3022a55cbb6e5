"""End training episodes that have settled in an absorbing state.

Classes:
    TruncateAbsorbed: truncate an episode some steps after its env reports an absorbing state.

Some suite envs have absorbing states: ``hfrl/CartPole-v0`` after the pole hits the track stays
still, with one observation and one reward, to the horizon. Those steps teach a learner nothing
new, yet a poor policy's 500-step episode is mostly made of them, so PPO sees few episode starts
per env step. Truncating (not terminating) the episode a few steps into the absorbing state
gives PPO many more starts for the same budget; because it is a truncation, PPO bootstraps from
the value of the absorbing state, whose value it has learnt from the steps kept, so the
objective is the same fixed-horizon one and no reward information is given away: the agent
already sees the state, and the signal depends only on it, never on a reward.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym

from hfrl_gym.envs.suite import ABSORBED
from hfrl_gym.errors import ConfigError


class TruncateAbsorbed(gym.Wrapper):
    """Truncate an episode after ``steps`` consecutive steps with ``info["absorbed"]`` true.

    Args:
        env: a suite env; envs that never report ``info["absorbed"]`` pass through unchanged.
        steps: absorbing steps kept before the truncation (at least 1), so that clips and the
            value function still see the absorbing state.

    Example:
        >>> import hfrl_gym  # registers the suite
        >>> from hfrl_gym.envs import make_env
        >>> env = TruncateAbsorbed(make_env("hfrl/CartPole-v0"), steps=5)
        >>> _ = env.reset(seed=0)
        >>> lengths = 0
        >>> truncated = False
        >>> while not truncated:
        ...     *_, truncated, info = env.step(1)
        ...     lengths += 1
        >>> lengths < 500, info["absorbed"]
        (True, True)
    """

    def __init__(self, env: gym.Env, steps: int) -> None:
        if steps < 1:
            raise ConfigError(f"absorbing steps kept before a truncation must be >= 1, got {steps}")
        super().__init__(env)
        self.steps = steps
        self._absorbed_for = 0

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self._absorbed_for = 0
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._absorbed_for = self._absorbed_for + 1 if info.get(ABSORBED) else 0
        if self._absorbed_for >= self.steps:
            truncated = True
        return obs, reward, terminated, truncated, info

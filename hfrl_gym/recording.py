"""Record clips by rolling out a policy: the one rollout every recording goes through.

Functions:
    rollout_clips: step a batch of envs with a policy and return the clips they record.
    record_clips: roll out a policy in a suite env and return its clips.
    record_random_clips: the same with uniformly random actions.

Classes:
    VecStepper: what :func:`rollout_clips` steps (an SB3 ``VecEnv`` is one).

Training records clips from PPO's own experience through ``RecordClips`` inside its vectorised
env, and records the untrained policy's clips with :func:`rollout_clips`; ``hfrl record``,
demonstrations, videos, lessons and tests use :func:`record_clips`. Every clip carries the
name of the policy that acted (``Clip.policy``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from hfrl_gym.clips import Clip
from hfrl_gym.envs import make_env
from hfrl_gym.errors import ConfigError
from hfrl_gym.wrappers.record_clips import RecordClips

Policy = Callable[[np.ndarray, np.random.Generator], np.ndarray | int]
"""``policy(observation, rng) -> action`` for one env."""

BatchPolicy = Callable[[np.ndarray], np.ndarray]
"""``policy(observations) -> actions`` for a batch of envs (first axis: the env)."""


class VecStepper(Protocol):
    """Envs stepped side by side, resetting each when its episode ends (SB3's ``VecEnv``).

    Sub-envs wrapped in ``RecordClips`` return each finished clip in ``infos[i]["clip"]``.
    """

    num_envs: int

    def reset(self) -> Any:
        """Reset every sub-env; return the batch of first observations."""
        ...

    def step(self, actions: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray, list[dict]]:
        """Step every sub-env: observations, rewards, dones, infos."""
        ...


def rollout_clips(
    envs: VecStepper,
    policy: BatchPolicy,
    *,
    num_steps: int | None = None,
    reset_every: int | None = None,
    max_clips: int | None = None,
    on_info: Callable[[dict[str, Any]], None] | None = None,
) -> list[Clip]:
    """Step ``envs`` with ``policy`` and return the clips their ``RecordClips`` finish.

    Args:
        envs: the envs, reset first.
        policy: actions for a batch of observations.
        num_steps: steps of the batch (each is ``envs.num_envs`` env steps); ``None``: until
            ``max_clips`` clips.
        reset_every: reset every sub-env after this many steps of the batch (``None``: only
            when an episode ends).
        max_clips: stop once this many clips are recorded and return that many.
        on_info: called with each sub-env's ``info`` of every step.

    Returns:
        The clips, in the order they were finished.

    Example:
        >>> from stable_baselines3.common.vec_env import DummyVecEnv
        >>> envs = DummyVecEnv([lambda: RecordClips(make_env("hfrl/CartPole-v0"), 5)] * 2)
        >>> clips = rollout_clips(envs, lambda obs: np.zeros(len(obs), np.int64), num_steps=10)
        >>> len(clips), clips[0].num_steps
        (4, 5)
    """
    if num_steps is None and max_clips is None:
        raise ConfigError("rollout_clips needs num_steps or max_clips: it would never stop")
    clips: list[Clip] = []
    observations = envs.reset()
    step = 0
    while num_steps is None or step < num_steps:
        if reset_every and step > 0 and step % reset_every == 0:
            observations = envs.reset()
        observations, _, _, infos = envs.step(policy(observations))
        step += 1
        for info in infos:
            if "clip" in info:
                clips.append(info["clip"])
            if on_info is not None:
                on_info(info)
        if max_clips is not None and len(clips) >= max_clips:
            return clips[:max_clips]
    return clips


class _SeededEnv:
    """One env as a :class:`VecStepper` whose episode ``k`` starts with ``reset(seed + k)``."""

    num_envs = 1

    def __init__(self, env: gym.Env, seed: int) -> None:
        self.env, self.seed, self.episode = env, seed, 0

    def reset(self) -> np.ndarray:
        obs, _ = self.env.reset(seed=self.seed + self.episode)
        self.episode += 1
        return np.asarray(obs)[None]

    def step(self, actions: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray, list[dict]]:
        obs, reward, terminated, truncated, info = self.env.step(actions[0])
        done = terminated or truncated
        if done:
            obs = self.reset()[0]
        return np.asarray(obs)[None], np.array([reward]), np.array([done]), [info]


def record_clips(
    env_id: str,
    *,
    num_clips: int,
    clip_num_steps: int,
    seed: int,
    policy: Policy | None = None,
    policy_name: str = "random",
) -> list[Clip]:
    """Roll out ``policy`` in ``env_id`` until ``num_clips`` clips are recorded.

    Args:
        env_id: a suite id such as ``"hfrl/CartPole-v0"``.
        num_clips: number of clips to return, at least 1.
        clip_num_steps: transitions per clip; at most the env's horizon.
        seed: seeds the env resets (``seed``, ``seed + 1``, ...) and the policy's generator.
        policy: ``policy(obs, rng) -> action``; uniformly random actions when ``None``.
        policy_name: recorded in each clip's provenance.

    Returns:
        ``num_clips`` clips, in the order recorded.

    Example:
        >>> clips = record_clips("hfrl/Pendulum-v0", num_clips=3, clip_num_steps=20, seed=0)
        >>> [c.num_steps for c in clips], clips[0].states.shape[0], clips[0].policy
        ([20, 20, 20], 21, 'random')
    """
    if num_clips < 1:
        raise ConfigError(f"num_clips must be at least 1, got {num_clips}")
    env = RecordClips(make_env(env_id), clip_num_steps, policy_name=policy_name, keep=False)
    horizon = env.spec.max_episode_steps if env.spec is not None else None
    if horizon is not None and clip_num_steps > horizon:
        raise ConfigError(
            f"clip_num_steps={clip_num_steps} is longer than {env_id}'s horizon of {horizon} "
            "steps; use at most the horizon"
        )
    rng = np.random.default_rng(seed)
    env.action_space.seed(seed)

    def act(observations: np.ndarray) -> list[Any]:
        obs = observations[0]
        return [env.action_space.sample() if policy is None else policy(obs, rng)]

    try:
        return rollout_clips(_SeededEnv(env, seed), act, max_clips=num_clips)
    finally:
        env.close()


def record_random_clips(
    env_id: str, *, num_clips: int, clip_num_steps: int, seed: int
) -> list[Clip]:
    """Clips of a uniformly random policy (see :func:`record_clips`)."""
    return record_clips(
        env_id, num_clips=num_clips, clip_num_steps=clip_num_steps, seed=seed, policy=None
    )

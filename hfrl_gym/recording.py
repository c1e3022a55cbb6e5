"""Record clips from a suite env with a simple policy (random, or any callable).

Functions:
    record_clips: roll out a policy in a suite env and return its clips.
    record_random_clips: the same with uniformly random actions.

Used by ``hfrl record``, the demo, tests and benchmarks; training records clips from PPO's
own experience through ``RecordClips`` inside the vectorised env instead.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hfrl_gym.clips import Clip
from hfrl_gym.envs import make_env
from hfrl_gym.errors import ConfigError
from hfrl_gym.wrappers.record_clips import RecordClips

Policy = Callable[[np.ndarray, np.random.Generator], np.ndarray | int]


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
        >>> [c.num_steps for c in clips], clips[0].states.shape[0]
        ([20, 20, 20], 21)
    """
    if num_clips < 1:
        raise ConfigError(f"num_clips must be at least 1, got {num_clips}")
    env = RecordClips(make_env(env_id), clip_num_steps, policy_name=policy_name)
    horizon = env.spec.max_episode_steps if env.spec is not None else None
    if horizon is not None and clip_num_steps > horizon:
        raise ConfigError(
            f"clip_num_steps={clip_num_steps} is longer than {env_id}'s horizon of {horizon} "
            "steps; use at most the horizon"
        )
    rng = np.random.default_rng(seed)
    env.action_space.seed(seed)
    clips: list[Clip] = []
    episode = 0
    try:
        while len(clips) < num_clips:
            obs, _ = env.reset(seed=seed + episode)
            episode += 1
            done = False
            while not done and len(clips) < num_clips:
                action = env.action_space.sample() if policy is None else policy(obs, rng)
                obs, _, terminated, truncated, _ = env.step(action)
                clips.extend(env.pop_clips())
                done = terminated or truncated
    finally:
        env.close()
    return clips[:num_clips]


def record_random_clips(
    env_id: str, *, num_clips: int, clip_num_steps: int, seed: int
) -> list[Clip]:
    """Clips of a uniformly random policy (see :func:`record_clips`)."""
    return record_clips(
        env_id, num_clips=num_clips, clip_num_steps=clip_num_steps, seed=seed, policy=None
    )

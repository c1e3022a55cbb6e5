"""Cut an env's experience into fixed-length clips.

Classes:
    RecordClips: a Gymnasium wrapper that records consecutive clips of each episode.

A clip holds observations, actions, the true (task) reward and, for envs that can restore their
simulator state, the snapshots that let it be re-rendered later at any size. No pixels are
recorded for such envs: rendering happens only for the clips a person will see.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from hfrl_gym.clips import Clip
from hfrl_gym.envs import supports_state
from hfrl_gym.errors import ConfigError


class RecordClips(gym.Wrapper):
    """Record consecutive, non-overlapping clips of ``clip_num_steps`` steps from each episode.

    The step that completes a clip carries it in ``info["clip"]``, so clips travel back through
    Stable-Baselines3's ``DummyVecEnv`` and ``SubprocVecEnv``; with ``keep=True`` the wrapper
    also appends it to :attr:`clips`. A partial clip left when an episode ends is dropped (clips
    of unequal length are not compared). The true reward is taken from
    ``info["true_reward"]`` when an inner wrapper (such as ``LearnedReward``) replaced the
    reward, else from the reward itself.

    Envs that cannot restore their state are recorded as frames (``render_mode="rgb_array"``
    is then required).

    Args:
        env: the env to record; a suite env (``hfrl/...``) records snapshots.
        clip_num_steps: steps (transitions) per clip, at least 1.
        policy_name: provenance of the acting policy; change it with :meth:`set_policy_name`.
        keep: also keep finished clips in :attr:`clips` (turn off inside subprocesses).

    Example:
        >>> import hfrl_gym  # registers the suite
        >>> from hfrl_gym.envs import make_env
        >>> env = RecordClips(make_env("hfrl/CartPole-v0"), clip_num_steps=10, policy_name="random")
        >>> _ = env.reset(seed=0)
        >>> for _ in range(25):
        ...     _ = env.step(env.action_space.sample())
        >>> [clip.num_steps for clip in env.pop_clips()]
        [10, 10]
    """

    def __init__(
        self,
        env: gym.Env,
        clip_num_steps: int,
        *,
        policy_name: str = "unknown",
        keep: bool = True,
    ) -> None:
        super().__init__(env)
        if int(clip_num_steps) < 1:
            raise ConfigError(f"clip_num_steps must be at least 1, got {clip_num_steps}")
        self.clip_num_steps = int(clip_num_steps)
        self.policy_name = policy_name
        self.keep = keep
        self.clips: list[Clip] = []
        self._use_states = supports_state(env)
        # The suite env's own getter, looked up once: get_state() would walk the wrappers and
        # re-check support on every step (this wrapper's overhead is benchmarked).
        self._capture_state = env.unwrapped.get_state if self._use_states else None
        if not self._use_states and env.render_mode != "rgb_array":
            raise ConfigError(
                f"{env.spec.id if env.spec else env}: this env cannot restore its state, so "
                "clips must store frames; make it with render_mode='rgb_array'"
            )
        self._env_id = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
        self._episode = -1
        self._seed: int | None = None
        self._episode_step = 0
        self._reset_buffer(None)

    def set_policy_name(self, policy_name: str) -> None:
        """Name the policy acting from now on (recorded in each clip's provenance)."""
        self.policy_name = policy_name

    def pop_clips(self) -> list[Clip]:
        """Return the kept clips and forget them."""
        clips, self.clips = self.clips, []
        return clips

    def _snapshot(self) -> np.ndarray:
        if self._capture_state is not None:
            return self._capture_state()
        return np.asarray(self.env.render(), dtype=np.uint8)

    def _reset_buffer(self, obs: Any, snapshot: np.ndarray | None = None) -> None:
        self._start_step = self._episode_step
        self._observations: list[np.ndarray] = [] if obs is None else [np.array(obs)]
        if obs is not None and snapshot is None:
            snapshot = self._snapshot()
        self._snapshots: list[np.ndarray] = [] if snapshot is None else [snapshot]
        self._actions: list[np.ndarray] = []
        self._rewards: list[float] = []

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the env and start a new episode's first clip."""
        obs, info = self.env.reset(seed=seed, options=options)
        self._episode += 1
        self._seed = seed
        self._episode_step = 0
        self._reset_buffer(obs)
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step the env; the step that completes a clip returns it in ``info["clip"]``."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._episode_step += 1
        # No per-step copies: Gymnasium envs return a new observation array each step, and
        # np.stack copies everything once the clip is complete.
        self._actions.append(action)
        self._rewards.append(info.get("true_reward", reward))
        self._observations.append(obs)
        self._snapshots.append(self._snapshot())
        if len(self._actions) == self.clip_num_steps:
            clip = self._finish_clip()
            info["clip"] = clip
            if self.keep:
                self.clips.append(clip)
            self._reset_buffer(obs, self._snapshots[-1])
        elif terminated or truncated:
            self._reset_buffer(None)
        return obs, reward, terminated, truncated, info

    def _finish_clip(self) -> Clip:
        snapshots = np.stack(self._snapshots)
        return Clip(
            env_id=self._env_id,
            observations=np.stack(self._observations),
            actions=np.stack([np.asarray(a) for a in self._actions]),
            true_rewards=np.asarray(self._rewards, dtype=np.float64),
            states=snapshots if self._use_states else None,
            frames=None if self._use_states else snapshots,
            seed=self._seed,
            episode=self._episode,
            start_step=self._start_step,
            policy=self.policy_name,
        )

"""The off-policy agents of the loop (``hfrl train --algo sac|dqn``): off-policy RLHF, as PEBBLE.

PEBBLE (Lee et al. 2021) trains SAC on the learned reward. A replay buffer keeps transitions
scored by earlier reward models, so after every refit all of it is **relabelled** by the new
model, in batches, exactly as ``VecLearnedReward`` scores a new step: the same
``predict_rewards(obs, action, next_obs)``, with the action the env was given (SAC stores it
rescaled to [-1, 1]; it is mapped back; DQN stores the discrete action itself) and the
episode's last observation as the next one. The state-entropy exploration before the first
queries (``agents.exploration``) is the unsupervised pre-training; after it SAC's critics,
which learned the intrinsic reward's values, start afresh, as in PEBBLE. DQN keeps its
Q-network: it is DQN's policy too (PEBBLE keeps the explorer's actor), and the relabelled
buffer's targets retrain its values. The true reward never enters the buffer: the env's reward
is replaced before SB3 sees the step (``info["true_reward"]`` is not stored).

The buffer is saved with each checkpoint as ``.npz`` arrays (``np.load(allow_pickle=False)``
reads it back: a crafted file runs no code), so a resumed run continues with the same buffer.

Classes:
    OffPolicyAgent: an SB3 off-policy algorithm, its training envs and its replay buffer,
        relabelled when the reward changes, with ``PPOAgent``'s interface.
    SACAgent: SAC (continuous actions).
    DQNAgent: DQN (discrete actions).

Functions:
    relabel_buffer: recompute every stored reward with a reward function, in batches.
    save_buffer: write a replay buffer's filled rows as ``.npz``.
    load_buffer: read a saved replay buffer into one of the same shapes.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3 import SAC
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.vec_env import VecEnv

from agents.dqn import RoundsDQN, make_dqn
from agents.policy_file import load_policy, save_policy
from agents.rounds_agent import RoundsAgent
from agents.sac import make_sac
from agents.vec_learned_reward import VecLearnedReward
from hfrl_gym.clips import Clip
from hfrl_gym.errors import ConfigError
from hfrl_gym.wrappers.learned_reward import BatchRewardFunction

RELABEL_BATCH = 65_536
"""Transitions scored per call when the buffer is relabelled."""

BUFFER_ARRAYS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")
"""The replay buffer's arrays saved in ``replay_buffer.npz`` (its filled rows)."""


def _filled(buffer: ReplayBuffer) -> int:
    """Rows of ``buffer`` holding transitions (each row: one step of every sub-env)."""
    return buffer.buffer_size if buffer.full else buffer.pos


def relabel_buffer(
    buffer: ReplayBuffer,
    reward_fn: BatchRewardFunction,
    *,
    env_actions: Callable[[np.ndarray], np.ndarray],
    batch_size: int = RELABEL_BATCH,
) -> int:
    """Replace every stored reward with ``reward_fn``'s, ``batch_size`` transitions a call.

    Args:
        buffer: SB3's replay buffer (with ``next_observations``: not memory-optimised).
        reward_fn: the new learned reward.
        env_actions: maps stored actions to the actions the env was given (SAC's
            ``policy.unscale_action``).
        batch_size: transitions per ``predict_rewards`` call.

    Returns:
        The number of transitions relabelled.
    """
    rows, n_envs = _filled(buffer), buffer.n_envs
    count = rows * n_envs
    if count == 0:
        return 0
    obs = buffer.observations[:rows].reshape(count, *buffer.obs_shape)
    next_obs = buffer.next_observations[:rows].reshape(count, *buffer.obs_shape)
    actions = buffer.actions[:rows].reshape(count, buffer.action_dim)
    rewards = np.empty(count, dtype=np.float32)
    for start in range(0, count, batch_size):
        part = slice(start, start + batch_size)
        scored = reward_fn.predict_rewards(obs[part], env_actions(actions[part]), next_obs[part])
        rewards[part] = np.asarray(scored, dtype=np.float32).reshape(-1)
    buffer.rewards[:rows] = rewards.reshape(rows, n_envs)
    return count


def save_buffer(buffer: ReplayBuffer, path: Path) -> None:
    """Write ``buffer``'s filled rows, its position and whether it wrapped, as ``.npz``.

    The file is replaced atomically (a kill leaves the previous one).
    """
    rows = _filled(buffer)
    arrays = {name: getattr(buffer, name)[:rows] for name in BUFFER_ARRAYS}
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as handle:
        np.savez(handle, pos=np.int64(buffer.pos), full=np.bool_(buffer.full), **arrays)
    os.replace(temporary, path)


def load_buffer(buffer: ReplayBuffer, path: Path) -> None:
    """Fill ``buffer`` from a file :func:`save_buffer` wrote (same shapes, same size).

    Raises:
        ConfigError: the file is damaged, holds pickled objects (never unpickled) or arrays
            of other shapes than this run's buffer.
    """
    fix = "restore the run's replay_buffer.npz, or start a new run"
    try:
        with np.load(path, allow_pickle=False) as data:
            loaded = {name: np.asarray(data[name]) for name in (*BUFFER_ARRAYS, "pos", "full")}
        pos, full = int(loaded["pos"]), bool(loaded["full"])
    except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile) as error:
        raise ConfigError(f"{path} is not a replay buffer ({error}); {fix}") from None
    rows = len(loaded["rewards"])
    if not 0 <= pos <= buffer.buffer_size or rows != (buffer.buffer_size if full else pos):
        raise ConfigError(
            f"{path} holds {rows} rows at position {pos} (full: {full}), which a buffer of "
            f"{buffer.buffer_size} rows cannot; {fix}"
        )
    for name in BUFFER_ARRAYS:
        target = getattr(buffer, name)
        if loaded[name].shape != (rows, *target.shape[1:]) or loaded[name].dtype != target.dtype:
            raise ConfigError(
                f"{path}'s {name} is {loaded[name].dtype} {loaded[name].shape}, this run's "
                f"{target.dtype} {(rows, *target.shape[1:])}; {fix}"
            )
    for name in BUFFER_ARRAYS:
        getattr(buffer, name)[:rows] = loaded[name]
    buffer.pos, buffer.full = pos % buffer.buffer_size, full


class OffPolicyAgent(RoundsAgent):
    """An SB3 off-policy algorithm training on ``reward`` (``None``: the env's own) in ``venv``.

    Args (beyond ``RoundsAgent``'s):
        buffer_path: where the replay buffer is saved and restored (``None``: never).

    Attributes:
        relabelled: transitions relabelled in this process, over all passes.
    """

    model: OffPolicyAlgorithm

    def __init__(
        self,
        env_id: str,
        venv: VecEnv,
        reward: BatchRewardFunction | None,
        *,
        buffer_path: Path | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(env_id, venv, reward, **kwargs)
        self.buffer_path = buffer_path
        self.relabelled = 0
        self._exploring = False
        self._labelled_by = self._reward_version()

    @property
    def replay_buffer(self) -> ReplayBuffer:
        """The algorithm's replay buffer."""
        assert self.model.replay_buffer is not None
        return self.model.replay_buffer

    def _env_actions(self, stored: np.ndarray) -> np.ndarray:
        """The actions the env was given, from the buffer's stored ones (as they are)."""
        return stored

    def _reset_values(self) -> None:
        """Forget the values learned on the exploration's intrinsic reward (nothing here)."""

    def _reward_version(self) -> tuple[int, int, float] | None:
        """Which learned reward, after how many fits and with which exploration bonus, scores
        new steps (``None``: the env's own reward, which stays as it is)."""
        if not isinstance(self.train_venv, VecLearnedReward):
            return None
        reward = self.train_venv.reward_fn
        return id(reward), getattr(reward, "num_fits", 0), getattr(reward, "beta", 0.0)

    def relabel(self) -> int:
        """Score every stored transition with the current learned reward; return how many."""
        assert isinstance(self.train_venv, VecLearnedReward)
        count = relabel_buffer(
            self.replay_buffer, self.train_venv.reward_fn, env_actions=self._env_actions
        )
        self.relabelled += count
        self._labelled_by = self._reward_version()
        return count

    def _before_learning(self) -> None:
        """Relabel the buffer when the reward changed (a refit, or after exploration)."""
        if not self._exploring and self._reward_version() != self._labelled_by:
            self.relabel()

    def explore(self, num_env_steps: int, *, round_index: int) -> list[Clip]:
        """Pre-train on the state-entropy reward (PEBBLE), then :meth:`_reset_values`.

        The buffer keeps the exploration's transitions; the next :meth:`train` relabels them
        with the learned reward. Returns the clips of the exploration.
        """
        self._exploring = True
        try:
            clips = super().explore(num_env_steps, round_index=round_index)
        finally:
            self._exploring = False
        self._labelled_by = None  # the buffer holds intrinsic rewards
        self._reset_values()
        return clips

    def restore(self, policy_path: Path | None, *, ppo_steps: int, env_steps: int) -> None:
        """Load a checkpoint's policy, optimizers and replay buffer, and step counts (resume).

        ``ppo_steps``: the algorithm's own env steps (``state.json`` names them for all).
        """
        if policy_path is not None:
            load_policy(self.model, policy_path, env_id=self.env_id)
            self.model.num_timesteps = ppo_steps
            if self.buffer_path is not None and self.buffer_path.is_file():
                load_buffer(self.replay_buffer, self.buffer_path)
        self.env_steps = env_steps
        self._labelled_by = self._reward_version()  # saved together with that reward model

    def save(self, policy_path: Path) -> None:
        """Save the policy (tensors plus JSON) and the replay buffer (``.npz``)."""
        save_policy(self.model, policy_path, env_id=self.env_id)
        if self.buffer_path is not None:
            save_buffer(self.replay_buffer, self.buffer_path)


class SACAgent(OffPolicyAgent):
    """SAC (``agents.sac``'s settings of the env, or ``hyperparameters``)."""

    name = "sac"
    model: SAC

    build = staticmethod(make_sac)

    @property
    def sac(self) -> SAC:
        """The SB3 SAC (:attr:`model`)."""
        return self.model

    def _env_actions(self, stored: np.ndarray) -> np.ndarray:
        """SB3 stores SAC's actions rescaled to [-1, 1]: the env's are mapped back."""
        return self.model.policy.unscale_action(stored)

    def _reset_values(self) -> None:
        """New critic weights (drawn from torch's seeded generator), target copied, fresh
        optimizer moments: the values of the intrinsic reward are not the task's."""
        for layer in self.model.critic.modules():
            if isinstance(layer, torch.nn.Linear):
                layer.reset_parameters()
        self.model.critic_target.load_state_dict(self.model.critic.state_dict())
        self.model.critic.optimizer.state.clear()


class DQNAgent(OffPolicyAgent):
    """DQN (``agents.dqn``'s settings of the env, or ``hyperparameters``)."""

    name = "dqn"
    model: RoundsDQN
    build = staticmethod(make_dqn)


OFF_POLICY_AGENTS: dict[str, type[OffPolicyAgent]] = {"sac": SACAgent, "dqn": DQNAgent}
"""The off-policy agent of each ``--algo`` value that has one."""

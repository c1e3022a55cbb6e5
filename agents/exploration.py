"""Unsupervised exploration before the first queries: maximise the entropy of visited states.

PEBBLE (Lee et al. 2021) pre-trains the agent, before any label, on an intrinsic reward that
grows with the distance from a state to its k-th nearest neighbour among recently visited
states (a particle estimate of state entropy, as in APT, Liu & Abbeel 2021). The first clips
people compare then cover the task instead of showing one untrained behaviour again and
again (CartPole's pole, fallen within 20 steps, in every clip), so the first reward model
learns from pairs that differ.

Classes:
    StateEntropyReward: the intrinsic reward, a ``BatchRewardFunction`` (one batched call per
        step of all sub-envs); it never sees the env's reward.
"""

from __future__ import annotations

import numpy as np


class StateEntropyReward:
    """``log(1 + d_k)``: the distance from each next observation to its ``k``-th nearest
    neighbour among the last ``buffer_size`` ones, in standardised units, rescaled to unit
    standard deviation (a running estimate) so that PPO sees rewards of a familiar size.

    Args:
        k: the neighbour whose distance counts (PEBBLE uses 5).
        buffer_size: recent next observations kept to measure against.

    Example:
        >>> reward = StateEntropyReward(k=1, buffer_size=100)
        >>> near = reward.predict_rewards(None, None, np.zeros((4, 2)))  # one point, again
        >>> far = reward.predict_rewards(None, None, np.array([[0.0, 0.0], [5.0, 5.0]]))
        >>> bool(far[1] > far[0])  # a new state is worth more than a visited one
        True
    """

    def __init__(self, *, k: int = 5, buffer_size: int = 10_000) -> None:
        self.k, self.buffer_size = k, buffer_size
        self._buffer: np.ndarray | None = None
        self._count = 0
        self._reward_sq_sum, self._reward_count = 0.0, 0

    def predict_rewards(
        self, observations: object, actions: object, next_observations: np.ndarray
    ) -> np.ndarray:
        """``(N,)`` float32 intrinsic rewards of the next observations; they join the buffer."""
        states = np.asarray(next_observations, dtype=np.float64).reshape(len(next_observations), -1)
        self._remember(states)
        buffer = self._buffer[: min(self._count, self.buffer_size)]
        scale = buffer.std(axis=0) + 1e-6
        diffs = (states[:, None, :] - buffer[None, :, :]) / scale
        distances = np.sqrt(np.square(diffs).sum(axis=2))
        k = min(self.k, distances.shape[1] - 1)  # the state itself is in the buffer, at 0
        kth = np.partition(distances, k, axis=1)[:, k]
        rewards = np.log1p(kth)
        self._reward_sq_sum += float(np.square(rewards).sum())
        self._reward_count += len(rewards)
        std = np.sqrt(self._reward_sq_sum / self._reward_count) + 1e-8
        return (rewards / std).astype(np.float32)

    def _remember(self, states: np.ndarray) -> None:
        if self._buffer is None:
            self._buffer = np.zeros((self.buffer_size, states.shape[1]))
        rows = (self._count + np.arange(len(states))) % self.buffer_size  # a ring buffer
        self._buffer[rows] = states
        self._count += len(states)

"""Transition features for the reward model: observation, action, next observation.

Only these three enter the model; the true reward never does. Box parts are flattened,
Discrete parts one-hot encoded, and the three parts concatenated in that order.

Classes:
    TransitionFeatures: builds ``(N, D)`` float32 features (NumPy or torch) for two spaces.

Functions:
    describe_space: a JSON description of a space (for checkpoints).
    space_from_description: the space back from its description.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch

from hfrl_gym.clips import Clip
from hfrl_gym.errors import ConfigError


def describe_space(space: gym.Space) -> dict[str, Any]:
    """JSON-serialisable description: type, shape, dtype (Box) or n, start (Discrete).

    Box bounds are left out: the features do not depend on them.

    Example:
        >>> describe_space(gym.spaces.Discrete(3))
        {'type': 'Discrete', 'n': 3, 'start': 0}
    """
    if isinstance(space, gym.spaces.Box):
        return {"type": "Box", "shape": list(space.shape), "dtype": np.dtype(space.dtype).name}
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    raise ConfigError(
        f"the reward model supports Box and Discrete spaces, got {type(space).__name__}; "
        "flatten the space with gymnasium.wrappers.FlattenObservation first"
    )


def space_from_description(description: dict[str, Any]) -> gym.Space:
    """The space of :func:`describe_space` (Box bounds become infinite).

    Example:
        >>> space_from_description({"type": "Box", "shape": [3], "dtype": "float32"}).shape
        (3,)
    """
    kind = description.get("type")
    if kind == "Box":
        shape = tuple(int(size) for size in description["shape"])
        return gym.spaces.Box(-np.inf, np.inf, shape=shape, dtype=np.dtype(description["dtype"]))
    if kind == "Discrete":
        return gym.spaces.Discrete(int(description["n"]), start=int(description["start"]))
    raise ConfigError(f"unknown space description {description!r}")


def _part_dim(space: gym.Space) -> int:
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    return int(np.prod(space.shape, dtype=np.int64))


class TransitionFeatures:
    """Turns ``(obs, action, next_obs)`` batches into ``(N, D)`` float32 features.

    Args:
        observation_space: a Box (any shape, flattened) or Discrete (one-hot) space.
        action_space: a Box or Discrete space.

    Attributes:
        dim: ``D = 2 * obs_dim + action_dim``.
        continuous: ``(D,)`` bool, True for the Box parts (the ones worth normalising).

    Example:
        >>> features = TransitionFeatures(gym.spaces.Box(-1, 1, (2,)), gym.spaces.Discrete(3))
        >>> features(np.zeros((1, 2)), np.array([2]), np.ones((1, 2))).tolist()
        [[0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0]]
    """

    def __init__(self, observation_space: gym.Space, action_space: gym.Space) -> None:
        describe_space(observation_space)  # rejects unsupported spaces
        describe_space(action_space)
        self.observation_space = observation_space
        self.action_space = action_space
        obs_dim, action_dim = _part_dim(observation_space), _part_dim(action_space)
        self.dim = 2 * obs_dim + action_dim
        parts = [observation_space, action_space, observation_space]
        self.continuous = np.concatenate(
            [
                np.full(_part_dim(space), isinstance(space, gym.spaces.Box), dtype=bool)
                for space in parts
            ]
        )

    def _check(self, name: str, batch: np.ndarray | torch.Tensor, space: gym.Space) -> int:
        shape = tuple(batch.shape)
        expected = [tuple(space.shape)]
        if isinstance(space, gym.spaces.Discrete):
            expected.append((1,))  # SB3's rollout buffers keep Discrete actions as (N, 1)
        if len(shape) == 0 or shape[1:] not in expected:
            raise ConfigError(
                f"{name} must have shape (N, {', '.join(map(str, space.shape))}) for "
                f"{space}, got {shape}"
            )
        return shape[0]

    def __call__(
        self, observations: np.ndarray, actions: np.ndarray, next_observations: np.ndarray
    ) -> np.ndarray:
        """``(N, D)`` float32 features of ``N`` transitions (NumPy).

        Args:
            observations: ``(N, *obs_shape)`` observations before each action.
            actions: ``(N, *action_shape)`` actions (integers for Discrete).
            next_observations: ``(N, *obs_shape)`` observations after each action.
        """
        parts = [
            self._encode("observations", np.asarray(observations), self.observation_space),
            self._encode("actions", np.asarray(actions), self.action_space),
            self._encode(
                "next_observations", np.asarray(next_observations), self.observation_space
            ),
        ]
        if not parts[0].shape[0] == parts[1].shape[0] == parts[2].shape[0]:
            raise ConfigError(
                "observations, actions and next_observations must have the same length N, got "
                f"{[part.shape[0] for part in parts]}"
            )
        return np.concatenate(parts, axis=1)

    def _encode(self, name: str, batch: np.ndarray, space: gym.Space) -> np.ndarray:
        num = self._check(name, batch, space)
        if isinstance(space, gym.spaces.Discrete):
            index = batch.reshape(num).astype(np.int64) - int(space.start)
            if num and (index.min() < 0 or index.max() >= space.n):
                raise ConfigError(f"{name} must lie in {space}, got values outside it")
            one_hot = np.zeros((num, int(space.n)), dtype=np.float32)
            one_hot[np.arange(num), index] = 1.0
            return one_hot
        return batch.reshape(num, -1).astype(np.float32)

    def tensor(
        self, observations: torch.Tensor, actions: torch.Tensor, next_observations: torch.Tensor
    ) -> torch.Tensor:
        """``(N, D)`` float32 features on the inputs' device (torch in, torch out).

        Same arguments as :meth:`__call__`, as tensors on one device; no value checks, so
        that batched inference stays fast (Discrete values must be in range).
        """
        parts = [
            self._encode_tensor("observations", observations, self.observation_space),
            self._encode_tensor("actions", actions, self.action_space),
            self._encode_tensor("next_observations", next_observations, self.observation_space),
        ]
        return torch.cat(parts, dim=1)

    def _encode_tensor(self, name: str, batch: torch.Tensor, space: gym.Space) -> torch.Tensor:
        num = self._check(name, batch, space)
        if isinstance(space, gym.spaces.Discrete):
            index = batch.reshape(num).long() - int(space.start)
            return torch.nn.functional.one_hot(index, int(space.n)).float()
        return batch.reshape(num, -1).float()

    def clip(self, clip: Clip) -> np.ndarray:
        """``(T, D)`` features of a clip's transitions (its true rewards are not used)."""
        return self(clip.observations[:-1], clip.actions, clip.observations[1:])

"""Normalisation of the reward model's inputs and outputs.

Inputs: each continuous feature is standardised with the mean and standard deviation of the
transitions in the labelled clips, computed when the model is fit and frozen until the next
fit (one-hot features are left as they are). Outputs: the ensemble-mean reward is
standardised with its mean and standard deviation over the same transitions, so PPO sees a
reward of about zero mean and unit scale whatever the scale the Bradley-Terry fit settled on.
Both are stored in the checkpoint's ``meta.json``.

Classes:
    Standardizer: per-feature ``(x - mean) / std``.
    RewardScale: scalar ``(r - mean) / std`` of the model's output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hfrl_gym.errors import CheckpointError

MIN_FEATURE_STD = 1e-2
"""Floor of a feature's standard deviation, so a feature constant in the training data
(e.g. an action never taken) is not divided by ~0 when it later varies."""

MIN_REWARD_STD = 1e-8
"""Below this the output is treated as constant and only centred."""


@dataclass(frozen=True)
class Standardizer:
    """Per-feature standardisation ``(x - mean) / std``.

    Attributes:
        mean: ``(D,)`` float64 feature means.
        std: ``(D,)`` float64 feature standard deviations (>= ``MIN_FEATURE_STD`` where fit).

    Example:
        >>> x = np.array([[0.0, 1.0], [2.0, 0.0]])
        >>> norm = Standardizer.fit(x, continuous=np.array([True, False]))
        >>> norm.apply(x).tolist()
        [[-1.0, 1.0], [1.0, 0.0]]
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def identity(cls, dim: int) -> Standardizer:
        """Mean 0, std 1 for ``dim`` features (the state before any fit)."""
        return cls(np.zeros(dim), np.ones(dim))

    @classmethod
    def fit(cls, features: np.ndarray, *, continuous: np.ndarray) -> Standardizer:
        """Statistics of ``(N, D)`` features; features where ``continuous`` is False are kept."""
        features = np.asarray(features, dtype=np.float64)
        mean = np.where(continuous, features.mean(axis=0), 0.0)
        std = np.where(continuous, np.maximum(features.std(axis=0), MIN_FEATURE_STD), 1.0)
        return cls(mean, std)

    def apply(self, features: np.ndarray) -> np.ndarray:
        """``(N, D)`` standardised features, float32."""
        return ((features - self.mean) / self.std).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{"mean": [...], "std": [...]}``."""
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, dim: int) -> Standardizer:
        """Read :meth:`to_dict`'s form back, checking it has ``dim`` finite entries."""
        try:
            mean = np.asarray(data["mean"], dtype=np.float64)
            std = np.asarray(data["std"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as error:
            raise CheckpointError(f"input normalisation is malformed: {error!r}") from error
        if mean.shape != (dim,) or std.shape != (dim,):
            raise CheckpointError(
                f"input normalisation has shapes {mean.shape}, {std.shape}; expected ({dim},)"
            )
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std > 0)):
            raise CheckpointError("input normalisation holds non-finite or non-positive values")
        return cls(mean, std)


@dataclass(frozen=True)
class RewardScale:
    """Standardisation of the reward model's (ensemble-mean) output.

    Attributes:
        mean: mean raw reward per transition over the training transitions.
        std: its standard deviation (1 when the raw reward is constant).

    Example:
        >>> scale = RewardScale.fit(np.array([1.0, 3.0]))
        >>> scale, scale.apply(np.array([3.0])).tolist()
        (RewardScale(mean=2.0, std=1.0), [1.0])
    """

    mean: float = 0.0
    std: float = 1.0

    @classmethod
    def fit(cls, rewards: np.ndarray) -> RewardScale:
        """Mean and standard deviation of ``(N,)`` raw rewards."""
        rewards = np.asarray(rewards, dtype=np.float64)
        std = float(rewards.std())
        return cls(float(rewards.mean()), std if std > MIN_REWARD_STD else 1.0)

    def apply(self, rewards: np.ndarray) -> np.ndarray:
        """``(rewards - mean) / std``."""
        return (rewards - self.mean) / self.std

    def to_dict(self) -> dict[str, float]:
        """JSON form: ``{"mean": ..., "std": ...}``."""
        return {"mean": self.mean, "std": self.std}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RewardScale:
        """Read :meth:`to_dict`'s form back."""
        try:
            mean, std = float(data["mean"]), float(data["std"])
        except (KeyError, TypeError, ValueError) as error:
            raise CheckpointError(f"reward normalisation is malformed: {error!r}") from error
        if not (np.isfinite(mean) and np.isfinite(std) and std > 0):
            raise CheckpointError(f"reward normalisation must be finite, std > 0: {data!r}")
        return cls(mean, std)

"""Clips: short trajectory segments, the unit that people and teachers compare.

Classes:
    Clip: a frozen segment of one episode, with the simulator snapshots needed to re-render it.
    ClipPair: two clips shown side by side (a query), optionally with its store id.

Example:
    >>> import numpy as np
    >>> clip = Clip(
    ...     env_id="hfrl/CartPole-v0",
    ...     observations=np.zeros((4, 4), np.float32),
    ...     actions=np.zeros(3, np.int64),
    ...     true_rewards=np.ones(3),
    ...     states=np.zeros((4, 4)),
    ... )
    >>> clip.num_steps, clip.true_return
    (3, 3.0)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hfrl_gym.errors import ClipShapeError

ARRAY_FIELDS = ("observations", "actions", "true_rewards", "states", "frames")


def _new_uid() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, eq=False)
class Clip:
    """A segment of ``T`` steps of one episode.

    Attributes:
        env_id: suite id the clip was recorded in, e.g. ``"hfrl/CartPole-v0"``.
        observations: ``(T+1, *obs_shape)`` observations, the first before the first action.
        actions: ``(T, *act_shape)`` actions taken (integers for discrete spaces).
        true_rewards: ``(T,)`` float64 env (task) rewards. Never shown to the agent or the
            reward model; used for evaluation, scripted teachers and plots.
        states: ``(T+1, state_dim)`` float64 simulator snapshots aligned with ``observations``,
            or ``None`` when the env cannot restore its state.
        frames: ``(T+1, H, W, 3)`` uint8 frames, only when ``states`` is ``None``.
        seed: seed of the episode's reset, if known.
        episode: index of the episode within the recording env.
        start_step: env step within the episode at which the clip starts.
        policy: name of the policy that acted (``"random"``, a checkpoint name, ``"human"``).
        uid: a globally unique hex id, kept across stores, export and import.
    """

    env_id: str
    observations: np.ndarray
    actions: np.ndarray
    true_rewards: np.ndarray
    states: np.ndarray | None = None
    frames: np.ndarray | None = None
    seed: int | None = None
    episode: int = 0
    start_step: int = 0
    policy: str = "unknown"
    uid: str = field(default_factory=_new_uid)

    def __post_init__(self) -> None:
        obs = np.asarray(self.observations)
        actions = np.asarray(self.actions)
        rewards = np.asarray(self.true_rewards, dtype=np.float64)
        object.__setattr__(self, "observations", obs)
        object.__setattr__(self, "actions", actions)
        object.__setattr__(self, "true_rewards", rewards)
        where = f"clip {self.uid} of {self.env_id!r}"
        if not isinstance(self.env_id, str) or not self.env_id:
            raise ClipShapeError(f"{where}: env_id must be a non-empty string")
        if rewards.ndim != 1 or rewards.shape[0] < 1:
            raise ClipShapeError(
                f"{where}: true_rewards must have shape (T,) with T >= 1, got {rewards.shape}"
            )
        num_steps = rewards.shape[0]
        if obs.ndim < 1 or obs.shape[0] != num_steps + 1:
            raise ClipShapeError(
                f"{where}: observations must have T+1={num_steps + 1} rows (one more than "
                f"true_rewards), got shape {obs.shape}"
            )
        if actions.ndim < 1 or actions.shape[0] != num_steps:
            raise ClipShapeError(
                f"{where}: actions must have T={num_steps} rows, got shape {actions.shape}"
            )
        if self.states is None and self.frames is None:
            raise ClipShapeError(
                f"{where}: give states (simulator snapshots) or frames, so it can be shown"
            )
        if self.states is not None:
            states = np.asarray(self.states, dtype=np.float64)
            object.__setattr__(self, "states", states)
            if states.ndim != 2 or states.shape[0] != num_steps + 1:
                raise ClipShapeError(
                    f"{where}: states must have shape (T+1={num_steps + 1}, state_dim), "
                    f"got {states.shape}"
                )
        if self.frames is not None:
            frames = np.asarray(self.frames)
            object.__setattr__(self, "frames", frames)
            if frames.ndim != 4 or frames.shape[0] != num_steps + 1 or frames.shape[3] != 3:
                raise ClipShapeError(
                    f"{where}: frames must have shape (T+1={num_steps + 1}, H, W, 3), "
                    f"got {frames.shape}"
                )
            if frames.dtype != np.uint8:
                raise ClipShapeError(f"{where}: frames must be uint8, got {frames.dtype}")
        if not np.all(np.isfinite(rewards)):
            raise ClipShapeError(f"{where}: true_rewards contain NaN or infinity")

    @property
    def num_steps(self) -> int:
        """Number of transitions ``T``."""
        return int(self.true_rewards.shape[0])

    @property
    def true_return(self) -> float:
        """Undiscounted sum of the true rewards."""
        return float(self.true_rewards.sum())

    @property
    def next_observations(self) -> np.ndarray:
        """``(T, *obs_shape)`` observation after each action."""
        return self.observations[1:]

    def arrays(self) -> dict[str, np.ndarray]:
        """The clip's arrays by field name, leaving out absent ones."""
        out = {}
        for name in ARRAY_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    def provenance(self) -> dict[str, Any]:
        """JSON-serialisable metadata (everything but the arrays)."""
        return {
            "uid": self.uid,
            "env_id": self.env_id,
            "num_steps": self.num_steps,
            "seed": self.seed,
            "episode": self.episode,
            "start_step": self.start_step,
            "policy": self.policy,
        }

    @classmethod
    def from_parts(cls, provenance: dict[str, Any], arrays: dict[str, np.ndarray]) -> Clip:
        """Rebuild a clip from :meth:`provenance` and :meth:`arrays` (store, export)."""
        return cls(
            env_id=provenance["env_id"],
            observations=arrays["observations"],
            actions=arrays["actions"],
            true_rewards=arrays["true_rewards"],
            states=arrays.get("states"),
            frames=arrays.get("frames"),
            seed=provenance.get("seed"),
            episode=int(provenance.get("episode", 0)),
            start_step=int(provenance.get("start_step", 0)),
            policy=str(provenance.get("policy", "unknown")),
            uid=provenance["uid"],
        )


@dataclass(frozen=True)
class ClipPair:
    """Two clips compared side by side.

    Attributes:
        left: the clip shown on the left.
        right: the clip shown on the right.
        query_id: the store's id of this query, when it came from a store.
    """

    left: Clip
    right: Clip
    query_id: int | None = None

    def __post_init__(self) -> None:
        if self.left.env_id != self.right.env_id:
            raise ClipShapeError(
                f"a pair must come from one env, got {self.left.env_id!r} and {self.right.env_id!r}"
            )

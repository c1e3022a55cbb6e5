"""Simulator snapshots: capture and restore a suite env's state through any wrappers.

A snapshot is a flat float64 vector of fixed length per env (``SuiteSpec.state_dim``). It
holds everything that stepping and rendering read, so restoring it into a fresh env and
rendering gives the frame that was rendered live, and stepping the same action gives the
same next observation. The suite envs implement ``get_state()`` / ``set_state(state)`` on
their unwrapped object; these functions reach it through wrappers.

Functions:
    get_state: the env's snapshot, ``(state_dim,)`` float64.
    set_state: restore a snapshot.
    supports_state: whether an env can be snapshotted.
    checked_state: validate a snapshot's shape and values (used by the envs' ``set_state``).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from hfrl_gym.errors import ClipShapeError, HfrlError


def supports_state(env: gym.Env) -> bool:
    """Whether ``env`` (or the env under its wrappers) can capture and restore its state.

    Args:
        env: any Gymnasium env, wrapped or not.

    Returns:
        True for every suite env; False for envs without ``get_state`` / ``set_state``.

    Example:
        >>> import gymnasium as gym
        >>> import hfrl_gym
        >>> supports_state(gym.make("hfrl/CartPole-v0")), supports_state(gym.make("CartPole-v1"))
        (True, False)
    """
    inner = env.unwrapped
    getter = getattr(inner, "get_state", None)
    setter = getattr(inner, "set_state", None)
    return callable(getter) and callable(setter) and hasattr(inner, "state_dim")


def _inner(env: gym.Env) -> gym.Env:
    if not supports_state(env):
        name = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
        raise HfrlError(
            f"env {name!r} cannot capture or restore its simulator state; use a suite env "
            "(hfrl/*, see `hfrl envs`) or record frames instead of states"
        )
    return env.unwrapped


def get_state(env: gym.Env) -> np.ndarray:
    """Capture the simulator state of a suite env.

    Args:
        env: a suite env, wrapped or not, after ``reset()``.

    Returns:
        ``(state_dim,)`` float64 snapshot (a new array).

    Raises:
        HfrlError: the env cannot snapshot its state, or was not reset yet.
    """
    state = np.asarray(_inner(env).get_state(), dtype=np.float64)
    return state.copy()


def set_state(env: gym.Env, state: np.ndarray) -> None:
    """Restore a snapshot taken by :func:`get_state` from an env with the same id.

    Args:
        env: a suite env, wrapped or not. It need not have been reset.
        state: ``(state_dim,)`` float64 snapshot.

    Raises:
        HfrlError: the env cannot restore its state.
        ClipShapeError: the snapshot has the wrong shape.
    """
    _inner(env).set_state(state)


def checked_state(state: np.ndarray, state_dim: int, name: str) -> np.ndarray:
    """Validate a snapshot before an env restores it.

    Args:
        state: the snapshot given to ``set_state``.
        state_dim: the length this env's snapshots have.
        name: the env's name, for the error message.

    Returns:
        ``(state_dim,)`` float64 copy of ``state``.

    Raises:
        ClipShapeError: the snapshot is not a vector of ``state_dim`` numbers.
    """
    array = np.array(state, dtype=np.float64).reshape(-1)
    if np.ndim(state) != 1 or array.shape[0] != state_dim:
        raise ClipShapeError(
            f"{name} snapshots have shape ({state_dim},), got {np.shape(state)}; was the "
            "state recorded in another env?"
        )
    return array


def raise_not_reset(name: str) -> None:
    """Raise the error for a snapshot requested before ``reset()``.

    Args:
        name: the env's name, for the message.

    Raises:
        HfrlError: always.
    """
    raise HfrlError(f"{name} has no state yet: call env.reset() before get_state()")

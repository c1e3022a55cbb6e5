"""Fixed-horizon classic control envs: Gymnasium's own envs without early termination.

Each class subclasses Gymnasium's env, so dynamics and rendering are Gymnasium's; only the
end of an episode and the reward that replaces it change (see ``SuiteSpec.termination`` and
docs/ENVS.md). ``step`` never returns ``terminated=True``; the horizon is Gymnasium's
``TimeLimit``, added by ``gym.make`` from the registered ``max_episode_steps``. Each class
adds ``get_state()`` / ``set_state(state)`` (flat float64 snapshots, see
``hfrl_gym.envs.snapshots``). Closing an ``rgb_array`` env leaves pygame initialised
(Gymnasium's ``close()`` quits pygame for the whole process).

Classes:
    FixedCartPoleEnv: CartPole on a walled track that keeps simulating until the pole
        crashes, then stays still; reward 1 only while balanced on the track.
    FixedPendulumEnv: Pendulum with snapshots (it never terminated).
    FixedMountainCarContinuousEnv: MountainCarContinuous with a per-step bonus at the flag.
    FixedAcrobotEnv: Acrobot that keeps simulating; reward -1 below the line, 0 above.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.envs.classic_control.acrobot import AcrobotEnv
from gymnasium.envs.classic_control.cartpole import CartPoleEnv
from gymnasium.envs.classic_control.continuous_mountain_car import Continuous_MountainCarEnv
from gymnasium.envs.classic_control.pendulum import PendulumEnv

from hfrl_gym.envs.snapshots import checked_state, raise_not_reset
from hfrl_gym.envs.suite import ABSORBED

Step = tuple[np.ndarray, float, bool, bool, dict[str, Any]]


class _KeepPygameOnClose:
    """Mixin: closing an ``rgb_array`` env drops its surface but leaves pygame running.

    Gymnasium's ``close()`` calls ``pygame.quit()``, which would also close a labelling
    window that the same process shows; only a ``human`` env owns the display.
    """

    render_mode: str | None

    def close(self) -> None:
        """Release rendering; quit pygame only for ``render_mode="human"``."""
        if self.render_mode == "human":
            super().close()  # type: ignore[misc]
            return
        self.screen = None
        self.clock = None
        self.isopen = False


class FixedCartPoleEnv(_KeepPygameOnClose, CartPoleEnv):
    """CartPole that never terminates: reward 1 while |theta| < 12 deg and |x| < 2.4, else 0.

    After the balance is lost the simulation goes on until the pole hits the track: a pole
    that falls to 90 degrees crashes, and the cart-pole then stays where it is, still (an
    absorbing state: reward 0 and the same observation to the horizon). Walls at the ends of
    the track (|x| <= 2.4, the edges of the picture) stop the cart (its velocity drops to 0).
    Both keep observations bounded: with an unbounded track, a cart pushed one way for 500
    steps reaches |x| of hundreds, which swamps PPO's networks (PPO on the true reward then
    fails to learn); a pole free to swing round lets a policy collect reward by spinning it
    through the upright position, which PPO on a learned reward found; a crashed cart that
    kept rolling gave a learned reward countless look-alike states to be wrong about
    (docs/ENVS.md).
    Snapshot: ``[x, x_dot, theta, theta_dot]`` (rendering reads ``x`` and ``theta`` only).

    Example:
        >>> env = FixedCartPoleEnv()
        >>> _ = env.reset(seed=0)
        >>> steps = [env.step(1) for _ in range(200)]
        >>> steps[0][1], steps[-1][1], steps[-1][2], round(float(steps[-1][0][2]), 4)
        (1.0, 0.0, False, -1.5708)
    """

    state_dim = 4

    def __init__(self, render_mode: str | None = None) -> None:
        super().__init__(render_mode=render_mode)
        high = np.array([self.x_threshold, np.inf, np.pi / 2, np.inf], dtype=np.float32)
        self.observation_space = spaces.Box(-high, high, dtype=np.float32)

    def step(self, action: int) -> Step:
        """Advance 0.02 s; reward 1.0 while balanced on the track, else 0.0; never terminates."""
        if self.state is not None and abs(float(self.state[2])) >= np.pi / 2:  # crashed
            if not self.action_space.contains(action):
                raise ValueError(f"{action!r} ({type(action)}) invalid")
            return np.array(self.state, dtype=np.float32), 0.0, False, False, {ABSORBED: True}
        _, _, _, truncated, info = super().step(action)
        self.steps_beyond_terminated = None  # no "step after terminated" bookkeeping
        x, x_dot, theta, theta_dot = (float(v) for v in self.state)
        if abs(theta) >= np.pi / 2:  # the pole lies on the track: the cart-pole has crashed
            theta, theta_dot, x_dot = float(np.sign(theta)) * np.pi / 2, 0.0, 0.0
            info[ABSORBED] = True
        if abs(x) >= self.x_threshold:  # the wall at the end of the track
            x, x_dot = float(np.sign(x)) * self.x_threshold, 0.0
        self.state = np.array([x, x_dot, theta, theta_dot], dtype=np.float64)
        balanced = abs(theta) < self.theta_threshold_radians and abs(x) < self.x_threshold
        obs = np.array(self.state, dtype=np.float32)
        return obs, 1.0 if balanced else 0.0, False, truncated, info

    def get_state(self) -> np.ndarray:
        """``(4,)`` float64 snapshot ``[x, x_dot, theta, theta_dot]``."""
        if self.state is None:
            raise_not_reset(type(self).__name__)
        return np.array(self.state, dtype=np.float64)

    def set_state(self, state: np.ndarray) -> None:
        """Restore a snapshot from :meth:`get_state`."""
        self.state = checked_state(state, self.state_dim, type(self).__name__)
        self.steps_beyond_terminated = None


class FixedPendulumEnv(_KeepPygameOnClose, PendulumEnv):
    """Pendulum with snapshots; actions are cast to float32 (the action space's dtype).

    The cast makes the torque arrow that rendering draws depend only on the snapshot.
    Snapshot: ``[theta, theta_dot, last_u]`` where ``last_u`` is the last torque (NaN before
    the first step; rendering draws it as an arrow).

    Example:
        >>> env = FixedPendulumEnv()
        >>> _ = env.reset(seed=0)
        >>> _ = env.step(np.array([1.5], dtype=np.float32))
        >>> float(env.get_state()[2])
        1.5
    """

    state_dim = 3

    def __init__(self, render_mode: str | None = None) -> None:
        super().__init__(render_mode=render_mode)

    def step(self, u: np.ndarray) -> Step:
        """Apply torque ``u`` (N m, clipped to [-2, 2]) for 0.05 s; never terminates."""
        obs, reward, terminated, truncated, info = super().step(
            np.asarray(u, dtype=np.float32).reshape(1)
        )
        return obs, float(reward), terminated, truncated, info

    def get_state(self) -> np.ndarray:
        """``(3,)`` float64 snapshot ``[theta, theta_dot, last_u or NaN]``."""
        if getattr(self, "state", None) is None:
            raise_not_reset(type(self).__name__)
        last_u = np.nan if self.last_u is None else float(self.last_u)
        return np.array([self.state[0], self.state[1], last_u], dtype=np.float64)

    def set_state(self, state: np.ndarray) -> None:
        """Restore a snapshot from :meth:`get_state`."""
        array = checked_state(state, self.state_dim, type(self).__name__)
        self.state = array[:2].copy()
        self.last_u = None if np.isnan(array[2]) else np.float32(array[2])


class FixedMountainCarContinuousEnv(_KeepPygameOnClose, Continuous_MountainCarEnv):
    """MountainCarContinuous that keeps going after the flag, with a per-step goal bonus.

    Reward per step: ``GOAL_BONUS`` (1.0) while ``position >= 0.45`` and ``velocity >= 0``,
    minus ``0.1 * action**2`` (Gymnasium's action cost). The original pays +100 once and
    ends the episode. The state is float32 from the reset on (Gymnasium's first step reads a
    float64 position), so snapshots restore it exactly. Snapshot: ``[position, velocity]``.

    Example:
        >>> env = FixedMountainCarContinuousEnv()
        >>> _ = env.reset(seed=0)
        >>> env.set_state(np.array([0.5, 0.01]))
        >>> _, reward, terminated, _, _ = env.step(np.array([0.0], dtype=np.float32))
        >>> reward, terminated
        (1.0, False)
    """

    state_dim = 2
    GOAL_BONUS = 1.0

    def __init__(self, render_mode: str | None = None) -> None:
        super().__init__(render_mode=render_mode)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset to a random position in [-0.6, -0.4] at rest (float32 state)."""
        obs, info = super().reset(seed=seed, options=options)
        self.state = np.asarray(self.state, dtype=np.float32)
        return obs, info

    def step(self, action: np.ndarray) -> Step:
        """Apply force ``action`` (clipped to [-1, 1]); never terminates."""
        obs, _, at_goal, truncated, info = super().step(action)
        cost = 0.1 * float(np.asarray(action, dtype=np.float64).reshape(-1)[0]) ** 2
        reward = (self.GOAL_BONUS if at_goal else 0.0) - cost
        return np.array(obs, dtype=np.float32), reward, False, truncated, info

    def get_state(self) -> np.ndarray:
        """``(2,)`` float64 snapshot ``[position, velocity]`` (float32 values)."""
        if getattr(self, "state", None) is None:
            raise_not_reset(type(self).__name__)
        return np.array(self.state, dtype=np.float64)

    def set_state(self, state: np.ndarray) -> None:
        """Restore a snapshot from :meth:`get_state` (stored as float32, as stepping does)."""
        self.state = checked_state(state, self.state_dim, type(self).__name__).astype(np.float32)


class FixedAcrobotEnv(_KeepPygameOnClose, AcrobotEnv):
    """Acrobot that keeps simulating: reward -1 per step below the line, 0 above it.

    The state is float64 from the reset on (Gymnasium resets to float32 and steps to
    float64), so snapshots restore it exactly. Snapshot: ``[theta1, theta2, dtheta1,
    dtheta2]`` (rad, rad/s).

    Example:
        >>> env = FixedAcrobotEnv()
        >>> _ = env.reset(seed=0)
        >>> env.set_state(np.array([np.pi, 0.0, 0.0, 0.0]))  # pointing straight up
        >>> _, reward, terminated, _, _ = env.step(1)
        >>> reward, terminated
        (0.0, False)
    """

    state_dim = 4

    def __init__(self, render_mode: str | None = None) -> None:
        super().__init__(render_mode=render_mode)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset to small random angles and velocities in [-0.1, 0.1] (float64 state)."""
        _, info = super().reset(seed=seed, options=options)
        self.state = np.asarray(self.state, dtype=np.float64)
        return self._get_ob(), info

    def step(self, a: int) -> Step:
        """Apply torque -1, 0 or +1 for 0.2 s; never terminates."""
        obs, reward, _, truncated, info = super().step(a)
        return obs, float(reward), False, truncated, info

    def get_state(self) -> np.ndarray:
        """``(4,)`` float64 snapshot ``[theta1, theta2, dtheta1, dtheta2]``."""
        if self.state is None:
            raise_not_reset(type(self).__name__)
        return np.array(self.state, dtype=np.float64)

    def set_state(self, state: np.ndarray) -> None:
        """Restore a snapshot from :meth:`get_state`."""
        self.state = checked_state(state, self.state_dim, type(self).__name__)

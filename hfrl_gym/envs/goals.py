"""Goals: named reward functions that scripted teachers judge clips by.

Every suite env has the ``"task"`` goal (the env's own reward, taken from
``Clip.true_rewards``) and at least one alternative behaviour a person might teach, computed
from observations and actions only (never from the simulator). The agent never sees a goal.
The observation indices each alternative reads are documented here and in docs/ENVS.md.

Classes:
    Goal: a named transition reward.

Functions:
    goals_for: the goals of one suite env, by name.
    get_goal: one goal, or ``ConfigError`` naming the valid goals.

Attributes:
    TASK: the task goal (the env's reward), shared by every env.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hfrl_gym.clips import Clip
from hfrl_gym.envs.suite import task_id
from hfrl_gym.errors import ClipShapeError, ConfigError

TransitionReward = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Goal:
    """A named reward over transitions.

    Attributes:
        name: short id such as ``"task"`` or ``"backwards"``.
        description: one line on the behaviour it rewards, with its formula.
        transition_reward: ``f(obs (T, *o), actions (T, *a), next_obs (T, *o)) -> (T,)``, or
            ``None`` for the env's own reward (``true_rewards``).

    Example:
        >>> import numpy as np
        >>> goal = get_goal("hfrl/Pendulum-v0", "spin")
        >>> obs = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, -4.0], [1.0, 0.0, 8.0]])
        >>> goal.rewards(obs, np.zeros((2, 1)), np.zeros(2))
        array([0.5, 1. ])
        >>> TASK.rewards(obs, np.zeros((2, 1)), np.array([-1.0, -2.0]))
        array([-1., -2.])
    """

    name: str
    description: str
    transition_reward: TransitionReward | None = None

    def rewards(
        self, observations: np.ndarray, actions: np.ndarray, true_rewards: np.ndarray
    ) -> np.ndarray:
        """Reward of each transition of a segment under this goal.

        Args:
            observations: ``(T+1, *obs_shape)`` observations.
            actions: ``(T, *act_shape)`` actions.
            true_rewards: ``(T,)`` env rewards (returned as they are by the task goal).

        Returns:
            ``(T,)`` float64 rewards.

        Raises:
            ClipShapeError: the arrays disagree in length.
        """
        true = np.asarray(true_rewards, dtype=np.float64)
        obs = np.asarray(observations, dtype=np.float64)
        acts = np.asarray(actions, dtype=np.float64)
        num_steps = true.shape[0] if true.ndim == 1 else -1
        if num_steps < 0 or obs.shape[0] != num_steps + 1 or acts.shape[0] != num_steps:
            raise ClipShapeError(
                f"goal {self.name!r} needs observations (T+1, ...), actions (T, ...) and "
                f"true_rewards (T,); got {obs.shape}, {acts.shape}, {true.shape}"
            )
        if self.transition_reward is None:
            return true.copy()
        rewards = np.asarray(self.transition_reward(obs[:-1], acts, obs[1:]), dtype=np.float64)
        return rewards.reshape(num_steps)

    def clip_rewards(self, clip: Clip) -> np.ndarray:
        """``(T,)`` rewards of a clip's transitions under this goal."""
        return self.rewards(clip.observations, clip.actions, clip.true_rewards)


TASK = Goal("task", "the env's own reward (the suite's fixed-horizon task reward)")

_ANGLE_12_DEG = 12 * np.pi / 180


def _action_cost(actions: np.ndarray, weight: float) -> np.ndarray:
    """``weight * sum(action^2)`` per transition, ``(T,)``."""
    return weight * np.square(actions.reshape(actions.shape[0], -1)).sum(axis=1)


def _cartpole_left(obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
    x, theta = next_obs[:, 0], next_obs[:, 2]
    upright = (np.abs(theta) < _ANGLE_12_DEG) & (np.abs(x) < 2.4)
    return upright * np.clip(0.5 - x, 0.0, 1.0)


def _pendulum_spin(obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
    return np.abs(next_obs[:, 2]) / 8.0


def _car_left_hill(obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
    return (next_obs[:, 0] <= -1.0).astype(np.float64) - _action_cost(actions, 0.1)


def _car_rock(obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
    return np.abs(next_obs[:, 1]) / 0.07 - _action_cost(actions, 0.1)


def _acrobot_tip_height(obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
    cos1, sin1, cos2, sin2 = next_obs[:, 0], next_obs[:, 1], next_obs[:, 2], next_obs[:, 3]
    cos12 = cos1 * cos2 - sin1 * sin2  # cos(theta1 + theta2)
    return (-cos1 - cos12) / 2.0


def _acrobot_spin(obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
    return next_obs[:, 4] / (4 * np.pi)


def _inverted_pendulum_right(
    obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray
) -> np.ndarray:
    x, angle = next_obs[:, 0], next_obs[:, 1]
    return (np.abs(angle) <= 0.2) * np.clip(x + 0.5, 0.0, 1.0)


def _reacher_avoid(obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
    distance = np.linalg.norm(next_obs[:, 8:10], axis=1)
    return distance - _action_cost(actions, 1.0)


def _cheetah_backwards(obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
    return -next_obs[:, 8] - _action_cost(actions, 0.1)


def _hopper_backwards(obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
    z, angle = next_obs[:, 0], next_obs[:, 1]
    in_range = np.all(np.abs(next_obs[:, 1:]) < 100.0, axis=1)
    healthy = (z > 0.7) & (np.abs(angle) < 0.2) & in_range
    return healthy - next_obs[:, 5] - _action_cost(actions, 1e-3)


def _walker_backwards(obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
    z, angle = next_obs[:, 0], next_obs[:, 1]
    healthy = (z > 0.8) & (z < 2.0) & (angle > -1.0) & (angle < 1.0)
    return healthy - next_obs[:, 8] - _action_cost(actions, 1e-3)


_ALTERNATIVES: dict[str, tuple[Goal, ...]] = {
    "hfrl/CartPole-v0": (
        Goal(
            "left",
            "balance left of centre: while |theta| < 12 deg and |x| < 2.4, clip(0.5 - x, 0, 1) "
            "(1 left of x = -0.5, 0.5 at the centre, 0 right of x = 0.5), else 0 "
            "(next_obs[0] = x, next_obs[2] = theta)",
            _cartpole_left,
        ),
    ),
    "hfrl/Pendulum-v0": (
        Goal(
            "spin",
            "spin in either direction: |theta_dot| / 8 (next_obs[2]), in [0, 1]",
            _pendulum_spin,
        ),
    ),
    "hfrl/MountainCarContinuous-v0": (
        Goal(
            "left_hill",
            "climb the left hill: 1 while position <= -1.0 (next_obs[0]), minus 0.1 * action^2",
            _car_left_hill,
        ),
        Goal(
            "rock",
            "rock back and forth: |velocity| / 0.07 (next_obs[1]), minus 0.1 * action^2",
            _car_rock,
        ),
    ),
    "hfrl/Acrobot-v0": (
        Goal(
            "tip_height",
            "raise the tip (dense): (-cos t1 - cos(t1 + t2)) / 2 from next_obs[0:4], in [-1, 1]",
            _acrobot_tip_height,
        ),
        Goal(
            "spin",
            "whirl the first link anticlockwise: dtheta1 / (4 pi) (next_obs[4]), in [-1, 1]",
            _acrobot_spin,
        ),
    ),
    "hfrl/InvertedPendulum-v0": (
        Goal(
            "right",
            "balance right of centre: while |pole angle| <= 0.2, clip(x + 0.5, 0, 1) (1 right "
            "of x = 0.5, 0.5 at the centre, 0 left of x = -0.5), else 0 (next_obs[1] = pole "
            "angle, next_obs[0] = cart x)",
            _inverted_pendulum_right,
        ),
    ),
    "hfrl/Reacher-v0": (
        Goal(
            "avoid",
            "keep the fingertip away from the target: |fingertip - target| "
            "(next_obs[8:10]) minus |action|^2",
            _reacher_avoid,
        ),
    ),
    "hfrl/HalfCheetah-v0": (
        Goal(
            "backwards",
            "run backwards: -x velocity (next_obs[8]) minus 0.1 * |action|^2",
            _cheetah_backwards,
        ),
    ),
    "hfrl/Hopper-v0": (
        Goal(
            "backwards",
            "hop backwards: healthy (z = next_obs[0] > 0.7, |angle| = |next_obs[1]| < 0.2, "
            "|next_obs[1:]| < 100) minus x velocity (next_obs[5]) minus 1e-3 * |action|^2",
            _hopper_backwards,
        ),
    ),
    "hfrl/Walker2d-v0": (
        Goal(
            "backwards",
            "walk backwards: healthy (0.8 < z = next_obs[0] < 2, |angle| = |next_obs[1]| < 1) "
            "minus x velocity (next_obs[8]) minus 1e-3 * |action|^2",
            _walker_backwards,
        ),
    ),
}


def goals_for(env_id: str) -> dict[str, Goal]:
    """The goals of one suite env: ``"task"`` first, then its alternatives.

    Args:
        env_id: a suite id.

    Returns:
        A new dict from goal name to :class:`Goal`.

    Raises:
        UnknownEnvError: the id is not in the suite.
    """
    goals = {TASK.name: TASK}  # a later version of the same task (task_id) has its goals
    goals.update((goal.name, goal) for goal in _ALTERNATIVES.get(task_id(env_id), ()))
    return goals


def get_goal(env_id: str, name: str = "task") -> Goal:
    """One goal of a suite env.

    Args:
        env_id: a suite id.
        name: the goal's name; ``"task"`` is the env's own reward.

    Returns:
        The :class:`Goal`.

    Raises:
        UnknownEnvError: the id is not in the suite.
        ConfigError: the env has no goal of that name; the message lists its goals.
    """
    goals = goals_for(env_id)
    if name not in goals:
        raise ConfigError(
            f"{env_id} has no goal {name!r}; its goals are: {', '.join(goals)} (see docs/ENVS.md)"
        )
    return goals[name]

"""Tests for hfrl_gym.envs.goals: each goal's formula on crafted inputs and on real rollouts."""

from __future__ import annotations

import numpy as np
import pytest

from hfrl_gym.clips import Clip
from hfrl_gym.envs import Goal, get_goal, get_state, goals_for, make_env, suite_ids
from hfrl_gym.errors import ClipShapeError, ConfigError, UnknownEnvError

IDS = suite_ids()


def _rollout(env_id: str, num_steps: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A random rollout: observations (T+1, ...), actions, rewards, infos, qvel[0] per step."""
    env = make_env(env_id)
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    observations, actions, rewards, infos, x_velocities = [obs], [], [], [], []
    for _ in range(num_steps):
        action = env.action_space.sample()
        obs, reward, _, _, info = env.step(action)
        observations.append(obs)
        actions.append(action)
        rewards.append(reward)
        infos.append(info)
        data = getattr(env.unwrapped, "data", None)
        x_velocities.append(float(data.qvel[0]) if data is not None else np.nan)
    env.close()
    return {
        "observations": np.asarray(observations),
        "actions": np.asarray(actions),
        "true_rewards": np.asarray(rewards),
        "infos": np.asarray(infos),
        "x_velocities": np.asarray(x_velocities),
    }


def _one_step(next_obs: list[float], action: list[float]) -> tuple[np.ndarray, ...]:
    """Observations (2, o), actions (1, a), true rewards (1,) with a zero first observation."""
    obs = np.array([np.zeros(len(next_obs)), next_obs], dtype=np.float64)
    return obs, np.array([action], dtype=np.float64), np.array([7.0])


@pytest.mark.parametrize("env_id", IDS)
def test_every_env_has_the_task_and_an_alternative_on_real_rollouts(env_id: str) -> None:
    goals = goals_for(env_id)
    assert next(iter(goals)) == "task"
    assert len(goals) >= 2
    run = _rollout(env_id, 30)
    task = goals["task"].rewards(run["observations"], run["actions"], run["true_rewards"])
    assert np.array_equal(task, run["true_rewards"])
    differs = []
    for name, goal in goals.items():
        assert goal.name == name
        assert goal.description
        rewards = goal.rewards(run["observations"], run["actions"], run["true_rewards"])
        assert rewards.shape == (30,)
        assert rewards.dtype == np.float64
        assert np.all(np.isfinite(rewards))
        if name != "task":
            assert goal.transition_reward is not None
            differs.append(not np.array_equal(rewards, run["true_rewards"]))
    assert any(differs)  # some alternative scores this rollout unlike the task


def test_task_goal_returns_a_copy_of_the_true_rewards() -> None:
    goal = get_goal("hfrl/CartPole-v0")
    true = np.array([1.0, 0.0])
    rewards = goal.rewards(np.zeros((3, 4)), np.zeros(2, np.int64), true)
    rewards[0] = 5.0
    assert true[0] == 1.0


@pytest.mark.parametrize(
    ("next_obs", "expected"),
    [
        ([-1.0, 0.0, 0.0, 0.0], 1.0),  # upright, left of x = -0.5: the most there is
        ([-2.3, 0.0, 0.1, 0.0], 1.0),
        ([-0.25, 0.0, 0.0, 0.0], 0.75),  # on the way left: more the further left
        ([0.0, 0.0, 0.0, 0.0], 0.5),  # balancing at the centre: half
        ([1.0, 0.0, 0.0, 0.0], 0.0),  # right of x = 0.5
        ([-1.0, 0.0, 0.3, 0.0], 0.0),  # pole fallen (0.3 rad > 12 deg)
        ([-2.5, 0.0, 0.0, 0.0], 0.0),  # off the track
    ],
)
def test_cartpole_left(next_obs: list[float], expected: float) -> None:
    """Dense, so that a learner finds it: balancing counts, more the further left (PPO on
    the sparse version, 1 only left of -0.5, scored 0 on five seeds in 100k steps)."""
    goal = get_goal("hfrl/CartPole-v0", "left")
    assert goal.rewards(*_one_step(next_obs, [1]))[0] == pytest.approx(expected)


def test_pendulum_spin_rewards_speed_in_either_direction() -> None:
    goal = get_goal("hfrl/Pendulum-v0", "spin")
    assert goal.rewards(*_one_step([1.0, 0.0, -6.0], [0.0]))[0] == pytest.approx(0.75)
    assert goal.rewards(*_one_step([-1.0, 0.0, 2.0], [2.0]))[0] == pytest.approx(0.25)
    assert goal.rewards(*_one_step([-1.0, 0.0, 0.0], [0.0]))[0] == 0.0


def test_mountain_car_goals() -> None:
    left_hill = get_goal("hfrl/MountainCarContinuous-v0", "left_hill")
    assert left_hill.rewards(*_one_step([-1.1, 0.0], [0.0]))[0] == 1.0
    assert left_hill.rewards(*_one_step([-1.1, 0.0], [1.0]))[0] == pytest.approx(0.9)
    assert left_hill.rewards(*_one_step([0.5, 0.0], [0.0]))[0] == 0.0
    rock = get_goal("hfrl/MountainCarContinuous-v0", "rock")
    assert rock.rewards(*_one_step([-0.5, -0.035], [0.0]))[0] == pytest.approx(0.5)
    assert rock.rewards(*_one_step([-0.5, 0.07], [-1.0]))[0] == pytest.approx(0.9)


def test_acrobot_goals() -> None:
    height = get_goal("hfrl/Acrobot-v0", "tip_height")
    hanging = [1.0, 0.0, 1.0, 0.0, 0.0, 0.0]  # theta1 = theta2 = 0
    upright = [-1.0, 0.0, 1.0, 0.0, 0.0, 0.0]  # theta1 = pi, theta2 = 0
    elbow = [0.0, 1.0, 0.0, 1.0, 0.0, 0.0]  # theta1 = pi/2 (horizontal), theta2 = pi/2 (up)
    assert height.rewards(*_one_step(hanging, [1]))[0] == pytest.approx(-1.0)
    assert height.rewards(*_one_step(upright, [1]))[0] == pytest.approx(1.0)
    assert height.rewards(*_one_step(elbow, [1]))[0] == pytest.approx(0.5)
    spin = get_goal("hfrl/Acrobot-v0", "spin")
    assert spin.rewards(*_one_step([1, 0, 1, 0, 2 * np.pi, -9.0], [0]))[0] == pytest.approx(0.5)


def test_acrobot_tip_height_matches_the_envs_line_test() -> None:
    run = _rollout("hfrl/Acrobot-v0", 200, seed=1)
    height = get_goal("hfrl/Acrobot-v0", "tip_height").rewards(
        run["observations"], run["actions"], run["true_rewards"]
    )
    # The env pays 0 exactly when -cos t1 - cos(t1 + t2) > 1, i.e. tip_height > 0.5.
    np.testing.assert_array_equal(height > 0.5 + 1e-6, run["true_rewards"] == 0.0)


def test_inverted_pendulum_right() -> None:
    """Dense, as CartPole's ``left`` (SAC on the sparse version, 1 only right of 0.5,
    scored 0 in 50k steps)."""
    goal = get_goal("hfrl/InvertedPendulum-v0", "right")
    assert goal.rewards(*_one_step([0.6, 0.1, 0.0, 0.0], [0.0]))[0] == 1.0
    assert goal.rewards(*_one_step([0.25, 0.1, 0.0, 0.0], [0.0]))[0] == pytest.approx(0.75)
    assert goal.rewards(*_one_step([0.0, 0.0, 0.0, 0.0], [0.0]))[0] == pytest.approx(0.5)
    assert goal.rewards(*_one_step([-0.6, 0.1, 0.0, 0.0], [0.0]))[0] == 0.0
    assert goal.rewards(*_one_step([0.6, 0.3, 0.0, 0.0], [0.0]))[0] == 0.0  # pole down


def test_reacher_avoid_is_the_distance_minus_the_action_cost() -> None:
    goal = get_goal("hfrl/Reacher-v0", "avoid")
    next_obs = [0.0] * 8 + [0.3, 0.4]
    assert goal.rewards(*_one_step(next_obs, [0.5, 0.5]))[0] == pytest.approx(0.5 - 0.5)
    run = _rollout("hfrl/Reacher-v0", 20)
    avoid = goal.rewards(run["observations"], run["actions"], run["true_rewards"])
    distances = -np.array([info["reward_dist"] for info in run["infos"]])
    controls = np.array([info["reward_ctrl"] for info in run["infos"]])
    np.testing.assert_allclose(avoid, distances + controls, rtol=1e-6)  # env squares float32


@pytest.mark.parametrize(
    ("env_id", "index"),
    [("hfrl/HalfCheetah-v0", 8), ("hfrl/Hopper-v0", 5), ("hfrl/Walker2d-v0", 8)],
)
def test_backwards_goals_read_the_x_velocity(env_id: str, index: int) -> None:
    run = _rollout(env_id, 20)
    clipped = env_id != "hfrl/HalfCheetah-v0"  # Hopper and Walker2d clip qvel to [-10, 10]
    expected = np.clip(run["x_velocities"], -10, 10) if clipped else run["x_velocities"]
    assert np.array_equal(run["observations"][1:, index], expected)
    goal = get_goal(env_id, "backwards")
    still = np.zeros((2, run["observations"].shape[1]))
    still[:, 0] = 1.25  # standing height, torso upright: healthy
    backwards = still.copy()
    backwards[1, index] = -2.0
    no_action = np.zeros((1, run["actions"].shape[1]))
    true = np.zeros(1)
    gap = goal.rewards(backwards, no_action, true) - goal.rewards(still, no_action, true)
    assert gap[0] == pytest.approx(2.0)
    costly = goal.rewards(still, np.ones_like(no_action), true)
    assert costly[0] < goal.rewards(still, no_action, true)[0]


@pytest.mark.parametrize("env_id", ["hfrl/Hopper-v0", "hfrl/Walker2d-v0"])
def test_backwards_healthy_term_matches_the_env(env_id: str) -> None:
    env = make_env(env_id)
    env.reset(seed=0)
    inner = env.unwrapped
    tilt = np.zeros(inner.model.nq)
    tilt[2] = 1.5  # torso tilted beyond both healthy ranges: the walker falls
    inner.set_state(inner.init_qpos + tilt, inner.init_qvel)
    start = inner._get_obs()
    observations, survives, actions = [start], [], []
    env.action_space.seed(0)
    for _ in range(40):
        action = env.action_space.sample()
        obs, _, _, _, info = env.step(action)
        observations.append(obs)
        actions.append(action)
        survives.append(info["reward_survive"])
    obs_array, act_array = np.asarray(observations), np.asarray(actions)
    goal = get_goal(env_id, "backwards").transition_reward
    assert goal is not None
    zeroed = obs_array.copy()
    index = 5 if env_id == "hfrl/Hopper-v0" else 8
    zeroed[:, index] = 0.0  # remove the velocity term
    healthy = goal(zeroed[:-1], np.zeros_like(act_array), zeroed[1:])
    np.testing.assert_array_equal(healthy, np.asarray(survives))
    assert 0.0 in survives  # the control: the tilted walker is unhealthy at some point
    assert get_state(env).shape == (inner.state_dim,)


def test_clip_rewards_use_the_clip_arrays() -> None:
    clip = Clip(
        env_id="hfrl/Pendulum-v0",
        observations=np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 4.0], [1.0, 0.0, -8.0]]),
        actions=np.zeros((2, 1)),
        true_rewards=np.array([-1.0, -2.0]),
        states=np.zeros((3, 3)),
    )
    np.testing.assert_allclose(get_goal(clip.env_id, "spin").clip_rewards(clip), [0.5, 1.0])
    np.testing.assert_array_equal(get_goal(clip.env_id).clip_rewards(clip), [-1.0, -2.0])


def test_mismatched_lengths_are_refused() -> None:
    goal = get_goal("hfrl/Pendulum-v0", "spin")
    with pytest.raises(ClipShapeError, match=r"T\+1"):
        goal.rewards(np.zeros((3, 3)), np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(ClipShapeError):
        Goal("task", "env reward").rewards(np.zeros((3, 3)), np.zeros((2, 1)), np.zeros(3))


def test_unknown_goal_and_env_name_the_valid_choices() -> None:
    with pytest.raises(ConfigError, match="task, spin"):
        get_goal("hfrl/Pendulum-v0", "backflip")
    with pytest.raises(UnknownEnvError, match="hfrl/CartPole-v0"):
        goals_for("Pendulum-v1")

"""Tests for the -v1 locomotion envs: the camera follows the torso, nothing else changes."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from hfrl_gym.envs import current_ids, get_spec, goals_for, make_env, suite_ids, task_id

TRACKED = ["hfrl/HalfCheetah-v1", "hfrl/Hopper-v1", "hfrl/Walker2d-v1"]
WIDTH, HEIGHT = 96, 64


def _moved_to(env: gym.Env, x: float, seed: int = 0) -> None:
    """Reset, then put the robot at ``x`` metres and take a few random steps there."""
    env.reset(seed=seed)
    inner = env.unwrapped
    qpos, qvel = inner.data.qpos.copy(), inner.data.qvel.copy()
    qpos[0] = x
    inner.set_state(qpos, qvel)
    env.action_space.seed(seed)
    for _ in range(3):
        env.step(env.action_space.sample())


def _robot_pixels(env: gym.Env) -> np.ndarray:
    """Pixels the robot changes in the frame: the frame against the robot made invisible."""
    inner = env.unwrapped
    frame = env.render().astype(int)
    robot = np.arange(inner.model.ngeom) != inner.model.geom("floor").id
    alpha = inner.model.geom_rgba[robot, 3].copy()
    inner.model.geom_rgba[robot, 3] = 0.0
    try:
        empty = env.render().astype(int)
    finally:
        inner.model.geom_rgba[robot, 3] = alpha
    return np.abs(frame - empty).sum(axis=-1) > 30


@pytest.mark.parametrize("env_id", TRACKED)
def test_the_robot_stays_in_the_middle_of_the_picture_far_forward(env_id: str) -> None:
    old_id = get_spec(env_id).same_task_as
    assert old_id is not None
    counts = {}
    for version in (env_id, old_id):
        env = make_env(version, render_mode="rgb_array", width=WIDTH, height=HEIGHT)
        for x in (0.0, 3.0, 30.0):  # 30 m is past the end of Hopper's original floor
            _moved_to(env, x)
            robot = _robot_pixels(env)
            middle = robot[:, WIDTH // 4 : 3 * WIDTH // 4].sum()
            counts[version, x] = (int(middle), int(robot.sum()))
        env.close()
    start_middle, _ = counts[env_id, 0.0]
    assert start_middle >= 20, counts  # the robot is visible at all
    for x in (3.0, 30.0):
        middle, total = counts[env_id, x]
        assert middle >= 0.5 * start_middle, (x, counts)
        assert middle >= 0.9 * total, (x, counts)  # centred, not at an edge
        # Control: the old camera stays at the start: the robot leaves the middle, then
        # the picture.
        assert counts[old_id, x][0] <= 0.2 * start_middle, (x, counts)
    assert counts[old_id, 30.0][1] == 0, counts


@pytest.mark.parametrize("env_id", TRACKED)
def test_the_floor_is_drawn_under_a_robot_far_forward(env_id: str) -> None:
    env = make_env(env_id, render_mode="rgb_array", width=WIDTH, height=HEIGHT)
    near, far = [], []
    for x, frames in ((0.0, near), (600.0, far)):
        _moved_to(env, x)
        frames.append(env.render())
    env.close()
    bottom = slice(HEIGHT - HEIGHT // 4, HEIGHT)  # below the robot: floor only
    # The checkered floor has dark and light squares; the sky beyond it is one flat colour.
    assert np.ptp(near[0][bottom].astype(int)) > 100
    assert np.ptp(far[0][bottom].astype(int)) > 100


@pytest.mark.parametrize("env_id", TRACKED)
def test_a_frame_depends_on_the_state_alone(env_id: str) -> None:
    env = make_env(env_id, render_mode="rgb_array", width=WIDTH, height=HEIGHT)
    _moved_to(env, 2.0)
    state_a = env.unwrapped.get_state()
    frame_a = env.render()
    _moved_to(env, 40.0, seed=1)
    frame_b = env.render()
    env.unwrapped.set_state(state_a)
    assert not np.array_equal(frame_a, frame_b)  # control: the two states look different
    assert np.array_equal(env.render(), frame_a)
    env.close()


@pytest.mark.parametrize("env_id", TRACKED)
def test_dynamics_rewards_and_goals_are_those_of_v0(env_id: str) -> None:
    old_id = get_spec(env_id).same_task_as
    new, old = make_env(env_id), make_env(old_id)
    _moved_to(new, 30.0, seed=4)
    _moved_to(old, 30.0, seed=4)
    new.action_space.seed(4)
    for _ in range(50):
        action = new.action_space.sample()
        obs_new, reward_new, *_ = new.step(action)
        obs_old, reward_old, *_ = old.step(action)
        assert np.array_equal(obs_new, obs_old)
        assert reward_new == reward_old
    assert np.array_equal(new.unwrapped.get_state(), old.unwrapped.get_state())
    assert list(goals_for(env_id)) == list(goals_for(old_id)) == ["task", "backwards"]
    assert task_id(env_id) == old_id
    new.close()
    old.close()


def test_old_versions_stay_registered_and_new_work_uses_the_new_ones() -> None:
    for env_id in TRACKED:
        old_id = env_id.replace("-v1", "-v0")
        assert old_id in suite_ids()  # stored clips of it still open and render
        assert get_spec(old_id).superseded_by == env_id
        assert old_id not in current_ids()
        assert env_id in current_ids()
    assert "hfrl/CartPole-v0" in current_ids()
    assert get_spec("hfrl/HalfCheetah-v0").entry_point.endswith(":FixedHalfCheetahEnv")

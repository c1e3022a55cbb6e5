"""Tests for hfrl_gym.envs.snapshots: restored states render and step exactly as live ones."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from hfrl_gym.envs import get_spec, get_state, make_env, set_state, suite_ids, supports_state
from hfrl_gym.errors import ClipShapeError, HfrlError

IDS = suite_ids()
NUM_STEPS = 25
WIDTH, HEIGHT = 96, 64  # MuJoCo render size (classic control renders at its own size)


def _rendering_env(env_id: str) -> gym.Env:
    return make_env(env_id, render_mode="rgb_array", width=WIDTH, height=HEIGHT)


@pytest.mark.parametrize("env_id", IDS)
def test_restored_states_render_the_frames_rendered_live(env_id: str) -> None:
    live = _rendering_env(env_id)
    live.reset(seed=7)
    live.action_space.seed(7)
    frames, states = [live.render()], [get_state(live)]
    for _ in range(NUM_STEPS):
        live.step(live.action_space.sample())
        frames.append(live.render())
        states.append(get_state(live))
    live.close()
    # Control: the rollout moves, so equal frames below are not equal by accident.
    assert not all(np.array_equal(frames[0], frame) for frame in frames[1:])

    fresh = _rendering_env(env_id)
    fresh.reset(seed=123)  # a different episode: everything must come from the snapshot
    for step, (frame, state) in enumerate(zip(frames, states, strict=True)):
        set_state(fresh, state)
        assert np.array_equal(fresh.render(), frame), f"{env_id}: frame {step} differs"
    fresh.close()


@pytest.mark.parametrize("env_id", IDS)
def test_restoring_a_state_and_stepping_repeats_the_transition(env_id: str) -> None:
    live, fresh = make_env(env_id), make_env(env_id)
    live.reset(seed=3)
    fresh.reset(seed=99)
    live.action_space.seed(3)
    for _ in range(NUM_STEPS):
        state = get_state(live)
        action = live.action_space.sample()
        obs, reward, _, _, _ = live.step(action)
        set_state(fresh, state)
        obs_again, reward_again, _, _, _ = fresh.step(action)
        assert np.array_equal(obs, obs_again)
        assert reward == reward_again
        assert np.array_equal(get_state(fresh), get_state(live))


@pytest.mark.parametrize("env_id", IDS)
def test_snapshot_is_a_flat_float64_copy_of_fixed_length(env_id: str) -> None:
    env = make_env(env_id)
    env.reset(seed=0)
    state = get_state(env)
    assert state.shape == (get_spec(env_id).state_dim,)
    assert state.dtype == np.float64
    before = state.copy()
    state += 1.0  # changing the returned array must not change the env
    assert np.array_equal(get_state(env), before, equal_nan=True)
    env.step(env.action_space.sample())
    assert not np.array_equal(get_state(env), before, equal_nan=True)  # it follows the env


def test_pendulum_snapshot_remembers_the_torque_and_its_absence() -> None:
    env = make_env("hfrl/Pendulum-v0")
    env.reset(seed=0)
    first = get_state(env)
    assert np.isnan(first[2])  # no torque before the first step
    env.step(np.array([-1.25], dtype=np.float32))
    assert get_state(env)[2] == -1.25
    set_state(env, first)
    assert env.unwrapped.last_u is None


def test_wrong_length_snapshot_is_refused() -> None:
    env = make_env("hfrl/CartPole-v0")
    env.reset(seed=0)
    with pytest.raises(ClipShapeError, match=r"shape \(4,\)"):
        set_state(env, np.zeros(5))
    with pytest.raises(ClipShapeError, match=r"shape \(4,\)"):
        set_state(env, np.zeros((2, 2)))


def test_state_before_reset_is_an_error_that_says_to_reset() -> None:
    with pytest.raises(HfrlError, match="reset"):
        get_state(make_env("hfrl/Acrobot-v0"))


def test_envs_outside_the_suite_are_refused_clearly() -> None:
    env = gym.make("CartPole-v1")
    env.reset(seed=0)
    assert not supports_state(env)
    assert supports_state(make_env("hfrl/CartPole-v0"))
    with pytest.raises(HfrlError, match=r"CartPole-v1.*record frames"):
        get_state(env)
    with pytest.raises(HfrlError, match="cannot capture or restore"):
        set_state(env, np.zeros(4))

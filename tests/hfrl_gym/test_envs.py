"""Tests for hfrl_gym.envs.suite, classic, mujoco and catalog: registry and fixed horizons."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.utils.passive_env_checker import env_render_passive_checker

import hfrl_gym
from hfrl_gym.envs import (
    SUITE,
    describe_suite,
    get_spec,
    get_state,
    goals_for,
    make_env,
    register_suite,
    set_state,
    suite_ids,
)
from hfrl_gym.envs.suite import ensure_gl_backend
from hfrl_gym.errors import RenderError, UnknownEnvError

IDS = suite_ids()
REQUIRED = [
    "hfrl/CartPole-v0",
    "hfrl/Pendulum-v0",
    "hfrl/MountainCarContinuous-v0",
    "hfrl/Acrobot-v0",
    "hfrl/HalfCheetah-v0",
    "hfrl/Hopper-v0",
]


def _space_text(space: gym.Space) -> str:
    if isinstance(space, gym.spaces.Discrete):
        return f"Discrete({space.n})"
    return f"Box{space.shape} {space.dtype}"


def test_register_suite_is_idempotent_with_string_entry_points() -> None:
    register_suite()
    register_suite()
    for env_id in REQUIRED:
        assert env_id in IDS
    for env_id, spec in SUITE.items():
        registered = gym.registry[env_id]
        assert isinstance(registered.entry_point, str)
        assert registered.entry_point == spec.entry_point
        assert registered.max_episode_steps == spec.horizon


def test_importing_hfrl_gym_imports_neither_mujoco_nor_pygame() -> None:
    code = "import sys, hfrl_gym; print('mujoco' in sys.modules, 'pygame' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split() == ["False", "False"]
    assert hfrl_gym.__version__


def test_unknown_id_names_the_valid_ids() -> None:
    with pytest.raises(UnknownEnvError, match=r"hfrl/CartPole-v0.*hfrl/Hopper-v0"):
        get_spec("hfrl/Nope-v0")
    with pytest.raises(UnknownEnvError, match="unknown env id 'CartPole-v1'"):
        make_env("CartPole-v1")


@pytest.mark.filterwarnings(  # advice, not failures: unbounded or asymmetric Box spaces
    "ignore:.*Box observation space (minimum|maximum) value is:UserWarning",
    "ignore:.*symmetric and normalized space:UserWarning",
)
@pytest.mark.parametrize("env_id", IDS)
def test_env_passes_gymnasium_env_checker(env_id: str) -> None:
    env = make_env(env_id)
    mujoco = get_spec(env_id).mujoco
    # The render check opens a "human" window; MuJoCo's GLFW aborts the process without a
    # display, so MuJoCo envs get the same check on rgb_array below.
    check_env(env.unwrapped, skip_render_check=mujoco)
    env.close()
    if mujoco:
        rendering = make_env(env_id, render_mode="rgb_array", width=32, height=24)
        rendering.reset(seed=0)
        env_render_passive_checker(rendering.unwrapped)
        assert rendering.render().shape == (24, 32, 3)
        rendering.close()


def test_mujoco_window_without_display_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(RenderError, match="no DISPLAY"):
        make_env("hfrl/HalfCheetah-v0", render_mode="human")


@pytest.mark.parametrize("env_id", IDS)
def test_spec_describes_the_made_env(env_id: str) -> None:
    spec = get_spec(env_id)
    env = make_env(env_id)
    env.reset(seed=0)
    assert spec.observation.startswith(_space_text(env.observation_space))
    assert spec.action.startswith(_space_text(env.action_space))
    assert spec.observation_shape == env.observation_space.shape
    assert spec.action_shape == env.action_space.shape
    assert get_state(env).shape == (spec.state_dim,)
    assert env.spec is not None
    assert env.spec.max_episode_steps == spec.horizon
    assert spec.termination
    assert spec.description
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_random_episode_runs_exactly_the_horizon_without_termination(env_id: str) -> None:
    env = make_env(env_id)
    env.reset(seed=1)
    env.action_space.seed(1)
    horizon = get_spec(env_id).horizon
    for step in range(1, horizon + 1):
        _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert not terminated
        assert isinstance(reward, float)
        assert np.isfinite(reward)
        assert truncated == (step == horizon)
    env.close()


def test_cartpole_keeps_simulating_and_pays_only_while_balanced() -> None:
    env = make_env("hfrl/CartPole-v0")
    env.reset(seed=0)
    rewards = []
    for _ in range(150):  # always push right: the pole falls within ~10 steps
        obs, reward, terminated, _, _ = env.step(1)
        rewards.append(reward)
        assert not terminated
    assert rewards[0] == 1.0
    assert rewards[-1] == 0.0
    assert abs(obs[2]) > 12 * np.pi / 180  # the pole kept falling, far out of bounds
    assert env.observation_space.contains(obs)
    set_state(env, np.array([2.35, 3.0, 0.0, 0.0]))  # upright, about to hit the right wall
    obs, reward, *_ = env.step(1)
    assert obs[0] == pytest.approx(2.4)  # the wall at the end of the track
    assert obs[1] == 0.0  # stopped the cart
    assert reward == 0.0  # |x| < 2.4 is needed for reward
    set_state(env, np.array([-1.0, 0.0, 0.0, 0.0]))  # balanced left of centre
    assert env.step(0)[1] == 1.0
    set_state(env, np.array([2.5, 0.0, 0.0, 0.0]))  # upright but off the track
    assert env.step(0)[1] == 0.0


def test_cartpole_dynamics_are_gymnasiums_until_the_fall() -> None:
    ours, theirs = make_env("hfrl/CartPole-v0"), gym.make("CartPole-v1")
    obs_a, _ = ours.reset(seed=3)
    obs_b, _ = theirs.reset(seed=3)
    actions = np.random.default_rng(0).integers(0, 2, size=500)
    for action in actions:
        assert np.array_equal(obs_a, obs_b)
        obs_a, reward_a, _, _, _ = ours.step(int(action))
        obs_b, _, terminated, _, _ = theirs.step(int(action))
        assert reward_a == (0.0 if terminated else 1.0)
        if terminated:
            break
    assert terminated  # random actions drop the pole well before 500 steps


@pytest.mark.parametrize(
    ("ours_id", "theirs_id", "kwargs", "atol"),
    [
        ("hfrl/Pendulum-v0", "Pendulum-v1", {}, 0.0),
        ("hfrl/Acrobot-v0", "Acrobot-v1", {}, 1e-6),  # first obs: cos in float64 vs float32
        ("hfrl/MountainCarContinuous-v0", "MountainCarContinuous-v0", {}, 1e-6),
        ("hfrl/HalfCheetah-v0", "HalfCheetah-v5", {}, 0.0),
        ("hfrl/Hopper-v0", "Hopper-v5", {"terminate_when_unhealthy": False}, 0.0),
        ("hfrl/Walker2d-v0", "Walker2d-v5", {"terminate_when_unhealthy": False}, 0.0),
        ("hfrl/InvertedPendulum-v0", "InvertedPendulum-v5", {}, 0.0),
    ],
)
def test_dynamics_are_gymnasiums(
    ours_id: str, theirs_id: str, kwargs: dict[str, bool], atol: float
) -> None:
    ours, theirs = make_env(ours_id), gym.make(theirs_id, **kwargs)
    obs_a, _ = ours.reset(seed=5)
    obs_b, _ = theirs.reset(seed=5)
    theirs.action_space.seed(5)
    for _ in range(60):
        np.testing.assert_allclose(obs_a, obs_b, rtol=0, atol=atol)
        action = theirs.action_space.sample()
        obs_a, *_ = ours.step(action)
        obs_b, _, terminated, _, _ = theirs.step(action)
        if terminated:  # Gymnasium's env stops being comparable here
            break


def test_reacher_observes_current_fingertip_position() -> None:
    env = make_env("hfrl/Reacher-v0")
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(5):
        obs, _, _, _, info = env.step(env.action_space.sample())
        data = env.unwrapped.data
        offset = (data.body("fingertip").xpos - data.body("target").xpos)[:2]
        assert np.array_equal(obs[8:10], offset)
        assert np.isclose(info["reward_dist"], -np.linalg.norm(offset))


def test_acrobot_rewards_minus_one_below_the_line_and_zero_above() -> None:
    env = make_env("hfrl/Acrobot-v0")
    env.reset(seed=0)
    _, reward, terminated, _, _ = env.step(1)
    assert (reward, terminated) == (-1.0, False)
    set_state(env, np.array([np.pi, 0.0, 0.0, 0.0]))  # both links straight up
    _, reward, terminated, _, _ = env.step(1)
    assert (reward, terminated) == (0.0, False)


def test_mountain_car_pays_a_bonus_per_step_at_the_flag_and_continues() -> None:
    env = make_env("hfrl/MountainCarContinuous-v0")
    env.reset(seed=0)
    push = np.array([0.5], dtype=np.float32)
    _, reward, _, _, _ = env.step(push)
    assert reward == pytest.approx(-0.1 * 0.25)
    set_state(env, np.array([0.5, 0.02]))
    for _ in range(20):  # past the flag the slope pushes the car to the wall: it stays
        obs, reward, terminated, _, _ = env.step(push)
        assert not terminated
        assert reward == pytest.approx(1.0 - 0.1 * 0.25)
    assert obs[0] >= 0.45


def test_hopper_keeps_simulating_after_a_fall_without_healthy_reward() -> None:
    env = make_env("hfrl/Hopper-v0")
    env.reset(seed=0)
    inner = env.unwrapped
    inner.set_state(inner.init_qpos + np.array([0, 0, 1.0, 0, 0, 0]), inner.init_qvel)  # tilted
    for _ in range(10):
        _, reward, terminated, _, info = env.step(np.zeros(3, dtype=np.float32))
        assert not terminated
        assert info["reward_survive"] == 0.0
        assert reward == pytest.approx(info["reward_forward"] + info["reward_ctrl"])


def test_inverted_pendulum_pays_only_while_upright_and_never_terminates() -> None:
    env = make_env("hfrl/InvertedPendulum-v0")
    env.reset(seed=0)
    assert env.step(np.zeros(1, dtype=np.float32))[1] == 1.0
    env.unwrapped.set_state(np.array([0.0, 0.6]), np.zeros(2))
    _, reward, terminated, _, _ = env.step(np.zeros(1, dtype=np.float32))
    assert (reward, terminated) == (0.0, False)


def test_mujoco_compiler_warnings_are_logged_not_written_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.DEBUG, logger="hfrl_gym.envs.mujoco"):
        make_env("hfrl/HalfCheetah-v0").close()  # its XML uses a deprecated attribute
    assert "settotalmass" in caplog.text
    assert list(tmp_path.iterdir()) == []  # no MUJOCO_LOG.TXT


def test_mujoco_envs_render_at_the_size_asked_classic_at_their_own() -> None:
    cheetah = make_env("hfrl/HalfCheetah-v0", render_mode="rgb_array", width=64, height=40)
    cheetah.reset(seed=0)
    assert cheetah.render().shape == (40, 64, 3)
    cheetah.close()
    cartpole = make_env("hfrl/CartPole-v0", render_mode="rgb_array", width=64, height=40)
    cartpole.reset(seed=0)
    assert cartpole.render().shape == (400, 600, 3)
    cartpole.close()


@pytest.mark.parametrize("env_id", [env_id for env_id in IDS if not SUITE[env_id].mujoco])
def test_closing_an_rgb_array_env_leaves_pygame_running(env_id: str) -> None:
    import pygame  # already loaded by Gymnasium's classic-control renderer

    env = make_env(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    env.render()
    assert pygame.display.get_init()
    env.close()  # Gymnasium's close() would quit pygame, and a labelling window with it
    assert pygame.display.get_init()
    env.reset(seed=0)
    assert env.render().ndim == 3
    env.close()


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({}, "egl"),
        ({"DISPLAY": ":0"}, None),
        ({"MUJOCO_GL": "osmesa"}, "osmesa"),
    ],
)
def test_ensure_gl_backend_chooses_egl_only_when_headless_and_unset(
    monkeypatch: pytest.MonkeyPatch, before: dict[str, str], after: str | None
) -> None:
    monkeypatch.delenv("MUJOCO_GL", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    for name, value in before.items():
        monkeypatch.setenv(name, value)
    ensure_gl_backend()
    assert os.environ.get("MUJOCO_GL") == after


def test_broken_gl_backend_raises_render_error_saying_what_to_set() -> None:
    code = (
        "from hfrl_gym.envs import make_env\n"
        "from hfrl_gym.errors import RenderError\n"
        "try:\n"
        "    make_env('hfrl/InvertedPendulum-v0', render_mode='rgb_array')\n"
        "except RenderError as exc:\n"
        "    print('RenderError:', exc)\n"
    )
    env = {**os.environ, "MUJOCO_GL": "no-such-backend"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.stdout.startswith("RenderError:"), result.stderr[-2000:]
    assert "MUJOCO_GL=egl" in result.stdout
    assert "libegl1" in result.stdout
    assert issubclass(RenderError, hfrl_gym.errors.HfrlError)


def test_describe_suite_lists_every_env_with_horizon_spaces_and_goals() -> None:
    table, note = describe_suite().split("\n\n")
    table = table.splitlines()
    assert table[0].split()[:2] == ["id", "horizon"]
    assert "hfrl/HalfCheetah-v0 -> hfrl/HalfCheetah-v1" in note
    rows = {line.split()[0]: line for line in table[1:]}
    assert set(rows) == set(IDS)
    for env_id, line in rows.items():
        spec = get_spec(env_id)
        assert line.split()[1] == str(spec.horizon)
        assert spec.observation in line
        assert spec.action in line
        assert line.endswith(", ".join(goals_for(env_id)))


def test_cartpole_crash_is_absorbing() -> None:
    env = make_env("hfrl/CartPole-v0")
    env.reset(seed=0)
    set_state(env, np.array([0.0, 1.0, 1.5, 3.0]))  # nearly flat, still falling, moving
    for _ in range(10):
        obs, reward, *_ = env.step(0)
        assert reward == 0.0
    assert obs[2] == pytest.approx(np.pi / 2)
    crashed = obs.copy()
    for action in [1, 0, 1, 1, 0] * 4:  # nothing moves any more, whatever the action
        obs, reward, terminated, _, _ = env.step(action)
        np.testing.assert_array_equal(obs, crashed)
        assert reward == 0.0
        assert not terminated
    assert crashed[1] == 0.0
    assert crashed[3] == 0.0
    assert env.observation_space.contains(obs)

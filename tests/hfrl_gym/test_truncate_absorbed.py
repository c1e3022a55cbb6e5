"""TruncateAbsorbed: training episodes end a fixed number of steps into an absorbing state."""

from __future__ import annotations

import numpy as np
import pytest

from agents.ppo import make_training_venv
from hfrl_gym.envs import make_env, set_state
from hfrl_gym.errors import ConfigError
from hfrl_gym.wrappers import TruncateAbsorbed

ONE_STEP_FROM_THE_TRACK = np.array([0.0, 0.0, 1.56, 3.0])


def _crash_now(env) -> None:
    env.reset(seed=0)
    set_state(env, ONE_STEP_FROM_THE_TRACK)


def test_cartpole_reports_absorbed_only_once_crashed() -> None:
    env = make_env("hfrl/CartPole-v0")
    env.reset(seed=0)
    _, _, _, _, info = env.step(0)
    assert "absorbed" not in info  # upright: not absorbed
    _crash_now(env)
    flags = [env.step(1)[4].get("absorbed", False) for _ in range(5)]
    assert flags == [True] * 5  # the crashing step and every step after it


def test_truncates_after_exactly_the_given_absorbing_steps() -> None:
    env = TruncateAbsorbed(make_env("hfrl/CartPole-v0"), steps=7)
    _crash_now(env)
    truncations = []
    for _ in range(7):
        *_, terminated, truncated, _ = env.step(0)
        assert not terminated
        truncations.append(truncated)
    assert truncations == [False] * 6 + [True]


def test_reset_clears_the_count_and_an_upright_episode_runs_to_the_horizon() -> None:
    env = TruncateAbsorbed(make_env("hfrl/CartPole-v0"), steps=3)
    _crash_now(env)
    env.step(0)
    env.step(0)  # two absorbing steps counted
    _crash_now(env)
    assert [env.step(0)[3] for _ in range(3)] == [False, False, True]  # counted from 0 again
    env.reset(seed=1)
    steps = 0
    truncated = False
    while not truncated:  # a balancing controller never crashes: the horizon ends it
        obs = env.unwrapped.get_state()
        *_, truncated, _ = env.step(int(obs[2] + 0.5 * obs[3] > 0))
        steps += 1
    assert steps == 500


def test_envs_without_absorbing_states_pass_through() -> None:
    env = TruncateAbsorbed(make_env("hfrl/Pendulum-v0"), steps=1)
    env.reset(seed=0)
    lengths = 0
    truncated = False
    while not truncated:
        *_, truncated, _ = env.step(env.action_space.sample())
        lengths += 1
    assert lengths == 200


def test_bad_step_count_is_refused() -> None:
    with pytest.raises(ConfigError, match="must be >= 1"):
        TruncateAbsorbed(make_env("hfrl/CartPole-v0"), steps=0)


def test_training_venv_truncates_so_ppo_bootstraps() -> None:
    """SB3 bootstraps a truncated episode: ``TimeLimit.truncated`` and its last observation."""
    venv = make_training_venv(
        "hfrl/CartPole-v0", num_envs=2, seed=0, clip_num_steps=10, absorbing_steps=10
    )
    venv.reset()
    step, dones = 0, np.zeros(2, dtype=bool)
    while not dones.any():
        _, _, dones, infos = venv.step(np.zeros(2, dtype=np.int64))  # always push left: falls
        step += 1
    assert step < 100
    info = infos[int(np.argmax(dones))]
    assert info["TimeLimit.truncated"] is True
    assert abs(info["terminal_observation"][2]) == pytest.approx(np.pi / 2)  # crashed
    assert info["episode"]["l"] == step
    venv.close()

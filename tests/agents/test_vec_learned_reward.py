"""VecLearnedReward: one batched call per step, terminal observations, true rewards kept."""

from __future__ import annotations

import numpy as np
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

from agents.vec_learned_reward import VecLearnedReward
from hfrl_gym.envs import make_env


class CountingReward:
    """Reward = the next observation's first coordinate; counts calls and batch sizes."""

    def __init__(self) -> None:
        self.batch_sizes: list[int] = []
        self.last_next_obs: np.ndarray | None = None

    def predict_rewards(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray):
        assert len(obs) == len(actions) == len(next_obs)
        self.batch_sizes.append(len(obs))
        self.last_next_obs = next_obs.copy()
        return next_obs[:, 0].astype(np.float64)


def _venv(num_envs: int) -> DummyVecEnv:
    venv = DummyVecEnv([lambda: Monitor(make_env("hfrl/Pendulum-v0"))] * num_envs)
    venv.seed(0)
    return venv


def test_one_batched_call_per_step_and_true_reward_in_info() -> None:
    reward = CountingReward()
    venv = VecLearnedReward(_venv(3), reward)
    venv.reset()
    for _ in range(5):
        obs, rewards, _, infos = venv.step(np.zeros((3, 1), np.float32))
        np.testing.assert_allclose(rewards, obs[:, 0], rtol=1e-6)
        true = np.array([info["true_reward"] for info in infos])
        np.testing.assert_array_equal(true, venv.get_original_reward())
        assert np.all(true <= 0.0)  # Pendulum's own reward is a cost
        assert not np.allclose(true, rewards)
    assert reward.batch_sizes == [3] * 5


def test_terminal_observation_is_scored_at_episode_end() -> None:
    reward = CountingReward()
    venv = VecLearnedReward(_venv(2), reward)
    venv.reset()
    horizon = 200
    for step in range(horizon):
        obs, rewards, dones, infos = venv.step(np.ones((2, 1), np.float32))
        if step < horizon - 1:
            assert not dones.any()
    assert dones.all()
    terminal = np.stack([info["terminal_observation"] for info in infos])
    np.testing.assert_array_equal(reward.last_next_obs, terminal)
    assert not np.allclose(terminal, obs)  # obs is already the next episode's first
    np.testing.assert_allclose(rewards, terminal[:, 0], rtol=1e-6)
    # The monitor sits inside: its episode return is the true return, not the learned one.
    assert all(info["episode"]["r"] < 0 for info in infos)

"""RecordClips: clip boundaries, snapshots, true rewards, vectorised envs, stock wrappers."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

from hfrl_gym.envs import get_state, make_env, set_state
from hfrl_gym.errors import ConfigError
from hfrl_gym.wrappers import LearnedReward, RecordClips


def _run(env: gym.Env, num_steps: int, seed: int = 0) -> list:
    obs, _ = env.reset(seed=seed)
    observations, rewards = [obs], []
    for _ in range(num_steps):
        obs, reward, terminated, _truncated, _ = env.step(env.action_space.sample())
        observations.append(obs)
        rewards.append(reward)
        assert not terminated
    return observations, rewards


def test_clips_are_consecutive_slices_of_the_episode() -> None:
    env = RecordClips(make_env("hfrl/CartPole-v0"), clip_num_steps=10, policy_name="random")
    env.action_space.seed(0)
    observations, rewards = _run(env, 35)
    clips = env.pop_clips()
    assert [c.start_step for c in clips] == [0, 10, 20]
    for k, clip in enumerate(clips):
        np.testing.assert_array_equal(
            clip.observations, np.stack(observations[10 * k : 10 * k + 11])
        )
        np.testing.assert_array_equal(clip.true_rewards, rewards[10 * k : 10 * k + 10])
        assert clip.policy == "random"
        assert clip.seed == 0
        assert clip.states.shape == (11, clip.states.shape[1])
    assert env.pop_clips() == []


def test_snapshots_restore_the_recorded_observations() -> None:
    env = RecordClips(make_env("hfrl/Pendulum-v0"), clip_num_steps=5)
    env.action_space.seed(1)
    _run(env, 5, seed=3)
    (clip,) = env.pop_clips()
    probe = make_env("hfrl/Pendulum-v0")
    probe.reset(seed=0)
    for t in range(clip.num_steps):
        set_state(probe, clip.states[t])
        np.testing.assert_allclose(get_state(probe), clip.states[t])
        next_obs, *_ = probe.step(clip.actions[t])
        np.testing.assert_allclose(next_obs, clip.observations[t + 1], rtol=1e-6, atol=1e-6)


def test_partial_clip_at_episode_end_is_dropped_and_episodes_counted() -> None:
    env = RecordClips(make_env("hfrl/Pendulum-v0"), clip_num_steps=60)  # horizon 200
    env.action_space.seed(0)
    for episode in range(2):
        env.reset(seed=episode)
        truncated = False
        while not truncated:
            *_, truncated, _ = env.step(env.action_space.sample())
    clips = env.pop_clips()
    assert len(clips) == 6  # 3 whole clips of 60 per 200-step episode; 20 steps dropped each
    assert [c.episode for c in clips] == [0, 0, 0, 1, 1, 1]


def test_true_reward_comes_from_info_when_the_reward_was_replaced() -> None:
    class MinusOne:
        def predict_rewards(self, obs, actions, next_obs):
            return -np.ones(len(obs))

    env = RecordClips(LearnedReward(make_env("hfrl/CartPole-v0"), MinusOne()), clip_num_steps=4)
    _, rewards = _run(env, 4)
    (clip,) = env.pop_clips()
    assert rewards == [-1.0] * 4
    np.testing.assert_array_equal(clip.true_rewards, np.ones(4))  # CartPole upright at start


def test_composes_with_stock_wrappers() -> None:
    inner = RecordClips(make_env("hfrl/Pendulum-v0"), clip_num_steps=8)
    env = gym.wrappers.RecordEpisodeStatistics(gym.wrappers.ClipAction(inner))
    _run(env, 16)
    assert len(inner.pop_clips()) == 2


@pytest.mark.parametrize("vec_cls", [DummyVecEnv, SubprocVecEnv])
def test_clips_travel_back_through_sb3_vec_envs(vec_cls: type) -> None:
    def make() -> gym.Env:
        return RecordClips(make_env("hfrl/CartPole-v0"), clip_num_steps=5, keep=False)

    venv = vec_cls([make, make])
    venv.seed(0)
    venv.reset()
    clips = []
    for _ in range(12):
        _, _, _, infos = venv.step(np.array([venv.action_space.sample() for _ in range(2)]))
        clips.extend(info["clip"] for info in infos if "clip" in info)
    venv.close()
    assert len(clips) == 4
    assert {c.env_id for c in clips} == {"hfrl/CartPole-v0"}
    assert all(c.states.shape == (6, clips[0].states.shape[1]) for c in clips)


def test_bad_clip_length_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least 1"):
        RecordClips(make_env("hfrl/CartPole-v0"), clip_num_steps=0)

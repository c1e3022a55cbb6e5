"""LearnedReward: the agent sees the learned reward, the true one stays in info."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.error import ResetNeeded

from hfrl_gym.envs import make_env
from hfrl_gym.wrappers import LearnedReward


class Recorder:
    """A reward function that records what it was shown and returns the action."""

    def __init__(self) -> None:
        self.seen: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def predict_rewards(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray):
        self.seen.append((obs.copy(), actions.copy(), next_obs.copy()))
        return actions.astype(np.float64).reshape(len(actions), -1).sum(axis=1) + 0.5


def test_reward_is_replaced_and_true_reward_kept() -> None:
    recorder = Recorder()
    env = LearnedReward(make_env("hfrl/CartPole-v0"), recorder)
    obs0, _ = env.reset(seed=0)
    obs1, reward, _, _, info = env.step(1)
    assert reward == 1.5
    assert info["true_reward"] == 1.0
    obs2, reward, _, _, _ = env.step(0)
    assert reward == 0.5
    (o, a, n), (o2, _, n2) = recorder.seen
    np.testing.assert_array_equal(o[0], obs0)
    np.testing.assert_array_equal(n[0], obs1)
    np.testing.assert_array_equal(o2[0], obs1)
    np.testing.assert_array_equal(n2[0], obs2)
    assert a.shape == (1,)


def test_reward_fn_never_sees_the_true_reward() -> None:
    recorder = Recorder()
    env = LearnedReward(make_env("hfrl/Pendulum-v0"), recorder)
    env.reset(seed=0)
    true_rewards = []
    for _ in range(5):
        *_, info = env.step(env.action_space.sample())
        true_rewards.append(info["true_reward"])
    shown = np.concatenate(
        [np.concatenate([o.ravel(), a.ravel(), n.ravel()]) for o, a, n in recorder.seen]
    )
    assert not np.isin(np.round(true_rewards, 6), np.round(shown, 6)).any()


def test_step_before_reset_is_an_error() -> None:
    env = LearnedReward(make_env("hfrl/CartPole-v0"), Recorder())
    with pytest.raises(ResetNeeded):
        env.step(0)

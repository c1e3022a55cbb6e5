"""Learning tests of the reward model on real suite clips (CartPole and Pendulum).

Clips come from ``RecordClips`` on the suite envs, labels from scripted teachers, and the
fit uses the default ``FitConfig``. The fitted model must rank held-out clips (from other
episodes) as the true reward does; the same fit on shuffled labels must not (control); a
Boltzmann-noisy teacher's fit must report a lower validation accuracy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pytest
from scipy.stats import spearmanr

from hfrl_gym.answers import Answer
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.envs import make_env
from hfrl_gym.queries import uniform_pairs
from hfrl_gym.reward_model import RewardModel
from hfrl_gym.teachers import make_teacher
from hfrl_gym.wrappers.record_clips import RecordClips

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]

CLIP_NUM_STEPS = 40
NUM_PAIRS = 400
ENV_IDS = {"cartpole": "hfrl/CartPole-v0", "pendulum": "hfrl/Pendulum-v0"}
Policy = Callable[[np.ndarray, int, np.random.Generator], np.ndarray | int]
Labelled = list[tuple[ClipPair, Answer]]


def cartpole_policy(switch_step: int) -> Policy:
    """Push toward the pole's lean until ``switch_step``, then push at random."""

    def act(obs: np.ndarray, step: int, rng: np.random.Generator) -> int:
        if step >= switch_step:
            return int(rng.integers(2))
        return int(obs[2] + 0.5 * obs[3] > 0)

    return act


def pendulum_policy(gain: float) -> Policy:
    """Torque ``gain * angular velocity`` plus noise: pumps energy (gain > 0) or damps it."""

    def act(obs: np.ndarray, step: int, rng: np.random.Generator) -> np.ndarray:
        torque = gain * obs[2] + rng.normal(scale=1.0)
        return np.clip([torque], -2.0, 2.0).astype(np.float32)

    return act


def collect(env_id: str, policies: list[Policy], episode_steps: int, seed: int) -> list[Clip]:
    """The clips of one ``episode_steps``-step episode per policy."""
    env = RecordClips(make_env(env_id), CLIP_NUM_STEPS, policy_name="test")
    rng = np.random.default_rng(seed)
    for episode, policy in enumerate(policies):
        obs, _ = env.reset(seed=seed * 1000 + episode)
        for step in range(episode_steps):
            obs, *_ = env.step(policy(obs, step, rng))
    env.close()
    return env.pop_clips()


def collect_clips(env_name: str, seed: int) -> list[Clip]:
    """CartPole: 200 one-clip episodes that lose balance at different times (returns spread
    over 0..40). Pendulum: 25 episodes of 200 steps with pumping and damping policies."""
    rng = np.random.default_rng(seed)
    if env_name == "cartpole":
        policies = [cartpole_policy(int(s)) for s in rng.integers(0, CLIP_NUM_STEPS, 200)]
        return collect(ENV_IDS[env_name], policies, CLIP_NUM_STEPS, seed)
    policies = [pendulum_policy(gain) for gain in rng.uniform(-1.0, 2.0, 25)]
    return collect(ENV_IDS[env_name], policies, 200, seed)


def label(clips: list[Clip], num_pairs: int, preset: str, seed: int) -> Labelled:
    rng = np.random.default_rng(seed)
    pairs = [ClipPair(clips[i], clips[j]) for i, j in uniform_pairs(clips, num_pairs, rng)]
    answers = make_teacher(preset, rng=rng).label(pairs)
    return list(zip(pairs, answers, strict=True))


def shuffled(labelled: Labelled, seed: int) -> Labelled:
    """The same pairs and answers, each answer moved to a random other pair."""
    order = np.random.default_rng(seed).permutation(len(labelled))
    return [(pair, labelled[k][1]) for (pair, _), k in zip(labelled, order, strict=True)]


def fit(env_name: str, labelled: Labelled, seed: int) -> RewardModel:
    env = make_env(ENV_IDS[env_name])
    model = RewardModel(
        env.observation_space, env.action_space, env_id=ENV_IDS[env_name], seed=seed, device="cpu"
    )
    env.close()
    model.fit(labelled, np.random.default_rng(seed))
    return model


@functools.cache
def data(env_name: str) -> tuple[list[Clip], Labelled, list[Clip], Labelled]:
    """Training clips with oracle labels; held-out clips (other episodes) with oracle labels."""
    train, test = collect_clips(env_name, seed=1), collect_clips(env_name, seed=2)
    return train, label(train, NUM_PAIRS, "oracle", 3), test, label(test, 400, "oracle", 4)


@functools.cache
def oracle_model(env_name: str) -> RewardModel:
    return fit(env_name, data(env_name)[1], seed=5)


def held_out_scores(model: RewardModel, env_name: str) -> tuple[float, float]:
    """Accuracy on held-out oracle pairs, Spearman correlation with held-out true returns."""
    _, _, test, held_out = data(env_name)
    accuracy = model.pair_accuracy(held_out)
    correlation = spearmanr(model.clip_returns(test), [clip.true_return for clip in test])[0]
    return float(accuracy), float(correlation)


@pytest.mark.parametrize("env_name", ["cartpole", "pendulum"])
def test_clips_have_varied_returns(env_name: str) -> None:
    returns = np.array([clip.true_return for clip in data(env_name)[0]])
    assert len(returns) >= 100
    spread = np.percentile(returns, 75) - np.percentile(returns, 10)
    assert spread > 0.1 * np.abs(returns).mean()


@pytest.mark.parametrize("env_name", ["cartpole", "pendulum"])
def test_oracle_fit_ranks_held_out_clips_like_the_true_reward(env_name: str) -> None:
    model = oracle_model(env_name)
    accuracy, correlation = held_out_scores(model, env_name)
    assert model.last_fit.num_val == NUM_PAIRS // 5
    assert model.last_fit.val_accuracy >= 0.9
    assert accuracy >= 0.9
    assert correlation >= 0.8


@pytest.mark.parametrize("env_name", ["cartpole", "pendulum"])
def test_shuffled_labels_do_not_reach_the_oracle_fit(env_name: str) -> None:
    """Control. An untrained network already ranks some clips by chance (random features
    correlate with these simple rewards, |Spearman| up to about 0.5), so the bars are set
    between that and the oracle's."""
    control = fit(env_name, shuffled(data(env_name)[1], seed=6), seed=5)
    accuracy, correlation = held_out_scores(control, env_name)
    assert control.last_fit.val_accuracy < 0.75
    assert accuracy < 0.8
    assert correlation < 0.7


def test_noisy_teacher_fit_reports_a_lower_validation_accuracy() -> None:
    train = data("cartpole")[0]
    noisy = fit("cartpole", label(train, NUM_PAIRS, "noisy", seed=3), seed=5)
    oracle = oracle_model("cartpole")
    assert noisy.last_fit.val_accuracy is not None
    assert noisy.last_fit.val_accuracy < oracle.last_fit.val_accuracy - 0.05
    # The noisy labels still carry the ordering: held-out ranking is far above chance.
    accuracy, _ = held_out_scores(noisy, "cartpole")
    assert accuracy > 0.8

"""Behaviour cloning: a PPO policy learns a demonstrator's actions (discrete and continuous)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from agents.bc import (
    BCConfig,
    action_agreement,
    behaviour_clone,
    demonstration_arrays,
    heuristic_controller,
    record_demonstrations,
    stored_demonstrations,
)
from agents.evaluate import evaluate_policy_returns
from agents.ppo import untrained_ppo
from hfrl_gym.clips import Clip
from hfrl_gym.errors import ConfigError
from hfrl_gym.recording import record_clips
from hfrl_gym.store import LabelStore

CARTPOLE = "hfrl/CartPole-v0"
PENDULUM = "hfrl/Pendulum-v0"


def _fresh_ppo(env_id: str, seed: int = 0):
    return untrained_ppo(env_id, seed=seed)


def _fresh_nll(clips: list[Clip]) -> float:
    """Mean negative log-likelihood of the clips' actions under an untrained policy."""
    obs, actions = demonstration_arrays(clips)
    policy = _fresh_ppo(PENDULUM).policy
    with torch.no_grad():
        distribution = policy.get_distribution(torch.as_tensor(obs))
        return float(-distribution.log_prob(torch.as_tensor(actions, dtype=torch.float32)).mean())


def _flipped(clips: list[Clip]) -> list[Clip]:
    """The same clips with every CartPole action reversed (an anti-demonstrator)."""
    return [dataclasses.replace(c, actions=1 - c.actions, uid=c.uid + "f") for c in clips]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def cartpole_demos() -> list[Clip]:
    return record_demonstrations(CARTPOLE, num_clips=20, clip_num_steps=50, seed=0)


@pytest.mark.slow
def test_cloned_cartpole_policy_agrees_and_balances(cartpole_demos: list[Clip]) -> None:
    ppo = _fresh_ppo(CARTPOLE)
    report = behaviour_clone(ppo.policy, cartpole_demos, rng=np.random.default_rng(0))
    assert report.num_val == 4 * 50
    assert report.num_train == 16 * 50
    assert report.val_agreement is not None
    assert report.val_agreement >= 0.9
    assert report.val_nll is not None
    assert report.val_nll < 0.4
    returns = evaluate_policy_returns(ppo.policy, CARTPOLE, num_episodes=4, seed=123)
    assert returns.true_mean >= 400  # the demonstrator balances all 500 steps

    # Control: the same fit on reversed actions learns the opposite, which cannot balance.
    anti = _fresh_ppo(CARTPOLE)
    behaviour_clone(anti.policy, _flipped(cartpole_demos), rng=np.random.default_rng(0))
    obs, actions = demonstration_arrays(cartpole_demos)
    assert action_agreement(anti.policy, obs, actions) <= 0.1
    assert evaluate_policy_returns(anti.policy, CARTPOLE, num_episodes=4, seed=123).true_mean < 50


def _swing(obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A smooth continuous demonstrator: torque against the angle and the spin."""
    _, sin, speed = obs
    return np.clip([-1.5 * sin - 0.4 * speed], -2.0, 2.0).astype(np.float32)


@pytest.mark.slow
def test_cloned_pendulum_policy_follows_continuous_actions() -> None:
    demos = record_clips(PENDULUM, num_clips=10, clip_num_steps=50, seed=1, policy=_swing)
    obs, actions = demonstration_arrays(demos)
    ppo = _fresh_ppo(PENDULUM)
    before = action_agreement(ppo.policy, obs, actions)
    report = behaviour_clone(
        ppo.policy, demos, rng=np.random.default_rng(0), config=BCConfig(num_epochs=60)
    )
    assert report.val_agreement is not None
    assert report.val_agreement >= 0.9  # R^2 of the mean action on held-out clips
    assert before < 0.1  # the untrained policy explains none of it
    assert report.train_nll < _fresh_nll(demos) - 0.2


def test_demonstrations_come_from_a_store_by_policy(tmp_path: Path) -> None:
    human = [
        dataclasses.replace(c, policy="human")
        for c in record_demonstrations(CARTPOLE, num_clips=3, clip_num_steps=20, seed=0)
    ]
    other = record_demonstrations(CARTPOLE, num_clips=2, clip_num_steps=20, seed=5)
    with LabelStore(tmp_path / "s.sqlite") as store:
        store.add_clips(other + human)
        found = stored_demonstrations(store, env_id=CARTPOLE)
        assert [c.uid for c in found] == [c.uid for c in human]
        with pytest.raises(ConfigError, match="hfrl play hfrl/Pendulum-v0"):
            stored_demonstrations(store, env_id=PENDULUM)


def test_demonstration_arrays_align_states_with_actions(cartpole_demos: list[Clip]) -> None:
    obs, actions = demonstration_arrays(cartpole_demos[:2])
    assert obs.shape == (100, 4)
    assert actions.shape == (100,)
    np.testing.assert_array_equal(obs[50], cartpole_demos[1].observations[0])
    controller, _ = heuristic_controller(CARTPOLE)
    rng = np.random.default_rng(0)
    assert all(controller(o, rng) == a for o, a in zip(obs, actions, strict=True))


def test_bad_inputs_are_refused(cartpole_demos: list[Clip]) -> None:
    pendulum = record_demonstrations(PENDULUM, num_clips=1, clip_num_steps=5, seed=0)
    with pytest.raises(ConfigError, match="one env"):
        demonstration_arrays([cartpole_demos[0], pendulum[0]])
    with pytest.raises(ConfigError, match="at least one"):
        demonstration_arrays([])
    with pytest.raises(ConfigError, match="no scripted demonstrator"):
        heuristic_controller("hfrl/HalfCheetah-v0")
    with pytest.raises(ConfigError, match="val_fraction"):
        BCConfig(val_fraction=1.0)
    with pytest.raises(ConfigError, match="random_action_prob"):
        record_demonstrations(
            CARTPOLE, num_clips=1, clip_num_steps=5, seed=0, random_action_prob=2.0
        )


def test_random_actions_make_an_imperfect_demonstrator() -> None:
    perfect = record_demonstrations(CARTPOLE, num_clips=1, clip_num_steps=200, seed=3)
    sloppy = record_demonstrations(
        CARTPOLE, num_clips=1, clip_num_steps=200, seed=3, random_action_prob=1.0
    )
    assert perfect[0].true_return == 200
    assert sloppy[0].true_return < 100
    assert sloppy[0].policy == "heuristic"

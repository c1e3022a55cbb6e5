"""The disagreement bonus (``--disagreement-bonus``, RUNE): what the agent is scored by, how
its weight falls over the run, and an off-policy buffer relabelled when the weight changes.

Real suite envs, real (small) reward models, real SB3 agents at tiny budgets.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from agents.async_loop import AsyncLoop
from agents.config import TrainConfig
from agents.disagreement_bonus import DisagreementBonus
from agents.offpolicy_agent import SACAgent
from agents.ppo import make_training_venv
from agents.ppo_agent import PPOAgent
from agents.reward_fitter import new_reward_model
from agents.rlhf_loop import train
from agents.sac import SACHyperparameters
from agents.vec_learned_reward import VecLearnedReward
from hfrl_gym.errors import ConfigError
from hfrl_gym.store import LabelStore

PENDULUM = "hfrl/Pendulum-v0"


def _model(env_id: str = PENDULUM, seed: int = 0):  # unfit: its members disagree at random
    venv = make_training_venv(env_id, num_envs=1, seed=0, clip_num_steps=25)
    return new_reward_model(env_id, venv, num_members=3, device="cpu", seed=seed)


def _stored(agent: SACAgent) -> tuple[np.ndarray, ...]:
    buffer = agent.replay_buffer
    rows = buffer.pos
    return (
        buffer.observations[:rows, 0],
        agent.sac.policy.unscale_action(buffer.actions[:rows, 0]),
        buffer.next_observations[:rows, 0],
        buffer.rewards[:rows, 0].copy(),
    )


def test_the_bonus_is_the_members_spread_and_falls_to_zero_by_the_end() -> None:
    model = _model()
    bonus = DisagreementBonus(model, weight=2.0, total_env_steps=1_000)
    rng = np.random.default_rng(0)
    obs, acts, nxt = rng.normal(size=(50, 3)), rng.uniform(-2, 2, (50, 1)), rng.normal(size=(50, 3))
    plain = model.predict_rewards(obs, acts, nxt)
    features = model.features(obs, acts, nxt)
    spread = model._member_rewards(features).std(axis=0) / model.reward_scale.std
    assert spread.min() > 1e-3  # an unfit ensemble disagrees everywhere
    np.testing.assert_allclose(bonus.predict_rewards(obs, acts, nxt), plain + 2 * spread, atol=1e-5)
    for steps, beta in ((0, 2.0), (250, 1.5), (1_000, 0.0), (5_000, 0.0)):
        bonus.set_env_steps(steps)
        assert bonus.beta == pytest.approx(beta)
    np.testing.assert_array_equal(bonus.predict_rewards(obs, acts, nxt), plain)  # at the end
    with pytest.raises(ConfigError, match="weight > 0"):
        DisagreementBonus(model, weight=0.0, total_env_steps=10)


def test_ppo_sets_the_weight_from_its_env_steps_before_each_stretch_of_learning(
    one_torch_thread: None,
) -> None:
    bonus = DisagreementBonus(_model("hfrl/CartPole-v0"), weight=1.0, total_env_steps=4_096)
    venv = make_training_venv("hfrl/CartPole-v0", num_envs=4, seed=0, clip_num_steps=25)
    agent = PPOAgent(
        "hfrl/CartPole-v0", venv, bonus, seed=0, device="cpu", eval_episodes=1,
        env_step_budget=4_096,
    )  # fmt: skip
    assert isinstance(agent.train_venv, VecLearnedReward)
    assert agent.train_venv.reward_fn is bonus
    agent.train(512, round_index=0)
    assert bonus.beta == pytest.approx(1.0)  # set at step 0
    done = agent.env_steps
    assert done >= 512
    agent.train(512, round_index=1)
    assert bonus.beta == pytest.approx(1.0 - done / 4_096)
    agent.close()


def test_sac_relabels_its_buffer_when_the_weight_changes(one_torch_thread: None) -> None:
    model = _model()
    bonus = DisagreementBonus(model, weight=2.0, total_env_steps=1_000)
    venv = make_training_venv(PENDULUM, num_envs=1, seed=0, clip_num_steps=25)
    small = SACHyperparameters(batch_size=32, learning_starts=50, net_arch=(16, 16))
    agent = SACAgent(
        PENDULUM, venv, bonus, seed=0, device="cpu", env_step_budget=1_000,
        hyperparameters=small, eval_episodes=1,
    )  # fmt: skip
    agent.train(300, round_index=0)
    obs, acts, nxt, first = _stored(agent)
    np.testing.assert_allclose(
        first, model.predict_rewards(obs, acts, nxt, disagreement_bonus=2.0), atol=1e-5
    )
    agent.train(100, round_index=1)  # the weight is now 2 * (1 - 300 / 1000) = 1.4
    obs, acts, nxt, after = _stored(agent)
    expected = model.predict_rewards(obs, acts, nxt, disagreement_bonus=1.4)
    np.testing.assert_allclose(after, expected, atol=1e-5)  # the old steps too
    assert agent.relabelled == 300
    assert not np.allclose(after[:300], first, atol=1e-3)  # control: they did change
    agent.close()


def test_an_asynchronous_refit_keeps_the_bonus_on_the_new_model() -> None:
    old, new = _model(seed=0), _model(seed=1)
    bonus = DisagreementBonus(old, weight=1.0, total_env_steps=100)
    venv = SimpleNamespace(reward_fn=bonus, set_reward_fn=lambda fn: pytest.fail("replaced"))
    loop = SimpleNamespace(
        fitter=SimpleNamespace(adopt=lambda *args: None),
        agent=SimpleNamespace(train_venv=venv, ppo=SimpleNamespace(num_timesteps=7)),
        log=SimpleNamespace(handovers=[]),
    )
    AsyncLoop._take_up(loop, SimpleNamespace(model=new, report=None, probe=(), version=2))
    assert venv.reward_fn is bonus
    assert bonus.model is new
    assert loop.log.handovers == [(7, 2)]


@pytest.mark.slow
def test_a_run_with_the_bonus_trains_otherwise_and_records_it(
    tmp_path: Path, one_torch_thread: None
) -> None:
    def run(out: Path, weight: float) -> dict:
        config = TrainConfig(
            env="hfrl/CartPole-v0", labels=8, steps=3_000, rounds=2, initial_steps=400,
            clip_steps=10, ensemble=2, eval_episodes=2, seed=1, out=str(out), device="cpu",
            video=False, disagreement_bonus=weight, explore_fraction=0.0,
        ).validate()  # fmt: skip
        return train(config, show_progress=False)

    with_bonus = run(tmp_path / "bonus", 1.0)
    without = run(tmp_path / "plain", 0.0)
    config = json.loads((tmp_path / "bonus" / "config.json").read_text())
    assert config["disagreement_bonus"] == 1.0
    assert with_bonus["labels_used"] == without["labels_used"] == 8
    # the bonus changed what PPO learned from, so its learning recorded other clips for the
    # next queries (the untrained policy's clips, recorded first, are the same in both)
    assert _clip_sums(tmp_path / "bonus", "/round0/step0") == _clip_sums(
        tmp_path / "plain", "/round0/step0"
    )
    learning = "/round0/learning-from-"
    assert _clip_sums(tmp_path / "bonus", learning) != _clip_sums(tmp_path / "plain", learning)


def _clip_sums(run: Path, policy: str) -> list[float]:
    """Each stored clip's observation sum, of the clips whose policy name holds ``policy``."""
    with LabelStore(run / "store.sqlite", create=False) as store:
        clips = store.get_clips(store.clip_uids())
    sums = sorted(float(c.observations.sum()) for c in clips if policy in c.policy)
    assert sums, f"no clip of {policy}"
    return sums

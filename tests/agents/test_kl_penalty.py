"""The KL penalty: exact reward arithmetic, and it keeps PPO close to its reference."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

from agents.kl_penalty import (
    REFERENCE_FILE,
    KLPenalty,
    frozen_copy,
    kl_penalty_for_run,
    load_policy_weights,
    mean_kl,
)
from agents.ppo import make_ppo, ppo_settings
from agents.vec_learned_reward import VecLearnedReward
from hfrl_gym.envs import make_env
from hfrl_gym.errors import ConfigError

CARTPOLE = "hfrl/CartPole-v0"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


class PushRight:
    """Reward 1 for action 1 (push right), 0 otherwise: it pulls any policy towards 1."""

    def predict_rewards(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray):
        return (np.asarray(actions).reshape(-1) == 1).astype(np.float64)


def _ppo(env_id: str = CARTPOLE, seed: int = 0, n_steps: int = 64):
    venv = DummyVecEnv([lambda: Monitor(make_env(env_id))] * 4)
    venv.seed(seed)
    train_venv = VecLearnedReward(venv, PushRight()) if env_id == CARTPOLE else venv
    params = dataclasses.replace(
        ppo_settings(env_id).ppo, n_steps=n_steps, batch_size=64, n_epochs=4, learning_rate=3e-3
    )
    return make_ppo(train_venv, env_id, seed=seed, device="cpu", hyperparameters=params)


def _probe_states(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 0.5, size=(512, 4)).astype(np.float32)


def _push_right_probability(policy, states: np.ndarray) -> float:
    with torch.no_grad():
        distribution = policy.get_distribution(torch.as_tensor(states))
        return float(distribution.distribution.probs[:, 1].mean())


@pytest.mark.slow
def test_penalty_keeps_the_policy_closer_to_the_reference() -> None:
    states = _probe_states(1)
    results = {}
    for kl_coef in (0.0, 1.0):
        ppo = _ppo(seed=3)
        reference = frozen_copy(ppo.policy)
        penalty = KLPenalty(reference, kl_coef=kl_coef)
        ppo.learn(6_000, callback=penalty)
        results[kl_coef] = (
            mean_kl(ppo.policy, reference, states),
            _push_right_probability(ppo.policy, states),
            penalty.history,
        )
    free_kl, free_right, free_history = results[0.0]
    kept_kl, kept_right, kept_history = results[1.0]
    # Without a penalty PPO goes (nearly) all the way to "always push right" ...
    assert free_right > 0.9
    assert free_kl > 0.3
    # ... with beta = 1 the optimum is pi(right) = sigmoid(logit_ref + 1/beta): moved, not gone.
    assert 0.55 < kept_right < 0.85
    assert kept_kl < free_kl / 4
    # The KL measured during training (on the rollouts' states) tells the same story.
    assert kept_history[-1].mean_kl < free_history[-1].mean_kl / 4
    assert free_history[0].mean_kl == pytest.approx(0.0, abs=1e-6)


class BufferProbe(BaseCallback):
    """Copies the rollout buffer (and the last values) when a rollout ends."""

    def __init__(self) -> None:
        super().__init__()
        self.copies: list[dict[str, np.ndarray]] = []

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        buffer = self.model.rollout_buffer
        names = ("observations", "actions", "rewards", "log_probs", "values", "returns")
        copy = {name: getattr(buffer, name).copy() for name in (*names, "advantages")}
        copy["last_values"] = self.locals["values"].numpy().reshape(-1).copy()
        self.copies.append(copy)


def test_penalty_is_beta_times_the_log_ratio_and_advantages_are_recomputed() -> None:
    ppo = _ppo(seed=0, n_steps=32)
    reference = _ppo(seed=7).policy
    with torch.no_grad():
        reference.action_net.bias.add_(torch.tensor([0.5, -0.5]))  # a reference that differs
    before, after = BufferProbe(), BufferProbe()
    penalty = KLPenalty(reference, kl_coef=0.5)
    ppo.learn(128, callback=[before, penalty, after])  # one rollout: 32 steps x 4 envs
    raw, got = before.copies[0], after.copies[0]
    obs = torch.as_tensor(got["observations"].reshape(-1, 4))
    actions = torch.as_tensor(got["actions"].reshape(-1)).long()
    with torch.no_grad():
        reference_log_prob = reference.get_distribution(obs).log_prob(actions).numpy()
    log_ratio = got["log_probs"] - reference_log_prob.reshape(32, 4)
    assert np.abs(log_ratio).max() > 1e-2
    np.testing.assert_allclose(got["rewards"], raw["rewards"] - 0.5 * log_ratio, atol=1e-5)
    np.testing.assert_allclose(got["returns"], got["advantages"] + got["values"], atol=1e-5)
    assert not np.allclose(got["advantages"], raw["advantages"])
    # The last step's advantage is r + gamma * V(s') - V(s), with the penalised reward r.
    expected_last = got["rewards"][-1] + ppo.gamma * got["last_values"] - got["values"][-1]
    np.testing.assert_allclose(got["advantages"][-1], expected_last, atol=1e-4)
    assert penalty.history[0].mean_penalty == pytest.approx(0.5 * log_ratio.mean(), rel=1e-4)


def test_mean_kl_is_zero_for_a_copy_and_positive_otherwise() -> None:
    ppo = _ppo(seed=0)
    other = _ppo(seed=1)
    with torch.no_grad():
        other.policy.action_net.bias.add_(torch.tensor([0.5, -0.5]))
    states = _probe_states(0)
    assert mean_kl(ppo.policy, frozen_copy(ppo.policy), states) == pytest.approx(0.0, abs=1e-7)
    expected = 0.5 * np.log(0.5 / 0.731) + 0.5 * np.log(0.5 / 0.269)  # about KL(uniform || 73:27)
    assert mean_kl(ppo.policy, other.policy, states) == pytest.approx(expected, rel=0.1)
    pendulum = _ppo("hfrl/Pendulum-v0", seed=0)
    pendulum_other = _ppo("hfrl/Pendulum-v0", seed=1)
    pendulum_states = _probe_states(3)[:, :3]
    assert mean_kl(pendulum.policy, pendulum_other.policy, pendulum_states) > 0


def test_run_reference_from_a_file_or_the_initial_policy(tmp_path: Path) -> None:
    pretrained = _ppo(seed=5)
    pretrained.save(tmp_path / "bc.zip")
    ppo = _ppo(seed=0)
    penalty = kl_penalty_for_run(
        ppo, kl_coef=0.1, reference=tmp_path / "bc.zip", run_root=tmp_path, resume=False
    )
    assert penalty is not None
    states = _probe_states(2)
    assert mean_kl(ppo.policy, pretrained.policy, states) == pytest.approx(0.0, abs=1e-7)
    assert mean_kl(penalty.reference, pretrained.policy, states) == pytest.approx(0.0, abs=1e-7)

    # No file: the initial policy is the reference, saved so a resumed run keeps it.
    fresh = _ppo(seed=0)
    run = tmp_path / "run"
    run.mkdir()
    penalty = kl_penalty_for_run(fresh, kl_coef=0.1, reference=None, run_root=run, resume=False)
    assert penalty is not None
    assert (run / REFERENCE_FILE).is_file()
    resumed = _ppo(seed=9)
    again = kl_penalty_for_run(resumed, kl_coef=0.1, reference="", run_root=run, resume=True)
    assert again is not None
    assert mean_kl(again.reference, fresh.policy, states) == pytest.approx(0.0, abs=1e-7)
    assert mean_kl(resumed.policy, _ppo(seed=9).policy, states) == pytest.approx(0.0, abs=1e-7)
    off = kl_penalty_for_run(fresh, kl_coef=0.0, reference=None, run_root=run, resume=False)
    assert off is None


def test_bad_references_and_coefficients_are_refused(tmp_path: Path) -> None:
    ppo = _ppo(seed=0)
    with pytest.raises(ConfigError, match="no policy file"):
        load_policy_weights(ppo.policy, tmp_path / "missing.zip")
    _ppo("hfrl/Pendulum-v0").save(tmp_path / "pendulum.zip")
    with pytest.raises(ConfigError, match="same env"):
        load_policy_weights(ppo.policy, tmp_path / "pendulum.zip")
    (tmp_path / "junk.zip").write_text("not a zip")
    with pytest.raises(ConfigError, match="not a PPO policy"):
        load_policy_weights(ppo.policy, tmp_path / "junk.zip")
    with pytest.raises(ConfigError, match=">= 0"):
        KLPenalty(ppo.policy, kl_coef=-1.0)


@pytest.mark.slow
def test_hfrl_train_takes_a_kl_coefficient_and_a_reference(tmp_path: Path) -> None:
    from agents.config import TrainConfig
    from agents.rlhf_loop import train

    pretrained = _ppo(seed=5)
    with torch.no_grad():
        pretrained.policy.action_net.bias.add_(torch.tensor([1.0, -1.0]))
    pretrained.save(tmp_path / "bc.zip")
    tiny = {"steps": 1200, "rounds": 1, "initial_steps": 400, "labels": 4, "clip_steps": 20}
    config = TrainConfig(
        **tiny,
        eval_episodes=1,
        video=False,
        kl_coef=100.0,
        reference=str(tmp_path / "bc.zip"),
        out=str(tmp_path / "run"),
    ).validate()
    summary = train(config, show_progress=False)
    assert summary["labels_used"] == 4
    assert not (tmp_path / "run" / REFERENCE_FILE).exists()  # the given reference is used
    trained = _ppo(seed=0)
    load_policy_weights(trained.policy, tmp_path / "run" / "policy.pt")
    # Started from the reference and held there by a huge beta: still close to it.
    assert mean_kl(trained.policy, pretrained.policy, _probe_states(0)) < 0.02
    assert _push_right_probability(trained.policy, _probe_states(0)) < 0.3

    with pytest.raises(ConfigError, match="--kl-coef"):
        TrainConfig(kl_coef=-0.1).validate()
    with pytest.raises(ConfigError, match="--reference"):
        TrainConfig(reference=str(tmp_path / "missing.zip")).validate()

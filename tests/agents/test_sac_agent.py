"""SAC behind the loop's agent interface: relabelling, the replay buffer on disk, the policy file.

Small SACs (16-unit nets, short budgets) on the real suite envs and a real reward model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from agents.config import TrainConfig
from agents.offpolicy_agent import SACAgent, load_buffer, relabel_buffer, save_buffer
from agents.policy_file import load_policy, policy_model, save_policy
from agents.ppo import make_training_venv, untrained_ppo
from agents.reward_fitter import new_reward_model
from agents.sac import SACHyperparameters, sac_settings, untrained_sac
from hfrl_gym.answers import Answer, Choice
from hfrl_gym.clips import ClipPair
from hfrl_gym.errors import ConfigError

PENDULUM = "hfrl/Pendulum-v0"
SMALL = SACHyperparameters(batch_size=32, learning_starts=50, net_arch=(16, 16))


def _agent(reward: object, *, seed: int = 0, budget: int = 2_000, **kwargs: object) -> SACAgent:
    venv = make_training_venv(PENDULUM, num_envs=1, seed=seed, clip_num_steps=25)
    return SACAgent(
        PENDULUM,
        venv,
        reward,  # type: ignore[arg-type]
        seed=seed,
        device="cpu",
        env_step_budget=budget,
        hyperparameters=SMALL,
        eval_episodes=1,
        **kwargs,  # type: ignore[arg-type]
    )


def _model(seed: int = 0):  # a real reward model, not fit: its random network scores
    venv = make_training_venv(PENDULUM, num_envs=1, seed=0, clip_num_steps=25)
    return new_reward_model(PENDULUM, venv, num_members=2, device="cpu", seed=seed)


def _stored(agent: SACAgent) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Observations, env actions, next observations and rewards of every stored transition."""
    buffer = agent.replay_buffer
    rows = buffer.buffer_size if buffer.full else buffer.pos
    return (
        buffer.observations[:rows, 0],
        agent.sac.policy.unscale_action(buffer.actions[:rows, 0]),
        buffer.next_observations[:rows, 0],
        buffer.rewards[:rows, 0].copy(),
    )


def _better(pair: ClipPair) -> bool:
    return bool(pair.left.true_rewards.sum() > pair.right.true_rewards.sum())


def _refit(agent: SACAgent, model) -> None:
    """One real Bradley-Terry fit on pairs of the agent's clips, answered by true return."""
    clips = agent.harvested_clips()
    pairs = [ClipPair(a, b) for a, b in zip(clips[0::2], clips[1::2], strict=False)]
    labelled = [
        (pair, Answer(Choice.LEFT if _better(pair) else Choice.RIGHT, annotator="test"))
        for pair in pairs
    ]
    model.fit(labelled, np.random.default_rng(0))


def test_relabelling_scores_stored_steps_as_the_wrapper_scores_new_ones(one_torch_thread) -> None:
    model = _model()
    agent = _agent(model)
    agent.train(450, round_index=0)  # crosses two episode ends (horizon 200)
    obs, actions, next_obs, before = _stored(agent)
    assert len(before) == 450
    assert agent.replay_buffer.dones[:450].sum() == 2
    # the wrapper scored these as they happened; the relabel formula gives the same numbers
    again = before.copy()
    relabel_buffer(agent.replay_buffer, model, env_actions=agent.sac.policy.unscale_action)
    np.testing.assert_allclose(_stored(agent)[3], again, rtol=0, atol=1e-6)
    # control: the stored actions are rescaled to [-1, 1]; scored raw they give other rewards
    raw = agent.replay_buffer.actions[:450, 0]
    assert not np.allclose(model.predict_rewards(obs, raw, next_obs), before, atol=1e-3)

    _refit(agent, model)  # a new reward: the next train() relabels the whole buffer first
    agent.train(100, round_index=1)
    obs, actions, next_obs, after = _stored(agent)
    np.testing.assert_allclose(after, model.predict_rewards(obs, actions, next_obs), atol=1e-6)
    assert not np.allclose(after[:450], before, atol=1e-3)  # the old steps were relabelled
    assert agent.relabelled == 450  # once, in one pass over what was stored
    agent.train(50, round_index=1)  # no refit since: nothing is relabelled again
    assert agent.relabelled == 450
    agent.close()


def test_relabelling_goes_in_batches_and_covers_a_wrapped_buffer(one_torch_thread) -> None:
    model = _model()
    agent = _agent(model, budget=300)  # the buffer holds 300 rows: it wraps
    agent.train(400, round_index=0)
    assert agent.replay_buffer.full

    class Counting:
        def __init__(self) -> None:
            self.calls: list[int] = []

        def predict_rewards(self, obs, actions, next_obs):
            self.calls.append(len(obs))
            return np.full(len(obs), 7.0, dtype=np.float32)

    counting = Counting()
    count = relabel_buffer(agent.replay_buffer, counting, env_actions=lambda a: a, batch_size=128)
    assert count == 300
    assert counting.calls == [128, 128, 44]
    assert np.all(agent.replay_buffer.rewards == 7.0)
    agent.close()


def test_the_true_reward_never_enters_the_buffer(one_torch_thread) -> None:
    """With a learned reward the buffer holds only what the wrapper gave: never the env's."""

    class Seven:  # a learned reward Pendulum's true reward (always <= 0) can never equal
        def predict_rewards(self, obs, actions, next_obs):
            return np.full(len(obs), 7.0, dtype=np.float32)

    agent = _agent(Seven())
    agent.explore(200, round_index=0)  # exploration's intrinsic rewards, then the learned one
    agent.train(200, round_index=0)
    rewards = _stored(agent)[3]
    assert len(rewards) == 400
    assert np.all(rewards == 7.0)
    baseline = _agent(None)  # control: without a learned reward the env's own is stored
    baseline.train(200, round_index=0)
    true_rewards = _stored(baseline)[3]
    assert np.all(true_rewards <= 0.0)
    assert np.any(true_rewards < 0.0)
    agent.close(), baseline.close()


def test_exploration_resets_the_critics_and_keeps_the_actor(one_torch_thread) -> None:
    agent = _agent(_model())
    agent.train(100, round_index=0)  # the critic and actor learn (learning starts at 50)
    actor = {k: v.clone() for k, v in agent.sac.actor.state_dict().items()}
    agent.explore(100, round_index=0)
    trained = {k: v.clone() for k, v in agent.sac.actor.state_dict().items()}
    assert any(not torch.equal(actor[k], trained[k]) for k in actor)  # exploration trained it
    critic, target = agent.sac.critic.state_dict(), agent.sac.critic_target.state_dict()
    assert all(torch.equal(critic[k], target[k]) for k in critic)  # target = the new critic
    assert not agent.sac.critic.optimizer.state  # fresh moments
    agent.close()


def test_the_buffer_round_trips_through_npz(tmp_path: Path, one_torch_thread) -> None:
    agent = _agent(_model(), buffer_path=tmp_path / "replay_buffer.npz")
    agent.train(120, round_index=0)
    agent.save(tmp_path / "policy.pt")
    other = _agent(_model(), seed=1, buffer_path=tmp_path / "replay_buffer.npz")
    other.restore(tmp_path / "policy.pt", ppo_steps=120, env_steps=120)
    for name in ("observations", "next_observations", "actions", "rewards", "dones"):
        saved, loaded = getattr(agent.replay_buffer, name), getattr(other.replay_buffer, name)
        np.testing.assert_array_equal(loaded[:120], saved[:120])
    assert (other.replay_buffer.pos, other.replay_buffer.full) == (120, False)
    assert other.sac.num_timesteps == 120
    mine, theirs = agent.sac.policy.state_dict(), other.sac.policy.state_dict()
    assert all(torch.equal(mine[name], theirs[name]) for name in mine)
    optimizers = (agent.sac.critic.optimizer, other.sac.critic.optimizer)
    steps = [optimizer.state_dict()["state"][0]["step"] for optimizer in optimizers]
    assert steps[0] == steps[1] > 0  # the optimizers' moments came back too
    assert torch.equal(agent.sac.log_ent_coef, other.sac.log_ent_coef)
    agent.close(), other.close()


class _Payload:
    """Unpickling this would create a file: the proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_crafted_buffer_file_runs_no_code(tmp_path: Path, one_torch_thread) -> None:
    agent = _agent(_model())
    agent.train(60, round_index=0)
    path, marker = tmp_path / "replay_buffer.npz", tmp_path / "pwned"
    save_buffer(agent.replay_buffer, path)
    arrays = dict(np.load(path))
    arrays["rewards"] = np.array([_Payload(marker)], dtype=object)
    np.savez(path, **arrays)  # numpy pickles the object array
    with pytest.raises(ConfigError, match="is not a replay buffer"):
        load_buffer(agent.replay_buffer, path)
    assert not marker.exists()
    save_buffer(agent.replay_buffer, path)
    arrays = dict(np.load(path))  # a buffer of another env's shapes
    arrays["observations"] = np.zeros((60, 1, 5), np.float32)
    np.savez(path, **arrays)
    with pytest.raises(ConfigError, match="observations is float32 \\(60, 1, 5\\)"):
        load_buffer(agent.replay_buffer, path)
    agent.close()


def test_policy_files_say_their_algorithm(tmp_path: Path) -> None:
    sac = untrained_sac(PENDULUM, seed=0)
    save_policy(sac, tmp_path / "sac.pt", env_id=PENDULUM)
    loaded = policy_model(PENDULUM, tmp_path / "sac.pt")
    for mine, theirs in zip(sac.policy.parameters(), loaded.policy.parameters(), strict=True):
        assert torch.equal(mine, theirs)
    assert type(loaded).__name__ == "SAC"
    save_policy(untrained_ppo(PENDULUM, seed=0), tmp_path / "ppo.pt", env_id=PENDULUM)
    assert type(policy_model(PENDULUM, tmp_path / "ppo.pt")).__name__ == "RoundsPPO"
    with pytest.raises(ConfigError, match="is a PPO policy, not a SAC one"):
        load_policy(sac, tmp_path / "ppo.pt", env_id=PENDULUM)


def test_sac_is_refused_where_it_cannot_run() -> None:
    with pytest.raises(ConfigError, match=r"--algo sac needs continuous actions.*Discrete"):
        TrainConfig(env="hfrl/CartPole-v0", algo="sac").validate()
    with pytest.raises(ConfigError, match="--algo must be one of ppo, sac, dqn"):
        TrainConfig(env=PENDULUM, algo="a2c").validate()
    with pytest.raises(ConfigError, match="--kl-coef is for PPO"):
        TrainConfig(env=PENDULUM, algo="sac", kl_coef=0.1).validate()
    assert TrainConfig(env=PENDULUM, algo="sac").validate().algo == "sac"
    assert sac_settings("hfrl/HalfCheetah-v0").sac.learning_starts == 10_000

"""DQN behind the loop's agent interface (``--algo dqn``): relabelling with discrete actions,
the exploration rate over the whole run, the policy file, and a killed run resumed.

Small DQNs (16-unit nets, short budgets) on the real suite envs and a real reward model.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from agents.config import TrainConfig
from agents.dqn import DQNHyperparameters, dqn_settings, untrained_dqn
from agents.offpolicy_agent import DQNAgent, relabel_buffer
from agents.policy_file import load_policy, policy_model, save_policy
from agents.ppo import make_training_venv, untrained_ppo
from agents.reward_fitter import new_reward_model
from hfrl_gym.answers import Answer, Choice
from hfrl_gym.clips import ClipPair
from hfrl_gym.envs import make_env
from hfrl_gym.errors import ConfigError
from hfrl_gym.reward_model import RewardModel

CARTPOLE = "hfrl/CartPole-v0"
SMALL = DQNHyperparameters(
    batch_size=32, learning_starts=50, net_arch=(16, 16), exploration_fraction=0.5
)


def _agent(reward: object, *, seed: int = 0, budget: int | None = 2_000, **kwargs) -> DQNAgent:
    venv = make_training_venv(CARTPOLE, num_envs=1, seed=seed, clip_num_steps=25)
    return DQNAgent(
        CARTPOLE,
        venv,
        reward,  # type: ignore[arg-type]
        seed=seed,
        device="cpu",
        env_step_budget=budget,
        hyperparameters=kwargs.pop("hyperparameters", SMALL),
        eval_episodes=1,
        **kwargs,
    )


def _model(seed: int = 0) -> RewardModel:  # a real reward model, not fit: its network scores
    venv = make_training_venv(CARTPOLE, num_envs=1, seed=0, clip_num_steps=25)
    return new_reward_model(CARTPOLE, venv, num_members=2, device="cpu", seed=seed)


def _stored(agent: DQNAgent) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Observations, actions, next observations and rewards of every stored transition."""
    buffer = agent.replay_buffer
    rows = buffer.buffer_size if buffer.full else buffer.pos
    return (
        buffer.observations[:rows, 0],
        buffer.actions[:rows, 0],
        buffer.next_observations[:rows, 0],
        buffer.rewards[:rows, 0].copy(),
    )


def test_relabelling_scores_stored_discrete_steps_as_the_wrapper_scores_new_ones(
    one_torch_thread,
) -> None:
    model = _model()
    agent = _agent(model)
    agent.train(300, round_index=0)
    obs, actions, next_obs, before = _stored(agent)
    assert len(before) == 300
    assert set(np.unique(actions)) == {0, 1}  # CartPole's two actions, stored as integers
    again = before.copy()  # the wrapper scored these as they happened
    relabel_buffer(agent.replay_buffer, model, env_actions=lambda stored: stored)
    np.testing.assert_allclose(_stored(agent)[3], again, rtol=0, atol=1e-6)
    # control: the action is part of what is scored; the other action gives other rewards
    assert not np.allclose(model.predict_rewards(obs, 1 - actions, next_obs), before, atol=1e-4)

    clips = agent.harvested_clips()
    pairs = [ClipPair(a, b) for a, b in zip(clips[0::2], clips[1::2], strict=False)]
    labelled = [
        (p, Answer(Choice.LEFT if p.left.true_rewards.sum() > p.right.true_rewards.sum()
                   else Choice.RIGHT, annotator="test"))
        for p in pairs
    ]  # fmt: skip
    model.fit(labelled, np.random.default_rng(0))  # a new reward: train() relabels first
    agent.train(100, round_index=1)
    obs, actions, next_obs, after = _stored(agent)
    np.testing.assert_allclose(after, model.predict_rewards(obs, actions, next_obs), atol=1e-6)
    assert not np.allclose(after[:300], before, atol=1e-4)
    assert agent.relabelled == 300
    agent.close()


def test_the_exploration_rate_falls_over_the_whole_run_not_each_round(one_torch_thread) -> None:
    agent = _agent(None, budget=1_000)  # epsilon falls from 1 to 0.05 over 500 steps
    agent.train(100, round_index=0)
    expected = 1.0 - (100 / 500) * (1.0 - SMALL.exploration_final_eps)
    assert agent.model.exploration_rate == pytest.approx(expected, abs=0.01)
    agent.train(100, round_index=1)
    assert agent.model.exploration_rate == pytest.approx(
        1.0 - (200 / 500) * (1.0 - SMALL.exploration_final_eps), abs=0.01
    )
    # control: SB3's own progress (no run budget) is per learn() call, done after round 0
    per_call = _agent(None, budget=None)
    per_call.train(100, round_index=0)
    assert per_call.model.exploration_rate == pytest.approx(SMALL.exploration_final_eps)
    agent.close(), per_call.close()


def test_exploration_keeps_the_q_network_and_the_buffer_is_relabelled(one_torch_thread) -> None:
    class Seven:  # a learned reward that CartPole's true reward (0 or 1) never equals
        def predict_rewards(self, obs, actions, next_obs):
            return np.full(len(obs), 7.0, dtype=np.float32)

    agent = _agent(Seven())
    agent.explore(152, round_index=0)  # whole rollouts of 4 steps
    q_net = {k: v.clone() for k, v in agent.model.q_net.state_dict().items()}
    assert not np.all(_stored(agent)[3] == 7.0)  # the intrinsic rewards are stored first
    agent.train(100, round_index=0)
    rewards = _stored(agent)[3]
    assert len(rewards) == 252
    assert np.all(rewards == 7.0)  # all relabelled; never the env's own reward
    assert agent.relabelled == 152
    now = agent.model.q_net.state_dict()  # the explorer's Q-network went on learning
    assert any(not torch.equal(q_net[k], now[k]) for k in now)
    agent.close()


def test_policy_files_of_dqn_round_trip_and_refuse_other_algorithms(tmp_path: Path) -> None:
    dqn = untrained_dqn(CARTPOLE, seed=0)
    save_policy(dqn, tmp_path / "dqn.pt", env_id=CARTPOLE)
    meta = json.loads((tmp_path / "dqn.json").read_text())
    assert meta["algorithm"] == "DQN"
    assert meta["dqn_settings"] == dqn_settings(CARTPOLE).source
    loaded = policy_model(CARTPOLE, tmp_path / "dqn.pt", seed=1)
    assert type(loaded).__name__ == "RoundsDQN"
    for mine, theirs in zip(dqn.policy.parameters(), loaded.policy.parameters(), strict=True):
        assert torch.equal(mine, theirs)
    save_policy(untrained_ppo(CARTPOLE, seed=0), tmp_path / "ppo.pt", env_id=CARTPOLE)
    with pytest.raises(ConfigError, match="is a PPO policy, not a DQN one"):
        load_policy(dqn, tmp_path / "ppo.pt", env_id=CARTPOLE)
    with pytest.raises(ConfigError, match="is a DQN policy, not a PPO one"):
        load_policy(untrained_ppo(CARTPOLE, seed=0), tmp_path / "dqn.pt", env_id=CARTPOLE)


def test_dqn_is_refused_where_it_cannot_run() -> None:
    with pytest.raises(ConfigError, match=r"--algo dqn needs discrete actions.*Box"):
        TrainConfig(env="hfrl/Pendulum-v0", algo="dqn").validate()
    with pytest.raises(ConfigError, match="--async is for PPO; leave it out with --algo dqn"):
        TrainConfig(env=CARTPOLE, algo="dqn", asynchronous=True, teacher="store").validate()
    assert TrainConfig(env="hfrl/Acrobot-v0", algo="dqn").validate().algo == "dqn"
    assert dqn_settings("hfrl/Acrobot-v0").source.endswith("Acrobot-v1")


HFRL = str(Path(sys.executable).with_name("hfrl"))


@pytest.mark.slow
def test_a_killed_dqn_run_resumes_with_its_buffer_relabelled_by_the_last_model(
    tmp_path: Path,
) -> None:
    run = tmp_path / "run"
    train = [
        "train", "--algo", "dqn", "--env", CARTPOLE, "--steps", "3000", "--rounds", "3",
        "--clip-steps", "10", "--initial-steps", "300", "--eval-episodes", "1", "--ensemble",
        "2", "--labels", "8", "--no-video", "--no-progress", "--out", str(run),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("HFRL_")}
    env |= {"SDL_VIDEODRIVER": "dummy", "OMP_NUM_THREADS": "1"}

    def hfrl(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [HFRL, *args], capture_output=True, text=True, timeout=300, env=env | extra
        )

    killed = hfrl(*train, HFRL_KILL_AT="after_fit@1")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    with np.load(run / "replay_buffer.npz", allow_pickle=False) as data:
        at_kill = {name: data[name] for name in data.files}
    rows = len(at_kill["rewards"])
    assert rows == json.loads((run / "state.json").read_text())["ppo_steps"] > 0
    resumed = hfrl("train", "--resume", str(run), "--no-progress")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    with np.load(run / "replay_buffer.npz", allow_pickle=False) as data:
        final = {name: data[name] for name in data.files}
    assert len(final["rewards"]) > rows
    for name in ("observations", "actions", "next_observations", "dones"):
        np.testing.assert_array_equal(final[name][:rows], at_kill[name], err_msg=name)
    space = make_env(CARTPOLE)
    model = RewardModel.load(
        run / "reward_model",
        env_id=CARTPOLE,
        observation_space=space.observation_space,
        action_space=space.action_space,
        device="cpu",
    )
    learned = model.predict_rewards(
        final["observations"][:, 0], final["actions"][:, 0], final["next_observations"][:, 0]
    )
    np.testing.assert_allclose(final["rewards"][:, 0], learned, atol=1e-5)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["labels_used"] == 8
    assert json.loads((run / "policy.json").read_text())["algorithm"] == "DQN"

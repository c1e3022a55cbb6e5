"""The whole RLHF loop learns CartPole from 100 oracle labels; the constant-reward control does not.

Real components throughout: suite envs, clips, a SQLite store, the oracle teacher, the reward
ensemble, SB3 PPO on the learned reward, evaluation on the true reward (which PPO and the
reward model never see). Seeds are fixed. The control is the same command with a constant
(+1) reward: an implementation that leaked the true reward through episode ends (the reason
the suite has fixed horizons), or that trained PPO on something other than the learned
reward, would lift the control or sink RLHF. The issue's budget is 100 labels and 100k env
steps (docs/BENCHMARKS.md, 5 seeds); the test uses 100 labels and a smaller step budget that
seed 0 clears with room to spare.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from agents.config import TrainConfig
from agents.rlhf_loop import train

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]  # as the bench

STEPS = 100_000


def _run(tmp_path: Path, reward: str, *, labels: int, **fields: object) -> dict:
    """One seed-0 run on the CPU: RLHF with ``labels`` (``reward="learned"``) or a baseline
    without labels; ``fields`` are the rest of its ``TrainConfig``."""
    config = TrainConfig(
        reward=reward,
        labels=labels if reward == "learned" else 0,
        seed=0,
        out=str(tmp_path / reward),
        device="cpu",
        video=False,
        **fields,  # type: ignore[arg-type]
    ).validate()
    return train(config, show_progress=False)


def test_rlhf_balances_cartpole_and_the_constant_control_does_not(tmp_path: Path) -> None:
    cartpole = {"env": "hfrl/CartPole-v0", "teacher": "oracle", "steps": STEPS, "labels": 100}
    rlhf = _run(tmp_path, "learned", **cartpole)
    control = _run(tmp_path, "constant", **cartpole)
    assert rlhf["labels_used"] == 100
    assert rlhf["env_steps"] <= STEPS
    assert rlhf["true_return_mean"] >= 450, rlhf  # of 500; random play scores about 9
    assert control["true_return_mean"] <= 50, control


def test_rlhf_swings_pendulum_up_from_a_teacher_that_makes_mistakes(tmp_path: Path) -> None:
    """B-Pref's mistake teacher flips one answer in ten; the learned reward still swings the
    pendulum up (PPO on the true reward: about -135 at this seed and budget; random play and
    the constant control: about -1,200 to -1,600)."""

    pendulum = {"env": "hfrl/Pendulum-v0", "teacher": "mistake", "steps": 50_000}
    run = functools.partial(_run, tmp_path, labels=200, **pendulum)
    rlhf, control = run("learned"), run("constant")
    assert rlhf["labels_used"] == 200
    assert rlhf["true_return_mean"] >= -300, rlhf
    assert control["true_return_mean"] <= -900, control


def test_dqn_learns_cartpole_from_preferences_and_its_constant_control_does_not(
    tmp_path: Path,
) -> None:
    """Off-policy RLHF for discrete actions: DQN on the learned reward, its replay buffer
    relabelled after every refit. 50 oracle labels and 30k env steps (seed 0: about 415 of
    500). The constant (+1) control stays low (about 70; +1 per step in episodes truncated
    after the crash still pays for surviving, so it is not at random play's 9)."""

    cartpole = {"env": "hfrl/CartPole-v0", "algo": "dqn", "teacher": "oracle", "steps": 30_000}
    run = functools.partial(_run, tmp_path, labels=50, **cartpole)
    rlhf, control = run("learned"), run("constant")
    assert rlhf["labels_used"] == 50
    assert rlhf["true_return_mean"] >= 350, rlhf
    assert control["true_return_mean"] <= 150, control

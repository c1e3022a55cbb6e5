"""``hfrl train --refit bounded``: the loop's refits after the first are bounded warm refits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.config import TrainConfig
from agents.rlhf_loop import train
from hfrl_gym.errors import ConfigError
from hfrl_gym.reward_model import RewardModel

pytestmark = pytest.mark.slow  # two real (tiny) runs


def _run(out: Path, refit: str) -> RewardModel:
    config = TrainConfig(
        env="hfrl/CartPole-v0",
        labels=60,
        steps=3_000,
        rounds=3,
        label_decay=1.0,
        initial_steps=600,
        clip_steps=10,
        ensemble=2,
        eval_episodes=1,
        seed=1,
        out=str(out),
        device="cpu",
        video=False,
        refit=refit,
    ).validate()
    train(config, show_progress=False)
    assert json.loads((out / "config.json").read_text())["refit"] == refit
    return RewardModel.load(out / "reward_model", device="cpu")


def test_bounded_refits_take_fewer_steps_than_full_ones(
    tmp_path: Path, one_torch_thread: None
) -> None:
    bounded = _run(tmp_path / "bounded", "bounded")
    full = _run(tmp_path / "full", "full")  # control: the same run with full refits
    assert bounded.num_fits == full.num_fits == 3
    assert bounded.last_fit.num_pairs == full.last_fit.num_pairs == 60
    # 20 new answers: RefitBudget's floor of 40 steps; a full refit of 60 answers runs
    # epochs of 1 step each until 10 pass without improving.
    assert bounded.last_fit.gradient_steps == 40
    assert full.last_fit.gradient_steps != 40


def test_an_unknown_refit_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="--refit must be one of full, bounded, got 'warm'"):
        TrainConfig(refit="warm").validate()

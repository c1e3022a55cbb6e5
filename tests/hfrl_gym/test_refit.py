"""Tests for hfrl_gym.reward_model.refit: bounded warm refits (``hfrl train --refit bounded``).

Clips are CartPole's scripted controller acting at random with chances from 0 to 1, so
their true returns vary; labels come from the oracle teacher.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from agents.bc import record_demonstrations
from agents.diagnostics import spearman
from agents.reward_fitter import RewardFitter, fit_config, new_reward_model
from hfrl_gym.answers import Answer
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.envs import make_env
from hfrl_gym.errors import ConfigError
from hfrl_gym.queries import uniform_pairs
from hfrl_gym.reward_model import FitConfig, RefitBudget, RewardModel
from hfrl_gym.teachers import make_teacher

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ENV_ID = "hfrl/CartPole-v0"
BOUNDED = FitConfig(budget=RefitBudget(new_pair_epochs=10, min_steps=10, max_steps=40))
Labelled = list[tuple[ClipPair, Answer]]


def _clips(num_clips: int, seed: int) -> list[Clip]:
    clips: list[Clip] = []
    for k, chance in enumerate((0.0, 0.3, 0.6, 1.0)):
        clips += record_demonstrations(
            ENV_ID,
            num_clips=num_clips // 4,
            clip_num_steps=20,
            seed=seed + 100 * k,
            random_action_prob=chance,
        )
    return clips


@pytest.fixture(scope="module")
def data() -> tuple[Labelled, list[Clip]]:
    pool, fresh = _clips(200, seed=0), _clips(120, seed=50)
    rng = np.random.default_rng(1)
    pairs = [ClipPair(pool[i], pool[j]) for i, j in uniform_pairs(pool, 400, rng)]
    answers = make_teacher("oracle", rng=rng).label(pairs)
    return list(zip(pairs, answers, strict=True)), fresh


def _model(seed: int = 0) -> RewardModel:
    return new_reward_model(ENV_ID, make_env(ENV_ID), num_members=2, device="cpu", seed=seed)


def _quality(model: RewardModel, fresh: list[Clip]) -> float:
    true = np.array([clip.true_rewards.sum() for clip in fresh])
    return spearman(model.clip_returns(fresh), true)


def test_a_bounded_refit_takes_steps_in_proportion_to_the_new_answers(data) -> None:
    labelled, _ = data
    model, rng = _model(), np.random.default_rng(0)
    first = model.fit(labelled[:100], rng, BOUNDED)  # the first fit is a full one
    assert first.epochs_run > 1
    budget = BOUNDED.budget
    steps = []
    for count in (140, 340, 400):
        report = model.fit(labelled[:count], rng, BOUNDED)
        assert report.num_pairs == count
        steps.append(report.gradient_steps)
    # New training pairs: about 80% of 40, 200 and 60 new answers.
    assert budget.min_steps <= steps[0] <= budget.num_steps(40, batch_size=64)
    assert steps[1] == budget.max_steps  # 200 new answers hit the cap
    assert budget.min_steps < steps[2] < steps[1]
    # Control: a full refit on the same 400 answers takes far more steps.
    full = copy.deepcopy(model).fit(labelled, np.random.default_rng(0), FitConfig())
    assert full.gradient_steps > 3 * steps[2]


def test_bounded_refits_rank_fresh_clips_as_well_as_full_refits(data) -> None:
    labelled, fresh = data
    results = {}
    for name, config in (("bounded", BOUNDED), ("full", FitConfig())):
        model, rng = _model(), np.random.default_rng(0)
        for count in (10, 40, 120, 240, 400):
            model.fit(labelled[:count], rng, config)
        results[name] = _quality(model, fresh)
    first = _model()
    first.fit(labelled[:10], np.random.default_rng(0))
    results["first 10 answers"] = _quality(first, fresh)
    assert results["bounded"] >= 0.8, results
    assert results["bounded"] >= results["full"] - 0.05, results
    # Control: the refits learned from the new answers; the first fit alone ranks poorly.
    assert results["first 10 answers"] < 0.5, results


def test_a_refit_of_a_saved_model_equals_the_refit_in_memory(data, tmp_path: Path) -> None:
    labelled, _ = data
    model = _model()
    model.fit(labelled[:100], np.random.default_rng(0), BOUNDED)
    model.save(tmp_path / "reward")
    loaded = RewardModel.load(tmp_path / "reward", device="cpu")
    report = model.fit(labelled[:180], np.random.default_rng(5), BOUNDED)
    again = loaded.fit(labelled[:180], np.random.default_rng(5), BOUNDED)
    assert report.gradient_steps == again.gradient_steps < 100  # a bounded refit, both
    for kept, other in zip(model.net.parameters(), loaded.net.parameters(), strict=True):
        assert np.array_equal(kept.detach().numpy(), other.detach().numpy())
    assert report.val_loss == again.val_loss
    assert model.reward_scale == loaded.reward_scale


def test_a_checkpoint_from_before_gradient_steps_still_loads(data, tmp_path: Path) -> None:
    labelled, _ = data
    model = _model()
    model.fit(labelled[:30], np.random.default_rng(0))
    folder = model.save(tmp_path / "reward")
    meta_path = folder / "meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["fit_report"]["gradient_steps"]
    meta_path.write_text(json.dumps(meta))
    loaded = RewardModel.load(folder, device="cpu")
    assert loaded.last_fit is not None
    assert loaded.last_fit.gradient_steps is None
    report = loaded.fit(labelled[:60], np.random.default_rng(0), BOUNDED)
    assert report.gradient_steps is not None


def test_the_fitter_uses_the_runs_refit_choice(data) -> None:
    labelled, _ = data
    fitter = RewardFitter(_model(), np.random.default_rng(0), fitted=False, config=BOUNDED)
    fitter.fit_pairs(labelled[:100])
    report = fitter.fit_pairs(labelled[:120])
    assert report.gradient_steps <= BOUNDED.budget.max_steps
    with pytest.raises(ConfigError, match="--refit must be one of full, bounded"):
        fit_config("warm")

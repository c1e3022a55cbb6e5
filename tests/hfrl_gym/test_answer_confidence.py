"""An optional confidence with each answer: validation, soft targets, the fit, teachers.

``tests/data/legacy/fit_v1.json`` holds what :func:`legacy_fit` gave when run by the code of
commit 860b068, before answers had a confidence: the answers of the old export
(``tests/data/legacy/export_v1``, no confidence) must fit exactly as they did.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch

from hfrl_gym.answers import Answer, Choice, Confidence
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.envs import make_env
from hfrl_gym.errors import ConfigError
from hfrl_gym.reward_model import RewardModel
from hfrl_gym.reward_model.bradley_terry import bradley_terry_loss
from hfrl_gym.reward_model.trainer import FitConfig
from hfrl_gym.store import LabelStore
from hfrl_gym.store_io import import_store
from hfrl_gym.teachers import ScriptedTeacher, make_teacher
from tests.conftest import make_clip

LEGACY = Path(__file__).parents[1] / "data" / "legacy"
ENV_ID = "hfrl/CartPole-v0"


def new_model(seed: int = 0) -> RewardModel:
    env = make_env(ENV_ID)
    return RewardModel(
        env.observation_space,
        env.action_space,
        env_id=ENV_ID,
        num_members=2,
        hidden_sizes=(8,),
        device="cpu",
        seed=seed,
    )


def legacy_fit() -> tuple[list[float | None], float, np.ndarray]:
    """Targets, training loss and member clip returns of a small fit on the old export."""
    with tempfile.TemporaryDirectory() as folder, LabelStore(Path(folder) / "s.sqlite") as store:
        import_store(store, LEGACY / "export_v1")
        labelled = store.labelled_pairs()
        model = new_model()
        config = FitConfig(max_epochs=5, val_fraction=0.0)
        report = model.fit(labelled, np.random.default_rng(0), config)
        returns = model.member_clip_returns(store.get_clips(store.clip_uids()))
    return [answer.target for _, answer in labelled], report.train_loss, returns


@pytest.mark.parametrize(
    ("choice", "confidence", "target"),
    [
        ("left", None, 1.0),
        ("left", "much", 1.0),
        ("left", "slightly", 0.75),
        ("right", None, 0.0),
        ("right", Confidence.MUCH, 0.0),
        ("right", Confidence.SLIGHTLY, 0.25),
        ("equal", None, 0.5),
        ("skip", None, None),
    ],
)
def test_targets_soften_only_for_slightly(
    choice: str, confidence: str | None, target: float | None
) -> None:
    answer = Answer(Choice(choice), annotator="ana", confidence=confidence)
    assert answer.target == target
    assert answer.confidence is (None if confidence is None else Confidence(confidence))
    assert answer.decided is (choice in ("left", "right"))


@pytest.mark.parametrize(
    ("choice", "confidence", "message"),
    [
        (
            "left",
            "very",
            r"confidence must be 'much', 'slightly' or None \(not given\), got 'very'",
        ),
        ("left", "", r"confidence must be .* got ''"),
        ("right", 1, r"confidence must be .* got 1$"),
        ("right", True, r"confidence must be .* got True"),
        ("equal", "much", r"only a 'left' or 'right' answer has a confidence, got 'much' on a "),
        ("skip", "slightly", r"on a 'skip' answer; give None"),
    ],
)
def test_bad_confidences_are_refused_with_one_clear_error(
    choice: str, confidence: object, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        Answer(Choice(choice), confidence=confidence)  # type: ignore[arg-type]
    assert "\n" not in str(refused.value)


def test_answers_without_a_confidence_fit_exactly_as_before(one_torch_thread: None) -> None:
    golden = json.loads((LEGACY / "fit_v1.json").read_text())
    targets, train_loss, returns = legacy_fit()
    assert targets == golden["targets"] == [1.0, None, 0.0, 0.5]
    assert train_loss == pytest.approx(golden["train_loss"], abs=1e-5)
    np.testing.assert_allclose(returns, golden["member_clip_returns"], atol=1e-4)


def fit_one_pair(pair: ClipPair, answer: Answer, epochs: int = 60) -> float:
    """The ensemble-mean ``R_left - R_right`` after fitting a fresh model on one answer."""
    model = new_model(seed=1)
    config = FitConfig(max_epochs=epochs, val_fraction=0.0, bootstrap=False)
    model.fit([(pair, answer)], np.random.default_rng(0), config)
    return float(model.member_pair_logits([pair]).mean())


def a_pair(rng: np.random.Generator) -> ClipPair:
    return ClipPair(make_clip(rng, num_steps=8), make_clip(rng, num_steps=8))


def test_slightly_moves_the_model_less_than_much(
    rng: np.random.Generator, one_torch_thread: None
) -> None:
    pair = a_pair(rng)
    before = float(new_model(seed=1).member_pair_logits([pair]).mean())
    gaps = {
        confidence: fit_one_pair(pair, Answer(Choice.LEFT, confidence=confidence))
        for confidence in (None, Confidence.MUCH, Confidence.SLIGHTLY)
    }
    assert gaps[None] == gaps[Confidence.MUCH]  # a plain answer is as sure as "much"
    assert before < gaps[Confidence.SLIGHTLY] < gaps[Confidence.MUCH]
    right = {
        confidence: fit_one_pair(pair, Answer(Choice.RIGHT, confidence=confidence))
        for confidence in (Confidence.MUCH, Confidence.SLIGHTLY)
    }
    assert right[Confidence.MUCH] < right[Confidence.SLIGHTLY] < before


def test_a_slightly_target_pulls_a_wide_gap_back_and_a_sure_one_never_does() -> None:
    gaps = torch.tensor([[0.0, 1.0, 5.0]], requires_grad=True)
    for target, signs in ((0.75, [-1, -1, 1]), (1.0, [-1, -1, -1])):
        gaps.grad = None
        loss = bradley_terry_loss(gaps, torch.full((3,), target), random_answer_prob=0.1)
        loss.sum().backward()
        assert gaps.grad is not None
        assert torch.sign(gaps.grad[0]).tolist() == signs  # descent moves the gap by -grad
    # the loss of "slightly" is smallest where the model says P(left) = 0.75:
    # 0.05 + 0.9 * sigmoid(gap) = 0.75
    best = math.log((0.75 - 0.05) / (0.95 - 0.75))
    grid = torch.linspace(0.0, 4.0, 4001).reshape(1, -1)
    losses = bradley_terry_loss(grid.T, torch.tensor([0.75]), random_answer_prob=0.1)
    assert float(grid[0, int(losses.argmin())]) == pytest.approx(best, abs=2e-3)


def test_pair_accuracy_counts_answers_of_any_confidence(rng: np.random.Generator) -> None:
    model = new_model()
    pairs = [a_pair(rng) for _ in range(6)]
    logits = model.member_pair_logits(pairs).mean(axis=0)
    agree = [Choice.LEFT if logit > 0 else Choice.RIGHT for logit in logits]
    labelled = [
        (pair, Answer(choice, confidence=confidence))
        for pair, choice, confidence in zip(
            pairs, agree, [None, "much", "slightly"] * 2, strict=True
        )
    ]
    assert model.pair_accuracy(labelled) == 1.0
    flipped = [
        (
            pair,
            Answer(Choice.RIGHT if a.choice is Choice.LEFT else Choice.LEFT, confidence="slightly"),
        )
        for pair, a in labelled
    ]
    assert model.pair_accuracy(flipped) == 0.0


def teacher_pairs(differences: Sequence[float]) -> list[ClipPair]:
    def clip(total: float) -> Clip:
        rewards = np.full(4, total / 4)
        return Clip(
            "test/Synthetic-v0",
            np.zeros((5, 2), np.float32),
            np.zeros(4, np.int64),
            rewards,
            states=np.zeros((5, 2)),
        )

    return [ClipPair(clip(1.0 + d), clip(1.0)) for d in differences]


def test_scripted_teachers_give_no_confidence_by_default() -> None:
    pairs = teacher_pairs([3.0, -0.5, 0.0, 1.0])
    plain = ScriptedTeacher(rng=np.random.default_rng(0)).label(pairs)
    assert [a.confidence for a in plain] == [None] * 4
    assert [a.choice for a in plain] == [Choice.LEFT, Choice.RIGHT, Choice.EQUAL, Choice.LEFT]


def test_scripted_teachers_give_a_confidence_from_the_return_gap() -> None:
    differences = [3.0, -0.5, 0.0, 1.0, -2.5, 0.2]
    pairs = teacher_pairs(differences)
    teacher = ScriptedTeacher(rng=np.random.default_rng(0), much_better_gap=1.0)
    answers = teacher.label(pairs)
    assert [(a.choice, a.confidence) for a in answers] == [
        (Choice.LEFT, Confidence.MUCH),
        (Choice.RIGHT, Confidence.SLIGHTLY),
        (Choice.EQUAL, None),
        (Choice.LEFT, Confidence.MUCH),  # a gap of exactly 1.0 is "much"
        (Choice.RIGHT, Confidence.MUCH),
        (Choice.LEFT, Confidence.SLIGHTLY),
    ]
    noisy = [
        make_teacher("noisy", rng=np.random.default_rng(seed), much_better_gap=gap)
        for seed, gap in ((5, None), (5, 1.0))
    ]
    without, with_gap = (teacher.label(pairs * 20) for teacher in noisy)
    assert [a.choice for a in without] == [a.choice for a in with_gap]  # same draws, same choices
    assert {a.confidence for a in with_gap if a.decided} == {Confidence.MUCH, Confidence.SLIGHTLY}


@pytest.mark.parametrize("gap", [-1.0, math.inf, math.nan])
def test_a_bad_much_better_gap_is_refused(gap: float) -> None:
    with pytest.raises(ConfigError, match="much_better_gap must be finite and >= 0"):
        ScriptedTeacher(rng=np.random.default_rng(0), much_better_gap=gap)

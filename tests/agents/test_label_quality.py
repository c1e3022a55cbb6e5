"""Label quality: synthetic annotators of known beta, bias and consistency are measured so."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from agents.label_quality import AnnotatorQuality, assess_label_quality, fit_boltzmann
from agents.label_quality_figures import write_label_quality_figures
from hfrl_gym.answers import Answer, Choice
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.errors import ConfigError
from hfrl_gym.queries import uniform_pairs
from hfrl_gym.recording import record_random_clips
from hfrl_gym.store import LabelStore
from hfrl_gym.teachers import ScriptedTeacher

PENDULUM = "hfrl/Pendulum-v0"


class LeftLeaning:
    """Boltzmann-noisy, but answers ``left`` outright on a share of the pairs."""

    def __init__(self, beta: float, left_share: float, seed: int, name: str) -> None:
        self.teacher = ScriptedTeacher(beta=beta, rng=np.random.default_rng(seed), name=name)
        self.left_share, self.rng, self.name = left_share, np.random.default_rng(seed + 1), name

    def label(self, pairs: Sequence[ClipPair]) -> list[Answer]:
        answers = self.teacher.label(pairs)
        return [
            Answer(Choice.LEFT, self.name) if self.rng.random() < self.left_share else answer
            for answer in answers
        ]


class Contrarian:
    """Always prefers the clip with the lower return."""

    def __init__(self, name: str) -> None:
        self.name = name

    def label(self, pairs: Sequence[ClipPair]) -> list[Answer]:
        return [
            Answer(
                Choice.RIGHT if p.left.true_return > p.right.true_return else Choice.LEFT, self.name
            )
            for p in pairs
        ]


class CoinFlipper:
    """Answers left or right at random."""

    def __init__(self, seed: int, name: str) -> None:
        self.rng, self.name = np.random.default_rng(seed), name

    def label(self, pairs: Sequence[ClipPair]) -> list[Answer]:
        return [Answer(self.rng.choice([Choice.LEFT, Choice.RIGHT]), self.name) for _ in pairs]


@pytest.fixture(scope="module")
def clips() -> list[Clip]:
    return record_random_clips(PENDULUM, num_clips=80, clip_num_steps=20, seed=0)


def _store(path: Path, clips: list[Clip], annotators: dict, *, num_pairs: int, repeats: int):
    """A store where every annotator answers the same pairs; the first pairs come back swapped."""
    rng = np.random.default_rng(0)
    store = LabelStore(path)
    store.add_clips(clips)
    uids = [(clips[i].uid, clips[j].uid) for i, j in uniform_pairs(clips, num_pairs, rng)]
    ids = store.add_queries(uids + [(b, a) for a, b in uids[:repeats]])
    pairs = [store.pair(qid) for qid in ids]
    times = np.random.default_rng(1)
    for name, annotator in annotators.items():
        for qid, answer in zip(ids, annotator.label(pairs), strict=True):
            store.add_answer(qid, Answer(answer.choice, name, float(times.uniform(1, 5))))
    return store


def _by_name(qualities: list[AnnotatorQuality]) -> dict[str, AnnotatorQuality]:
    return {quality.annotator: quality for quality in qualities}


@pytest.mark.parametrize("beta", [0.03, 0.1])
def test_beta_of_a_boltzmann_annotator_is_recovered(
    tmp_path: Path, clips: list[Clip], beta: float
) -> None:
    person = ScriptedTeacher(beta=beta, rng=np.random.default_rng(3), name="ana")
    with _store(tmp_path / "s.db", clips, {"ana": person}, num_pairs=400, repeats=0) as store:
        (quality,) = assess_label_quality(store, presets=("oracle",))
    assert quality.fit.num_answers == 400
    assert abs(quality.fit.beta - beta) < 0.3 * beta
    assert abs(quality.fit.beta - beta) < 3 * quality.fit.beta_se
    assert not quality.fit.left_bias_detected


def test_boltzmann_fit_extremes() -> None:
    differences = np.array([-3.0, -1.0, 2.0, 5.0])
    assert fit_boltzmann(differences, (differences > 0).astype(float)).beta == math.inf
    assert fit_boltzmann(differences, (differences < 0).astype(float)).beta == -math.inf
    assert math.isnan(fit_boltzmann(np.zeros(3), np.ones(3)).beta)
    assert fit_boltzmann(np.array([]), np.array([])).num_answers == 0
    with pytest.raises(ConfigError, match="one answer per"):
        fit_boltzmann(np.zeros(3), np.zeros(2))


def test_every_measure_tells_the_annotators_apart(tmp_path: Path, clips: list[Clip]) -> None:
    annotators = {
        "oracle": ScriptedTeacher(rng=np.random.default_rng(0), name="oracle"),
        "careful": ScriptedTeacher(beta=0.1, rng=np.random.default_rng(1), name="careful"),
        "lefty": LeftLeaning(beta=0.1, left_share=0.4, seed=2, name="lefty"),
        "coin": CoinFlipper(seed=4, name="coin"),
        "contrarian": Contrarian("contrarian"),
    }
    with _store(tmp_path / "s.db", clips, annotators, num_pairs=200, repeats=40) as store:
        result = _by_name(assess_label_quality(store))
    oracle, careful, lefty = result["oracle"], result["careful"], result["lefty"]
    coin, contrarian = result["coin"], result["contrarian"]
    # beta: infinite for the oracle, about 0 for the coin, negative for the contrarian.
    assert oracle.fit.beta == math.inf
    assert abs(coin.fit.beta) < 2 * coin.fit.beta_se
    assert contrarian.fit.beta == -math.inf
    # Left bias: found in the left-leaning annotator only.
    assert lefty.fit.left_bias_detected
    assert lefty.fit.bias > 0
    assert lefty.left_share > lefty.expected_left_share + 0.15
    assert not careful.fit.left_bias_detected
    assert not oracle.fit.left_bias_detected
    # Self-consistency on the 40 swapped repeats.
    assert oracle.num_repeats == 40
    assert oracle.self_consistency == 1.0
    assert 0.25 < coin.self_consistency < 0.75
    assert contrarian.self_consistency == 1.0  # consistent, and consistently wrong
    # Agreement with the scripted presets (same pairs) and with the others' majority.
    assert oracle.teacher_agreement["oracle"] == 1.0
    assert contrarian.teacher_agreement["oracle"] == 0.0
    assert careful.teacher_agreement["oracle"] > 0.8
    assert contrarian.majority_agreement < 0.1
    assert 0.3 < coin.majority_agreement < 0.7
    assert min(oracle.majority_agreement, careful.majority_agreement) > 0.55
    assert 0 < oracle.num_majority < 240  # pairs where the others split evenly are left out
    # Response times are the stored seconds; choices are counted.
    assert oracle.seconds.shape == (240,)
    assert 1 <= oracle.seconds.min() <= oracle.seconds.max() <= 5
    assert sum(coin.choices.values()) == 240
    assert coin.choices["equal"] == coin.choices["skip"] == 0


def test_changed_answers_count_once_and_skips_are_left_out(tmp_path: Path, clips: list[Clip]):
    with LabelStore(tmp_path / "s.db") as store:
        store.add_clips(clips[:4])
        first, second = store.add_queries(
            [(clips[0].uid, clips[1].uid), (clips[2].uid, clips[3].uid)]
        )
        store.add_answer(first, Answer(Choice.LEFT, "ana", 2.0))
        store.add_answer(first, Answer(Choice.RIGHT, "ana", 3.0))  # changed her mind
        store.add_answer(second, Answer(Choice.SKIP, "ana", 1.0))
        (quality,) = assess_label_quality(store, presets=("oracle",))
    assert quality.num_answers == 2
    assert quality.choices == {"left": 0, "right": 1, "equal": 0, "skip": 1}
    assert quality.fit.num_answers == 1
    assert quality.majority_agreement is None
    assert quality.self_consistency is None


def test_figures_are_written(tmp_path: Path, clips: list[Clip]) -> None:
    annotators = {
        "careful": ScriptedTeacher(beta=0.1, rng=np.random.default_rng(1), name="careful"),
        "lefty": LeftLeaning(beta=0.1, left_share=0.4, seed=2, name="lefty"),
    }
    with _store(tmp_path / "s.db", clips, annotators, num_pairs=40, repeats=5) as store:
        qualities = assess_label_quality(store)
    paths = write_label_quality_figures(qualities, tmp_path / "figures")
    assert [p.name for p in paths] == [
        "agreement.png",
        "consistency.png",
        "response_times.png",
        "left_bias.png",
        "beta.png",
        "label_quality.png",
    ]
    for path in paths:
        image = imread(path)
        assert image.shape[0] > 300
        assert image[..., :3].std() > 0.02, f"{path.name} is blank"


def test_a_store_without_answers_is_refused(tmp_path: Path, clips: list[Clip]) -> None:
    with LabelStore(tmp_path / "s.db") as store:
        store.add_clips(clips[:2])
        with pytest.raises(ConfigError, match="no answers"):
            assess_label_quality(store)

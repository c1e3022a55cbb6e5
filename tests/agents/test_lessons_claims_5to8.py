"""Lessons 5 to 8: their claims are checked on what a run did, and their listed defects stay
fixed (stored labels valid only for their settings, one baseline in lesson 8, no empty or
self-comparing label-quality panels, a control in lesson 5)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from agents.label_quality import assess_label_quality
from agents.label_quality_figures import _plot_agreement, write_label_quality_figures
from agents.lessons import (
    find_lesson,
    new_behaviour,
    noisy_people,
    pipeline,
    reward_hacking,
    run_lesson,
)
from agents.lessons.claims import read_claims
from agents.lessons.common import lesson_labels
from hfrl_gym.answers import Answer, Choice
from hfrl_gym.clips import ClipPair
from hfrl_gym.envs import get_goal
from hfrl_gym.errors import ConfigError
from hfrl_gym.recording import record_random_clips
from hfrl_gym.store import LabelStore
from hfrl_gym.teachers import make_teacher

DOC = Path(__file__).resolve().parents[2] / "docs" / "TEACHING.md"
LESSONS = {5: noisy_people, 6: reward_hacking, 7: new_behaviour, 8: pipeline}


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _quick(name: str, out: Path, *extra: str) -> list[Path]:
    return run_lesson(find_lesson(name), ["--quick", "--out", str(out), *extra])


# -- the claims are the doc's, and each is decided by the numbers -----------------------------


@pytest.mark.parametrize("number", sorted(LESSONS))
def test_each_claim_is_written_in_teaching_md_in_the_same_words(number: int) -> None:
    doc = " ".join(DOC.read_text("utf-8").split())
    section = doc[doc.index(f"### Lesson {number}:") :]
    section = section[: section.index("###", 4)] if "###" in section[4:] else section
    claims = LESSONS[number].CLAIMS
    assert len({claim.key for claim in claims}) == len(claims) >= 2
    for claim in claims:
        assert f"- {claim.text}" in section, claim.text


def test_lesson_5_claims_follow_the_ladder_of_noise() -> None:
    labels = {"oracle": 1.0, "mistake": 0.9, "careless": 0.7}
    rewards = {"oracle": 0.93, "mistake": 0.9, "careless": 0.8}
    spin = {"oracle": 170.0, noisy_people.CONTROL: 60.0}
    assert [c.held for c in noisy_people.check_claims(labels, rewards, spin)] == [True] * 3
    rewards["mistake"] = 0.95  # the mistake teacher's model beat the oracle's
    spin[noisy_people.CONTROL] = 130.0  # within 50 of the oracle's agent
    checked = noisy_people.check_claims(labels, rewards, spin)
    assert [c.held for c in checked] == [True, False, False]
    assert "mistake 0.95" in checked[1].evidence
    assert "control 130" in checked[2].evidence


def test_lesson_5_label_accuracy_counts_what_agrees_with_the_truth() -> None:
    clips = record_random_clips(noisy_people.ENV, num_clips=12, clip_num_steps=10, seed=3)
    goal = get_goal(noisy_people.ENV, noisy_people.GOAL)
    pairs = [ClipPair(a, b) for a, b in zip(clips[::2], clips[1::2], strict=True)]
    truth = make_teacher("oracle", goal=goal, rng=np.random.default_rng(0)).label(pairs)
    assert noisy_people.label_accuracy(list(zip(pairs, truth, strict=True))) == 1.0
    flipped = [Answer(Choice.RIGHT if a.choice is Choice.LEFT else Choice.LEFT, "x") for a in truth]
    assert noisy_people.label_accuracy(list(zip(pairs, flipped, strict=True))) == 0.0
    skips = [Answer(Choice.SKIP, "x") for _ in pairs]
    with_skips = [*zip(pairs, truth, strict=True), *zip(pairs, skips, strict=True)]
    assert noisy_people.label_accuracy(with_skips) == 1.0


def test_lesson_6_claims_need_both_curves_to_part() -> None:
    held = reward_hacking.check_claims(np.array([10.0, 900.0]), np.array([300.0, 40.0]))
    assert [c.held for c in held] == [True, True]
    assert held[1].evidence == "true return 300 -> 40"
    rose = reward_hacking.check_claims(np.array([10.0, 900.0]), np.array([300.0, 480.0]))
    assert [c.held for c in rose] == [True, False]
    slight = reward_hacking.check_claims(np.array([10.0, 5.0]), np.array([300.0, 260.0]))
    assert [c.held for c in slight] == [False, False]  # a fall under 50 steps is noise


def test_lesson_7_claims_compare_with_the_start_and_the_control() -> None:
    taught, control = np.array([40.0, 120.0, 175.0]), np.array([40.0, 50.0, 45.0])
    assert [c.held for c in new_behaviour.check_claims(taught, control)] == [True, True]
    assert [c.held for c in new_behaviour.check_claims(taught, control + 100)] == [True, False]
    assert [c.held for c in new_behaviour.check_claims(taught - [0, 0, 100], control)] == [
        False,
        False,
    ]


def test_lesson_8_claims_need_the_trade_off_on_both_measures() -> None:
    sweep = {0.0: (0.09, 3000.0), 1.0: (0.05, 2000.0), 3.0: (0.02, 900.0), 10.0: (0.001, 20.0)}
    assert [c.held for c in pipeline.check_claims(sweep)] == [True, True, True]
    sweep[1.0] = (0.05, 3100.0)  # beta 1 gained more learned return than beta 0
    assert [c.held for c in pipeline.check_claims(sweep)] == [False, True, False]
    sweep = {0.0: (0.09, 3000.0), 3.0: (0.02, 900.0), 10.0: (0.02, 20.0)}
    assert [c.held for c in pipeline.check_claims(sweep)] == [True, False, False]
    no_middle = pipeline.check_claims({0.0: (0.09, 3000.0), 10.0: (0.001, 20.0)})
    assert not any(c.held for c in no_middle)
    assert "no middle beta" in no_middle[0].evidence


# -- stored labels are valid only for the settings that made them ----------------------------


def _fill(num: int):
    def fill(store: LabelStore) -> None:
        clips = record_random_clips("hfrl/CartPole-v0", num_clips=2 * num, clip_num_steps=5, seed=0)
        store.add_clips(clips)
        halves = zip(clips[::2], clips[1::2], strict=True)
        ids = store.add_queries([(a.uid, b.uid) for a, b in halves])
        for query_id in ids:
            store.add_answer(query_id, Answer(Choice.LEFT, "oracle"))

    return fill


def test_stored_labels_are_made_again_for_other_settings(tmp_path: Path, capsys) -> None:
    first = lesson_labels(tmp_path, _fill(3), goal="task", settings={"seed": 0, "labels": 3})
    again = lesson_labels(tmp_path, _fill(9), goal="task", settings={"seed": 0, "labels": 3})
    assert len(first) == len(again) == 3  # the same settings: the store is reused
    assert "using the labels already" in capsys.readouterr().out
    other = lesson_labels(tmp_path, _fill(5), goal="task", settings={"seed": 0, "labels": 5})
    assert len(other) == 5
    assert "made with --labels 3 --seed 0; making new ones for --labels 5 --seed 0" in (
        capsys.readouterr().out
    )
    with LabelStore(tmp_path / "labels.sqlite", create=False) as store:
        assert store.counts()["queries"] == 5
    assert not list(tmp_path.glob(".labels.*"))


def test_a_store_the_lesson_did_not_make_is_refused_not_overwritten(tmp_path: Path) -> None:
    lesson_labels(tmp_path, _fill(4), goal="task")  # a person's store: no settings recorded
    with pytest.raises(ConfigError, match=r"did not make.*--labels 2.*another --out"):
        lesson_labels(tmp_path, _fill(2), goal="task", settings={"labels": 2})
    with LabelStore(tmp_path / "labels.sqlite", create=False) as store:
        assert store.counts()["answers"] == 4


def test_a_store_cut_short_is_made_again(tmp_path: Path) -> None:
    def crash(store: LabelStore) -> None:
        _fill(2)(store)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        lesson_labels(tmp_path, crash, goal="task", settings={"labels": 4})
    assert len(lesson_labels(tmp_path, _fill(4), goal="task", settings={"labels": 4})) == 4


def test_lesson_6_labels_follow_labels_and_seed(tmp_path: Path) -> None:
    out = tmp_path / "hacking"
    _quick("reward-hacking", out, "--labels", "4", "--steps", "256")
    with LabelStore(out / "labels.sqlite", create=False) as store:
        assert store.counts()["answers"] == 4
    _quick("reward-hacking", out, "--labels", "3", "--steps", "256", "--seed", "1")
    with LabelStore(out / "labels.sqlite", create=False) as store:
        assert store.counts()["answers"] == 3  # not the stored 4: --labels was not ignored
    lesson, seed, quick, checked = read_claims(out / "claims.json")
    assert (lesson, seed, quick) == ("reward-hacking", 1, True)
    assert [c.key for c in checked] == [c.key for c in reward_hacking.CLAIMS]


# -- lesson 5: the figures and the intro say what the lesson runs ----------------------------


def test_scripted_teachers_get_no_response_times_and_no_bar_against_themselves(
    tmp_path: Path,
) -> None:
    clips = record_random_clips("hfrl/Pendulum-v0", num_clips=10, clip_num_steps=10, seed=0)
    with LabelStore(tmp_path / "s.sqlite") as store:
        store.add_clips(clips)
        halves = zip(clips[::2], clips[1::2], strict=True)
        ids = store.add_queries([(a.uid, b.uid) for a, b in halves])
        pairs = [store.pair(query_id) for query_id in ids]
        for name in ("oracle", "mistake"):
            teacher = make_teacher(name, rng=np.random.default_rng(0))
            for query_id, answer in zip(ids, teacher.label(pairs), strict=True):
                store.add_answer(query_id, answer)
        qualities = assess_label_quality(store, presets=("oracle", "mistake"))
    names = [path.name for path in write_label_quality_figures(qualities, tmp_path / "q")]
    assert "response_times.png" not in names
    assert names[-1] == "label_quality.png"
    fig, ax = plt.subplots()
    _plot_agreement(ax, qualities)  # columns: majority, teacher 'mistake', teacher 'oracle'
    heights = [[bar.get_height() for bar in bars] for bars in ax.containers]
    plt.close(fig)
    by_annotator = [q.annotator for q in qualities]  # mistake, oracle
    assert np.isnan(heights[1][by_annotator.index("mistake")])
    assert np.isnan(heights[2][by_annotator.index("oracle")])
    assert heights[2][by_annotator.index("mistake")] > 0  # others are still compared


def test_lesson_5_runs_the_teachers_it_names_with_a_control(tmp_path: Path, capsys) -> None:
    out = tmp_path / "noisy"
    paths = _quick("noisy-people", out)
    printed = capsys.readouterr().out
    assert [p.name for p in paths][:1] == ["noisy_people.png"]
    assert "response_times.png" not in [p.name for p in paths]
    for name in noisy_people.TEACHERS:
        assert f"     {name}: label accuracy" in printed
    for name in (*noisy_people.LADDER, noisy_people.CONTROL):
        assert f"     {name}: the agent's spin return" in printed
    assert "seven" in printed.lower()
    _, _, _, checked = read_claims(out / "claims.json")
    assert "control" in checked[2].evidence
    store = out / "labels.sqlite"
    _quick("5", tmp_path / "class", "--store", str(store), "--goal", "spin")
    printed = capsys.readouterr().out
    assert "B-Pref" not in printed
    assert "No teacher is scripted" in printed
    assert not (tmp_path / "class" / "claims.json").exists()


# -- lesson 8: one baseline for the printout and the figure ----------------------------------


def test_lesson_8_prints_changes_from_one_evaluation_of_the_clone(tmp_path: Path, capsys) -> None:
    out = tmp_path / "pipeline"
    _quick("full-pipeline", out, "--kl-coefs", "0,2,5")
    printed = capsys.readouterr().out
    assert printed.count("the clone, evaluated once on") == 1
    gains = dict(re.findall(r"beta (\d+): learned return ([+-]\d+) from the clone", printed))
    assert sorted(gains) == ["0", "2", "5"]
    _, _, _, checked = read_claims(out / "claims.json")
    for beta, gain in gains.items():  # the claims (and the figure) use the printed numbers
        assert f"beta {beta}: KL" in checked[0].evidence
        assert f"learned {gain}" in checked[0].evidence
    record = json.loads((out / "claims.json").read_text())
    assert [c["key"] for c in record["claims"]] == [c.key for c in pipeline.CLAIMS]

"""Lessons 9 (kinds of feedback) and 10 (active queries): their parts, their claims decided
on numbers, and each run end to end at its tiny budget (figures and claims.json)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib.image import imread

from agents.lessons import active_queries as lesson10
from agents.lessons import feedback_kinds as lesson9
from agents.lessons import find_lesson, run_lesson
from agents.lessons.claims import read_claims
from hfrl_gym.answers import Choice
from hfrl_gym.errors import ConfigError
from hfrl_gym.recording import record_clips


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _spinning(speed: float, num_clips: int = 1) -> list:
    """Pendulum clips that keep turning at about ``speed`` rad/s (pushed along)."""

    def push(obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.array([2.0 * np.sign(speed - obs[2])], dtype=np.float32)

    return record_clips(
        lesson9.ENV, num_clips=num_clips, clip_num_steps=25, seed=0, policy=push, policy_name="p"
    )


def test_ratings_follow_the_rubric_and_become_ordered_pairs_and_ties() -> None:
    (slow, other_slow), fast = _spinning(0.0, 2), _spinning(8.0)[0]
    assert lesson9.rate(slow) < lesson9.rate(fast)
    assert lesson9.rate(slow) >= 1
    assert lesson9.rate(fast) <= 5
    clips = [slow, fast, other_slow]
    labelled = lesson9.rated_pairs(clips, [1, 5, 1], np.random.default_rng(0))
    assert len(labelled) == 3 * 2  # each clip against both others (fewer than RATED_PAIRS)
    for pair, answer in labelled:
        if fast not in (pair.left, pair.right):
            assert answer.choice is Choice.EQUAL
        else:
            better = pair.left if answer.choice is Choice.LEFT else pair.right
            assert better is fast


def test_minority_share_measures_which_way_steps_turn() -> None:
    assert lesson9.minority_share(np.array([3.0, 4.0, 5.0, 0.1, -0.2])) == 0.0
    assert lesson9.minority_share(np.array([3.0, -3.0, 4.0, -4.0])) == 0.5
    assert lesson9.minority_share(np.array([2.0, 2.0, 2.0, -2.0])) == 0.25
    assert lesson9.minority_share(np.zeros(4)) == 0.0


def test_the_demonstrator_pushes_with_slow_motion_only() -> None:
    rng = np.random.default_rng(0)
    assert lesson9.demonstrator(np.array([1.0, 0.0, 1.0]), rng)[0] == 2.0
    assert lesson9.demonstrator(np.array([1.0, 0.0, -1.0]), rng)[0] == -2.0
    assert lesson9.demonstrator(np.array([1.0, 0.0, lesson9.SLOW + 1]), rng)[0] == 0.0


def _lesson9_numbers(**changes: float) -> tuple[dict[str, float], dict[str, float]]:
    spin = {
        "preferences": 170.0,
        "ratings": 160.0,
        "demonstrations": 120.0,
        "demonstrator": 118.0,
        "control": 60.0,
    }
    spread = {"preferences": 0.05, lesson9.CHOSEN: 0.45}
    for key, value in changes.items():
        (spread if key == "collapse" else spin)["preferences" if key == "collapse" else key] = value
    return spin, spread


def test_lesson_9_claims_are_decided_on_the_numbers() -> None:
    keys = [claim.key for claim in lesson9.CLAIMS]
    assert all(c.held for c in lesson9.check_claims(*_lesson9_numbers()))

    def failed(**changes: float) -> list[str]:
        checked = lesson9.check_claims(*_lesson9_numbers(**changes))
        return [c.key for c in checked if not c.held]

    assert failed(ratings=80.0) == keys[:2]  # ratings barely above the control
    assert failed(preferences=130.0) == ["judging-beats-doing"]
    assert failed(demonstrations=150.0) == ["clone-copies"]
    assert failed(collapse=0.3) == ["mode-collapse"]


def test_lesson_10_claims_are_decided_on_the_numbers() -> None:
    uniform = np.array([[0.7, 0.80, 0.88], [0.7, 0.84, 0.90], [0.7, 0.82, 0.89]])
    active = uniform + np.array([0.0, 0.04, 0.02])
    gaps = {"uniform": [4.0, 5.0, 6.0], "disagreement": [2.0, 3.0, 4.0]}
    checked = lesson10.check_claims({"uniform": uniform, "disagreement": active}, gaps)
    assert [c.held for c in checked] == [True, True, True]
    worse = lesson10.check_claims({"uniform": active, "disagreement": uniform}, gaps)
    assert [c.held for c in worse] == [False, True, True]
    easy = {"uniform": [4.0, 5.0, 6.0], "disagreement": [4.0, 4.5, 6.0]}
    assert [
        c.held for c in lesson10.check_claims({"uniform": uniform, "disagreement": active}, easy)
    ] == [True, False, True]
    low = {"uniform": uniform - 0.1, "disagreement": active}
    assert not lesson10.check_claims(low, gaps)[2].held


def _assert_figure(path: Path) -> None:
    image = imread(path)
    assert image.shape[0] >= 300
    assert image.shape[1] >= 500
    assert image[..., :3].std() > 0.02, f"{path} is blank"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "figure", "module"),
    [
        ("feedback-kinds", "feedback_kinds.png", lesson9),
        ("active-queries", "active_queries.png", lesson10),
    ],
)
def test_the_lesson_runs_quick_and_writes_its_figure_and_claims(
    tmp_path: Path, name: str, figure: str, module: object
) -> None:
    out = tmp_path / name
    paths = run_lesson(find_lesson(name), ["--quick", "--out", str(out), "--seed", "3"])
    assert [path.name for path in paths] == [figure]
    _assert_figure(paths[0])
    lesson, seed, quick, checked = read_claims(out / "claims.json")
    assert (lesson, seed, quick) == (name, 3, True)
    assert [c.key for c in checked] == [c.key for c in module.CLAIMS]
    assert all(c.evidence for c in checked)


@pytest.mark.parametrize(
    ("name", "argv", "message"),
    [
        ("feedback-kinds", ["--effort", "2"], "--effort of at least 4"),
        ("feedback-kinds", ["--steps", "-5"], "--steps of at least 1"),
        ("active-queries", ["--rounds", "1"], "--rounds of at least 2"),
        ("active-queries", ["--per-round", "-1"], "--per-round of at least 1"),
    ],
)
def test_bad_budgets_are_one_clear_error_before_any_work(
    tmp_path: Path, name: str, argv: list[str], message: str
) -> None:
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match=message):
        run_lesson(find_lesson(name), [*argv, "--out", str(out)])
    assert not out.exists()

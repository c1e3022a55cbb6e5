"""``hfrl lesson live --dry-run``, end to end on loopback: the real run (asynchronous), the real
label server, simulated students over HTTP, the filmed checkpoints and the comparison; then a
mistyped student to compare, which changes nothing stored."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hfrl_gym.store import LabelStore
from human_ui.server.live_folder import LessonFolder
from tests.server_process import free_port

TINY = [
    "--quick", "--dry-run", "--students", "3", "--answer-every", "0.1", "--steps", "2048",
    "--rounds", "2", "--labels", "6", "--shared-every", "1", "--answers-per-query", "3",
    "--compare-steps", "256", "--eval-episodes", "1", "--jobs", "1", "--exit-at-end",
]  # fmt: skip
STUDENTS = ["ada-oracle", "ben-noisy", "cai-mistake"]


def hfrl(*args: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "human_ui.cli", "lesson", "live", *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


@pytest.mark.slow
def test_a_dry_run_labels_trains_films_and_compares(tmp_path: Path) -> None:
    lesson = LessonFolder(tmp_path / "live")
    done = hfrl("--out", str(lesson.root), "--port", str(free_port()), *TINY, timeout_s=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "join code:" in done.stdout
    assert "dashboard: http://127.0.0.1:" in done.stdout

    with LabelStore(lesson.run / "store.sqlite", create=False) as store:
        latest = store.latest_answers_per_annotator()
        answers_before = len(store.answers())
    per_student = {name: sum(r.annotator == name for r in latest) for name in STUDENTS}
    assert all(count > 0 for count in per_student.values()), per_student
    assert {r.annotator for r in latest} == set(STUDENTS)  # only the class answered

    rounds = lesson.rounds()
    assert rounds, done.stdout
    assert all(lesson.round_video(r["index"]).stat().st_size > 1000 for r in rounds)

    comparison = lesson.comparison()
    assert comparison is not None
    assert comparison["finished"] is True
    agents = {agent["name"]: agent for agent in comparison["agents"]}
    students = [f"student {name}" for name in STUDENTS]
    assert list(agents) == ["class (the run)", "class, refit", "oracle", *students,
                            "constant reward"]  # fmt: skip
    assert all(agent["true_return_mean"] is not None for agent in agents.values())
    queries = {r.query_id for r in latest}
    assert agents["oracle"]["labels"] == len(queries)  # the oracle answered the same queries
    assert agents["class, refit"]["labels"] == len(latest)
    for name in STUDENTS:
        assert agents[f"student {name}"]["labels"] == per_student[name]
    assert agents["constant reward"]["labels"] == 0
    agreement = comparison["agreement"]
    assert agreement["shared_queries"] > 0
    assert -1.0 <= agreement["fleiss_kappa"] <= 1.0
    assert set(agreement["with_majority"]) <= set(STUDENTS)
    assert agreement["pairwise"]["names"] == STUDENTS
    assert lesson.figure_path.read_bytes()[:4] == b"\x89PNG"
    assert "Fleiss' kappa" in done.stdout  # the printed table

    # A mistyped student to compare: one error line; the lesson and its answers are kept.
    figure_before = lesson.figure_path.read_bytes()
    wrong = hfrl("--out", str(lesson.root), "--compare-only", "--compare-students", "adaa",
                 timeout_s=120)  # fmt: skip
    assert wrong.returncode == 2
    lines = wrong.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: no student 'adaa' in this class")
    assert "--compare-only" in lines[0]
    assert lesson.comparison() == comparison
    assert lesson.figure_path.read_bytes() == figure_before
    with LabelStore(lesson.run / "store.sqlite", create=False) as store:
        assert len(store.answers()) == answers_before

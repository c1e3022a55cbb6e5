"""A run folder made before the loop was rebuilt from parts still resumes, where it now lies.

``tests/data/legacy/run_v1`` was made by the code of 2026-11-30 (before issue 10): CartPole,
6 labels, 2 rounds, killed after round 0. Its ``config.json`` says ``"out": "run_v1"`` and
writes ``""`` and ``0.0`` for settings that are now ``None``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agents.config import TrainConfig
from hfrl_gym.store import LabelStore

pytestmark = pytest.mark.slow  # end-to-end: not in `make test-fast`

LEGACY = Path(__file__).resolve().parent.parent / "data" / "legacy" / "run_v1"
HFRL = str(Path(sys.executable).with_name("hfrl"))


def test_a_legacy_config_reads_with_none_for_unset_settings() -> None:
    config = TrainConfig.from_json((LEGACY / "config.json").read_text()).validate()
    assert config.reference is None
    assert config.annotator is None
    assert config.wait_timeout is None
    assert config.rounds == 2


@pytest.mark.slow
def test_a_legacy_run_resumes_in_the_folder_it_was_copied_to(tmp_path: Path) -> None:
    run = tmp_path / "copied" / "run"
    shutil.copytree(LEGACY, run)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [HFRL, "train", "--resume", str(run), "--no-progress"],
        cwd=elsewhere,  # config.json's relative "out" must not be where it trains
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert list(elsewhere.iterdir()) == []  # no stray folder
    summary = json.loads((run / "summary.json").read_text())
    assert summary["labels_used"] == 6
    state = json.loads((run / "state.json").read_text())
    assert state["next_round"] == 2
    rounds = (run / "metrics.csv").read_text().splitlines()[1:]
    assert [row.split(",")[0] for row in rounds] == ["0", "1"]  # round 0 kept, round 1 added
    with LabelStore(run / "store.sqlite", create=False) as store:
        queries = store.queries()
        assert {q.round for q in queries} == {0, 1}
        assert store.counts()["answered"] == 6
    assert (LEGACY / "state.json").read_text() != (run / "state.json").read_text()
    assert json.loads((LEGACY / "state.json").read_text())["next_round"] == 1  # data untouched


def _hfrl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HFRL, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def test_resume_without_the_store_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(LEGACY, run)
    (run / "store.sqlite").unlink()
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    result = _hfrl("train", "--resume", str(run), "--no-progress", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "store.sqlite is missing" in result.stderr
    assert not (run / "store.sqlite").exists()  # no new, empty store in its place
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before


def test_resume_with_a_damaged_state_file_says_which_file(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(LEGACY, run)
    (run / "state.json").write_text("{not json")
    result = _hfrl("train", "--resume", str(run), "--no-progress", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "state.json" in result.stderr


@pytest.mark.slow
def test_a_run_killed_before_its_first_checkpoint_resumes_from_round_0(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(LEGACY, run)
    for name in ("state.json", "metrics.csv", "episodes.csv", "policy.zip"):
        (run / name).unlink()  # as if killed in round 0, after its queries were answered
    shutil.rmtree(run / "reward_model")
    result = _hfrl("train", "--resume", str(run), "--no-progress", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    rounds = (run / "metrics.csv").read_text().splitlines()[1:]
    assert [row.split(",")[0] for row in rounds] == ["0", "1"]
    with LabelStore(run / "store.sqlite", create=False) as store:
        assert store.counts()["answered"] == 6  # round 0's answers reused, none asked twice
        assert len(store.answers()) == 6

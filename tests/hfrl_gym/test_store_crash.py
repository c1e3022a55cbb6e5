"""Crash safety, for real: answerers killed with SIGKILL, and two answerers at once.

The answerer is ``tests/hfrl_gym/store_child.py`` in a separate Python process; it prints a query id
only after ``add_answer`` returned. Every printed id must be in the store afterwards, the
store must open cleanly and pass SQLite's integrity check, and no answer may be doubled.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from hfrl_gym.store import LabelStore
from tests.conftest import make_clip

pytestmark = pytest.mark.slow  # end-to-end: not in `make test-fast`

CHILD = Path(__file__).with_name("store_child.py")
REPO = CHILD.parent.parent


def make_store(path: Path, num_queries: int) -> list[int]:
    """A store with ``num_queries`` queries over 40 small clips; returns the query ids."""
    rng = np.random.default_rng(7)
    with LabelStore(path) as store:
        uids = store.add_clips([make_clip(rng, num_steps=5) for _ in range(40)])
        pairs = [(uids[i % 40], uids[(i * 7 + 1) % 40]) for i in range(num_queries)]
        return store.add_queries([(left, right) for left, right in pairs if left != right])


def start_child(path: Path, mode: str, name: str, pause_s: float = 0.0) -> subprocess.Popen[bytes]:
    """Start an answerer and wait until it has opened the store (it then waits for "go")."""
    command = [sys.executable, str(CHILD), str(path), mode, name, str(pause_s)]
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    child = subprocess.Popen(command, cwd=REPO, **pipes)
    assert child.stdout is not None
    ready = child.stdout.readline()
    assert ready == b"ready\n", child.communicate(timeout=30)[1].decode()
    return child


def go(child: subprocess.Popen[bytes]) -> None:
    assert child.stdin is not None
    child.stdin.write(b"go\n")
    child.stdin.flush()


def reported_ids(output: bytes) -> list[int]:
    """Ids on complete lines only: a line cut by the kill was never fully reported."""
    lines = output.split(b"\n")[:-1]
    return [int(line) for line in lines if line.isdigit()]


def test_sigkill_at_random_moments_loses_no_answer(tmp_path: Path) -> None:
    path = tmp_path / "labels.db"
    make_store(path, 20_000)
    rng = np.random.default_rng(2024)
    reported: list[int] = []
    kills = kills_mid_work = 0
    for attempt in range(24):
        mode = "pending" if attempt % 2 == 0 else "claim"
        child = start_child(path, mode, "ana")
        go(child)
        time.sleep(rng.uniform(0.0, 0.25))
        child.send_signal(signal.SIGKILL)
        output, _ = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL, "the child finished before it was killed"
        ids = reported_ids(output)
        kills += 1
        kills_mid_work += bool(ids)
        reported.extend(ids)
        with LabelStore(path, create=False) as store:  # opens cleanly after every kill
            assert store.check() == []
            answers = store.answers()
        stored = [record.query_id for record in answers]
        assert set(reported) <= set(stored), "an answer reported as stored was lost"
        assert len(stored) == len(set(stored)), "an answer was stored twice"
        assert {record.annotator for record in answers} == {"ana"}
    assert kills == 24
    assert kills_mid_work >= 18  # the kills did land while answers were being written
    assert len(reported) > 100


@pytest.mark.parametrize("mode", ["claim", "pending"])
def test_two_answerers_at_once_lose_and_double_nothing(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "labels.db"
    query_ids = make_store(path, 300)
    # At a person's pace (5 ms a query), so that on a loaded machine neither finishes the
    # whole queue before the other is scheduled.
    children = {name: start_child(path, mode, name, pause_s=0.005) for name in ("ana", "bo")}
    for child in children.values():
        go(child)
    outputs = {name: child.communicate(timeout=120) for name, child in children.items()}
    for name, child in children.items():
        assert child.returncode == 0, outputs[name][1].decode()
        assert outputs[name][1] == b""  # in particular, no "database is locked"
        assert outputs[name][0].endswith(b"done\n")
    reported = {name: reported_ids(out) for name, (out, _) in outputs.items()}
    with LabelStore(path, create=False) as store:
        assert store.check() == []
        answers = store.answers()
        assert store.counts()["pending"] == 0
    per_pair = Counter((record.query_id, record.annotator) for record in answers)
    assert max(per_pair.values()) == 1  # no (query, annotator) answer twice
    for name, ids in reported.items():
        assert sorted(ids) == sorted(qid for qid, who in per_pair if who == name)
    if mode == "claim":  # the two shared the work: each query answered once, by one of them
        assert sorted(record.query_id for record in answers) == query_ids
        assert all(reported.values())  # both did some of it
    else:  # each answered every query
        assert len(answers) == 2 * len(query_ids)

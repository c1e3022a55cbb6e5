"""Resume from any kill: SIGKILL at every named phase of a round, and at random moments.

Each kill is followed by ``hfrl train --resume``. The run must finish with every query
answered exactly once, the label and env-step budgets kept, and a complete summary.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agents.faults import PHASES
from hfrl_gym.store import LabelStore

pytestmark = pytest.mark.slow  # end-to-end: not in `make test-fast`

HFRL = str(Path(sys.executable).with_name("hfrl"))
LABELS, STEPS, ROUNDS = 8, 4_000, 3
TRAIN = [
    "train", "--env", "hfrl/CartPole-v0", "--labels", str(LABELS), "--steps", str(STEPS),
    "--rounds", str(ROUNDS), "--initial-steps", "400", "--clip-steps", "10",
    "--eval-episodes", "1", "--ensemble", "2", "--no-video", "--no-progress",
]  # fmt: skip
SUMMARY_KEYS = {
    "env", "teacher", "goal", "reward", "labels_used", "env_steps", "wall_seconds",
    "true_return_mean", "true_return_std", "goal_return_mean", "reward_val_accuracy",
    "device", "seed", "versions",
}  # fmt: skip


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HFRL_")}
    return {**env, "SDL_VIDEODRIVER": "dummy", **extra}


def _start(run: Path, **extra: str) -> subprocess.Popen[str]:
    args = ["--resume", str(run)] if (run / "config.json").exists() else ["--out", str(run)]
    return subprocess.Popen(
        [HFRL, *TRAIN[:1], *args, *([] if args[0] == "--resume" else TRAIN[1:])],
        env=_env(**extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _assert_finished_within_budget(run: Path) -> None:
    summary = json.loads((run / "summary.json").read_text())
    assert set(summary) == SUMMARY_KEYS
    assert summary["labels_used"] == LABELS
    assert summary["env_steps"] <= STEPS
    with LabelStore(run / "store.sqlite", create=False) as store:
        queries, answers = store.queries(), store.answers()
    assert len(queries) == LABELS  # no round posted its queries twice
    assert sorted(a.query_id for a in answers) == sorted(q.id for q in queries)  # once each
    state = json.loads((run / "state.json").read_text())
    assert state["next_round"] == ROUNDS


def test_a_kill_at_every_phase_of_a_round_resumes(tmp_path: Path) -> None:
    run, log = tmp_path / "run", tmp_path / "phases.log"
    kills = [f"{phase}@{k}" for k in (0, 1) for phase in PHASES]
    for mark in kills:
        process = _start(run, HFRL_KILL_AT=mark, HFRL_PHASE_LOG=str(log))
        _, stderr = process.communicate(timeout=180)
        assert process.returncode == -signal.SIGKILL, (mark, stderr[-2000:])
        assert log.read_text().splitlines()[-1] == mark  # killed exactly there
    process = _start(run, HFRL_PHASE_LOG=str(log))
    _, stderr = process.communicate(timeout=180)
    assert process.returncode == 0, stderr[-3000:]
    reached = set(log.read_text().splitlines())
    assert {f"{phase}@{k}" for k in range(ROUNDS) for phase in PHASES} <= reached
    _assert_finished_within_budget(run)


def test_thirty_kills_at_random_moments_lose_nothing(tmp_path: Path) -> None:
    rng = random.Random(0)
    kills, finished, attempt = 0, 0, 0
    while kills < 30:
        run = tmp_path / f"run{finished}"
        process = _start(run)
        time.sleep(rng.uniform(1.5, 5.0))  # start-up takes about 1.5 s
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        _, stderr = process.communicate(timeout=180)
        assert process.returncode in (0, -signal.SIGKILL), stderr[-3000:]
        if (run / "summary.json").exists():
            _assert_finished_within_budget(run)
            finished += 1
        attempt += 1
        assert attempt < 200
    process = _start(tmp_path / f"run{finished}")  # the last one, to its end
    _, stderr = process.communicate(timeout=180)
    assert process.returncode == 0, stderr[-3000:]
    _assert_finished_within_budget(tmp_path / f"run{finished}")

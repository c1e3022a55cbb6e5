"""The run status file: written atomically, read back, described, polled cheaply, no rewards."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hfrl_gym.errors import ConfigError
from hfrl_gym.run_status import (
    FORMAT_VERSION,
    Phase,
    RunStatus,
    StatusWriter,
    describe,
    read_status,
    status_path,
)
from hfrl_gym.run_status_poll import StatusPoller


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _writer(root: Path, clock: FakeClock | None = None) -> StatusWriter:
    return StatusWriter(
        root,
        env_id="hfrl/CartPole-v0",
        labels_budget=100,
        env_steps_budget=50_000,
        num_rounds=4,
        clock=clock or FakeClock(),
    )


def test_updates_are_written_and_read_back(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    writer.update(Phase.WAITING, round_index=1, labels_answered=40, pending_queries=20)
    writer.update(Phase.FITTING)
    status = read_status(tmp_path)
    assert status == writer.status
    assert (status.phase, status.round, status.labels_answered) == (Phase.FITTING, 1, 40)
    assert status.pid == os.getpid()
    assert status.updated_at >= status.started_at > 0
    assert [p.name for p in tmp_path.iterdir()] == ["status.json"]  # no temporary left


def test_the_file_holds_progress_only_never_a_return(tmp_path: Path) -> None:
    _writer(tmp_path).update(Phase.TRAINING, refits=2, env_steps=1_000)
    data = json.loads(status_path(tmp_path).read_text())
    assert data["format"] == "hfrl-run-status"
    assert data["format_version"] == FORMAT_VERSION
    assert not [key for key in data if "return" in key or "reward" in key]
    with pytest.raises(TypeError):
        _writer(tmp_path).update(Phase.TRAINING, true_return=3.0)  # type: ignore[call-arg]


def test_heartbeats_are_throttled_phase_changes_are_not(tmp_path: Path) -> None:
    clock = FakeClock()
    writer = _writer(tmp_path, clock)
    writer.update(Phase.TRAINING)
    for steps in range(100, 1000, 100):  # within one second: kept, not written
        writer.heartbeat(env_steps=steps)
    assert (writer.writes, read_status(tmp_path).env_steps) == (1, 0)
    clock.now = 1.0
    writer.heartbeat(env_steps=1_000)
    assert (writer.writes, read_status(tmp_path).env_steps) == (2, 1_000)
    writer.heartbeat(env_steps=1_100)
    writer.update(Phase.EVALUATING)  # at once, with the newest steps
    assert (writer.writes, read_status(tmp_path).env_steps) == (3, 1_100)


def test_a_status_that_cannot_be_written_does_not_stop_the_run(tmp_path: Path) -> None:
    writer = _writer(tmp_path / "missing")
    writer.update(Phase.TRAINING)
    assert writer.write_error is not None
    assert "cannot write" in writer.write_error
    assert writer.status.phase is Phase.TRAINING


def test_the_line_says_phase_round_refits_labels_and_steps() -> None:
    status = RunStatus(
        Phase.WAITING,
        env_id="x",
        round=0,
        num_rounds=3,
        refits=1,
        labels_answered=10,
        labels_budget=60,
        pending_queries=30,
        env_steps=1_000,
        env_steps_budget=9_000,
    )
    assert describe(status) == (
        "waiting for answers (30 pending) · round 1/3 · 1 refit · labels 10/60 · "
        "env steps 1,000/9,000"
    )
    stopped = RunStatus(Phase.STOPPED, env_id="x", mode="async", message="window closed")
    assert describe(stopped) == "run stopped: window closed · env steps 0/0"
    assert describe(status, alive=None).startswith("waiting")
    assert describe(status, alive=False).startswith("run stopped (its training process is gone)")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "other"}, "not an hfrl-run-status"),
        ({"format_version": FORMAT_VERSION + 1}, "upgrade hfrl_gym"),
        ({"phase": "dancing"}, "damaged"),
        ({"refits": -1}, "refits -1"),
        ({"env_steps": "many"}, "env_steps 'many'"),
        ({"mode": "both"}, "mode 'both'"),
    ],
)
def test_damaged_or_newer_files_are_refused_naming_the_file(
    tmp_path: Path, change: dict, message: str
) -> None:
    _writer(tmp_path).update(Phase.TRAINING)
    data = {**json.loads(status_path(tmp_path).read_text()), **change}
    status_path(tmp_path).write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=message) as error:
        read_status(tmp_path)
    assert "status.json" in str(error.value)


def test_unknown_fields_of_a_later_writer_are_ignored(tmp_path: Path) -> None:
    _writer(tmp_path).update(Phase.TRAINING)
    data = {**json.loads(status_path(tmp_path).read_text()), "later_field": 1}
    status_path(tmp_path).write_text(json.dumps(data))
    assert read_status(tmp_path).phase is Phase.TRAINING


def test_poller_reads_only_changed_files_and_keeps_the_last_good_status(tmp_path: Path) -> None:
    clock = FakeClock()
    poller = StatusPoller(tmp_path, interval_s=0.5, clock=clock)
    assert poller.poll() is None
    writer = _writer(tmp_path)
    writer.update(Phase.TRAINING, env_steps=10)
    assert poller.poll() is None  # looked less than interval_s ago
    clock.now = 1.0
    view = poller.poll()
    assert view is not None
    assert view.text.startswith("PPO training")
    assert (view.alive, view.ended, view.finished) == (True, False, False)
    assert poller.poll() is view
    status_path(tmp_path).write_text("{torn")
    clock.now = 2.0
    damaged = poller.poll()
    assert damaged.status == view.status
    assert "status unreadable now" in damaged.text
    writer.finish()
    clock.now = 3.0
    done = poller.poll()
    assert (done.ended, done.finished, done.text.split(" · ")[0]) == (True, True, "run finished")


def test_a_run_whose_process_is_gone_has_ended(tmp_path: Path) -> None:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    writer = _writer(tmp_path)
    writer.status = dataclasses.replace(writer.status, pid=int(child.stdout))  # reaped
    writer.update(Phase.TRAINING)
    view = StatusPoller(tmp_path, interval_s=0).poll()
    assert view is not None
    assert (view.alive, view.ended, view.finished) == (False, True, False)
    assert "its training process is gone" in view.text


def test_a_reader_with_the_store_shows_its_live_counts(tmp_path: Path) -> None:
    counts = [(0, 6)]
    poller = StatusPoller(tmp_path, interval_s=0, live_counts=lambda: counts[-1])
    writer = _writer(tmp_path)
    writer.update(Phase.WAITING, round_index=0, labels_answered=0, pending_queries=6)
    assert poller.poll().text.startswith("waiting for answers (6 pending) · round 1/4 · labels 0/")
    counts.append((4, 2))  # answered in the window; the trainer writes nothing while it waits
    view = poller.poll()
    assert view.text.startswith("waiting for answers (2 pending) · round 1/4 · labels 4/100")
    assert read_status(tmp_path).labels_answered == 0  # the file itself is the trainer's
    writer.update(Phase.STOPPED, labels_answered=4, pending_queries=2)
    counts.append((5, 1))
    assert poller.poll().status.labels_answered == 4  # an ended run's own last word

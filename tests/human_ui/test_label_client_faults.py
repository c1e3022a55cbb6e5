"""Faults in a class on one run: the label server killed with SIGKILL and restarted, and the
training run behind it killed and resumed.

Everything is real and on loopback: ``hfrl serve`` in its own process, ``hfrl train --teacher
store`` in another, students as the desktop window's source (``ServerSource`` under
``CompareState``) and as plain API clients.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hfrl_gym.store import LabelStore
from human_ui.commands import Command
from human_ui.compare_state import CompareState
from human_ui.server_source import ServerSource
from tests.server_process import HFRL, ServerProcess
from tests.ui_helpers import make_query_store, ui_env

pytestmark = pytest.mark.slow  # server and training processes: not in `make test-fast`


@pytest.fixture
def processes() -> Iterator[list[ServerProcess | subprocess.Popen[str]]]:
    """Processes a test started, killed at its end if still running."""
    started: list[ServerProcess | subprocess.Popen[str]] = []
    yield started
    for process in started:
        if isinstance(process, ServerProcess):
            process.kill()
        elif process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def _wait(condition: Callable[[], bool], what: str, timeout_s: float = 240) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def _by(store_path: Path, annotator: str) -> list[tuple[int, str]]:
    with LabelStore(store_path, create=False) as store:
        return [(r.query_id, r.choice.value) for r in store.answers(annotator=annotator)]


def test_server_killed_mid_class_loses_no_answer_and_students_continue(
    tmp_path: Path, processes: list
) -> None:
    path = tmp_path / "labels.sqlite"
    make_query_store(path, 10)
    with LabelStore(path) as store:
        store.set_shared_answers(1, 1)
    server = ServerProcess(path, cwd=tmp_path, env=ui_env(tmp_path))
    processes.append(server.start())
    ana_client, bo = server.join("Ana"), server.join("Bo")
    ana = CompareState(ServerSource(ana_client), "Ana", poll_s=3600)

    def answer(command: Command) -> None:  # as the window does: the clips shown, then a key
        ana.update(0.0, frames_ready=True)
        ana.apply(command)

    answer(Command.LEFT)
    answer(Command.RIGHT)
    shown = ana.current  # Ana is looking at this pair when the server dies
    bo_leased = [pair["query_id"] for pair in bo.lease(2)["pairs"]]
    retried = bo.answer(bo_leased[0], "equal", seconds=2.0, request_id="ab" * 16)
    acknowledged = {"Ana": _by(path, "Ana"), "Bo": [(bo_leased[0], "equal")]}
    assert len(acknowledged["Ana"]) == 2

    server.kill(signal.SIGKILL)
    answer(Command.LEFT)  # while the server is down: not saved, the pair stays
    assert ana.message.startswith("left not saved (the label server http://127.0.0.1:")
    assert ana.current == shown
    ana.refresh()  # the window's poll: says so, keeps the pair
    assert "cannot be reached" in ana.message
    assert ana.current == shown
    server.restart()
    ana.refresh()  # reachable again: the notice goes, the pair stays
    assert ana.message == ""
    assert ana.current == shown

    assert _by(path, "Ana") == acknowledged["Ana"]  # every committed answer survived
    assert _by(path, "Bo") == acknowledged["Bo"]
    again = bo.answer(bo_leased[0], "equal", seconds=2.0, request_id="ab" * 16)
    assert again["answer_id"] == retried["answer_id"]  # a retried answer is stored once
    assert _by(path, "Bo") == acknowledged["Bo"]
    assert bo.me()["answered"] == 1  # tokens survived the restart
    assert bo.lease(2)["pairs"][0]["query_id"] == bo_leased[1]  # his lease too
    answer(Command.LEFT)  # the same key again: saved, on the pair she was looking at
    assert _by(path, "Ana") == [*acknowledged["Ana"], (shown, "left")]
    assert ana.message == f"saved query {shown}: left is better"


def _train(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = ui_env(tmp_path, HFRL_TORCH_THREADS="1")
    return subprocess.Popen(
        [str(HFRL), "train", *args, "--no-progress"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _status(run: Path) -> dict:
    try:
        return json.loads((run / "status.json").read_text())
    except (OSError, ValueError):
        return {}


def test_training_killed_and_resumed_keeps_its_queue_behind_the_server(
    tmp_path: Path, processes: list
) -> None:
    run = tmp_path / "run"
    budget = ["--env", "hfrl/CartPole-v0", "--teacher", "store", "--labels", "8"]
    budget += ["--rounds", "2", "--steps", "4096", "--explore-fraction", "0"]
    budget += ["--initial-steps", "400", "--clip-steps", "10", "--no-video", "--device", "cpu"]
    training = _train(tmp_path, *budget, "--out", str(run))
    processes.append(training)
    _wait(lambda: _status(run).get("phase") == "waiting", "the run's first queries")
    server = ServerProcess(run, cwd=tmp_path, env=ui_env(tmp_path))
    processes.append(server.start())
    student = server.join("Ana")
    first = student.lease(2)["pairs"][0]["query_id"]
    student.answer(first, "left", seconds=1.0)

    training.send_signal(signal.SIGKILL)
    training.wait(timeout=30)
    with LabelStore(run / "store.sqlite", create=False) as store:
        posted = [query.id for query in store.queries()]
        pending = [query.id for query in store.pending_queries()]
    assert first in posted
    assert first not in pending
    assert pending

    resumed = _train(tmp_path, "--resume", str(run))
    processes.append(resumed)
    _wait(
        lambda: _status(run).get("phase") == "waiting" and _status(run).get("pid") == resumed.pid,
        "the resumed run waiting",
    )
    served = []
    while pairs := student.lease(5)["pairs"]:
        for pair in pairs:
            served.append(pair["query_id"])
            student.answer(pair["query_id"], "right", seconds=1.0)
    assert sorted(set(served)) == pending  # the queue posted before the kill, nothing new
    with LabelStore(run / "store.sqlite", create=False) as store:
        assert [query.id for query in store.queries(round=0)] == posted
    _wait(lambda: (_status(run).get("round") or 0) >= 1, "the resumed run's next round")

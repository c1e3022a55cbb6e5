"""A class answers a training run through the label server: ``hfrl train --teacher store``
and ``hfrl serve`` on its run folder, each in its own process, two students over HTTP."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.human_ui.server.api_helpers import forbidden_in
from tests.human_ui.server.test_serve_process import HFRL, Serve, free_port

TINY = [
    "--env", "hfrl/CartPole-v0", "--steps", "2400", "--rounds", "2", "--initial-steps", "400",
    "--clip-steps", "20", "--eval-episodes", "2", "--seed", "0", "--no-progress", "--no-video",
]  # fmt: skip


def student(url: str, code: str, name: str, stop: threading.Event, seen: list) -> None:
    """Join, then lease and answer 'left' until told to stop; every reply kept in ``seen``."""
    http = httpx.Client(base_url=url, timeout=30)
    token = http.post("/api/v1/join", json={"code": code, "name": name}).json()["token"]
    who = {"Authorization": f"Bearer {token}"}
    while not stop.is_set():
        reply = http.post("/api/v1/leases", headers=who, json={"count": 1})
        seen.append(reply.json())
        for pair in reply.json()["pairs"]:
            body = {"query_id": pair["query_id"], "choice": "left", "seconds": 0.5}
            seen.append(http.post("/api/v1/answers", headers=who, json=body).json())
        seen.append(http.get("/api/v1/status", headers=who).json())
        time.sleep(0.2)


@pytest.mark.slow
def test_students_answer_a_training_run_through_the_server(tmp_path: Path) -> None:
    run = tmp_path / "run"
    train = subprocess.Popen(
        [str(HFRL), "train", *TINY, "--teacher", "store", "--labels", "10",
         "--wait-timeout", "240", "--out", str(run)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not (run / "config.json").exists() or not (run / "store.sqlite").exists():
        assert time.monotonic() < deadline, "training did not start"
        assert train.poll() is None, train.stderr.read() if train.stderr else ""
        time.sleep(0.2)
    server = Serve(run, free_port()).start()
    stop = threading.Event()
    try:
        teacher = server.lines[0].split()[2]
        code = server.lines[1].split()[2]
        seen: list = []
        threads = [
            threading.Thread(target=student, args=(server.url, code, name, stop, seen))
            for name in ("Ana", "Bo")
        ]
        for thread in threads:
            thread.start()
        _, errors = train.communicate(timeout=420)
        assert train.returncode == 0, errors
        board = httpx.get(
            f"{server.url}/api/v1/dashboard", headers={"Authorization": f"Bearer {teacher}"}
        ).json()
    finally:
        stop.set()
        server.kill()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["labels_used"] == 10
    assert sum(s["answered"] for s in board["students"]) >= 10
    assert board["run"]["phase"] == "finished"
    assert len(board["true_return"]) == 2  # one evaluation per round, from metrics.csv
    assert board["reward_model"]["validation_accuracy"] is not None
    assert forbidden_in(seen) == []  # no reward or return key reached a student
    assert any(reply.get("run") for reply in seen if "run" in reply)  # they saw the run's status

"""``hfrl serve`` as a user starts it: uvicorn in its own process, killed and started again.

A class answers; the server is killed with ``SIGKILL`` (its render workers with it); started
again on the same port it has lost no committed answer, and the students' tokens and leases
still hold, so each continues where they were. Also: what ``hfrl serve`` prints.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hfrl_gym.store import LabelStore
from human_ui.server.class_db import ClassDatabase, class_database_path
from human_ui.server.cli import build_parser, prepare
from tests.human_ui.server.api_helpers import make_store

HFRL = Path(sys.executable).with_name("hfrl")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Serve:
    """``hfrl serve PATH --port PORT`` in its own session (so its workers die with it)."""

    def __init__(self, path: Path, port: int) -> None:
        self.path, self.port, self.url = path, port, f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[str] | None = None
        self.lines: list[str] = []

    def start(self) -> Serve:
        self.process = subprocess.Popen(
            [str(HFRL), "serve", str(self.path), "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        while len(self.lines) < 3:
            line = self.process.stdout.readline()
            assert line, f"hfrl serve ended: {self.lines}"
            self.lines.append(line.strip())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v1/health").status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"no server on {self.url}: {self.lines}")

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture
def served(tmp_path: Path):
    path = tmp_path / "labels.sqlite"
    make_store(path, num_queries=6)
    server = Serve(path, free_port()).start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.kill()


def test_a_killed_server_restarts_with_every_answer_token_and_lease(served: Serve) -> None:
    (token_line,) = [line for line in served.lines if line.startswith("teacher token:")]
    teacher = token_line.split()[2]
    code = re.search(r"join code: (\S+)", "\n".join(served.lines)).group(1)
    http = httpx.Client(base_url=served.url, timeout=30)
    students = {}
    for name in ("Ana", "Bo"):
        joined = http.post("/api/v1/join", json={"code": code, "name": name}).json()
        students[name] = {"Authorization": f"Bearer {joined['token']}"}
    held = {}
    for name, who in students.items():
        pairs = http.post("/api/v1/leases", headers=who, json={"count": 2}).json()["pairs"]
        held[name] = [pair["query_id"] for pair in pairs]
        video = http.get(pairs[0]["left"]["video_url"], headers=who)  # a worker process
        assert (video.status_code, video.headers["content-type"]) == (200, "video/webm")
        body = {"query_id": held[name][0], "choice": "left", "seconds": 1.5}
        assert http.post("/api/v1/answers", headers=who, json=body).status_code == 201
    assert held == {"Ana": [1, 2], "Bo": [3, 4]}

    served.kill()  # mid-class: Ana and Bo each hold a pair they have not answered
    with LabelStore(served.path, create=False) as store:
        assert sorted((r.query_id, r.annotator) for r in store.answers()) == [(1, "Ana"), (3, "Bo")]
    served.lines = []
    served.start()
    assert "teacher token: as printed at the first start" in served.lines[0]
    assert f"join code: {code}" in served.lines[1]

    http = httpx.Client(base_url=served.url, timeout=30)
    for name, who in students.items():
        assert http.get("/api/v1/me", headers=who).json()["answered"] == 1
        pairs = http.post("/api/v1/leases", headers=who, json={"count": 1}).json()["pairs"]
        assert [pair["query_id"] for pair in pairs] == held[name][1:]  # where they were
    board = http.get("/api/v1/dashboard", headers={"Authorization": f"Bearer {teacher}"})
    assert [s["answered"] for s in board.json()["students"]] == [1, 1]


def test_serve_prints_the_join_address_and_warns_off_loopback(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    make_store(path, num_queries=1)
    _, lines = prepare(build_parser().parse_args([str(path)]))
    assert lines[0].startswith("teacher token: ")
    assert "at http://127.0.0.1:8000/" in lines[1]
    assert f"/teacher#token={lines[0].split()[2]}" in lines[2]  # a fragment: never sent
    assert not any("warning" in line for line in lines)
    _, lines = prepare(build_parser().parse_args([str(path), "--host", "0.0.0.0"]))
    assert "as printed at the first start" in lines[0]  # made once
    assert lines[-1].startswith("warning: listening on 0.0.0.0")
    assert "not encrypted" in lines[-1]


def test_serve_refuses_what_is_not_a_store(tmp_path: Path) -> None:
    from hfrl_gym.errors import ConfigError

    with pytest.raises(ConfigError, match=r"has no store\.sqlite"):
        prepare(build_parser().parse_args([str(tmp_path)]))
    with pytest.raises(ConfigError, match="--port must be 1-65535"):
        prepare(build_parser().parse_args([str(tmp_path), "--port", "0"]))
    with pytest.raises(ConfigError, match="--lease-s must be 10-3600"):
        prepare(build_parser().parse_args([str(tmp_path), "--lease-s", "1"]))


def test_serve_sets_the_lease_of_the_class(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    make_store(path, num_queries=1)
    prepare(build_parser().parse_args([str(path)]))
    classes = ClassDatabase(class_database_path(path))
    assert classes.settings().lease_s == 300.0  # a new class's
    classes.close()
    prepare(build_parser().parse_args([str(path), "--lease-s", "60"]))
    classes = ClassDatabase(class_database_path(path))
    assert classes.settings().lease_s == 60.0
    classes.close()


def _children(pid: int) -> set[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return {int(line) for line in found.stdout.split()}


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


def test_render_workers_end_when_the_server_alone_is_killed(served: Serve) -> None:
    assert served.process is not None
    deadline = time.monotonic() + 60
    while not (workers := _children(served.process.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)  # the workers start with the first videos rendered ahead
    assert workers, "hfrl serve started no render worker"
    served.process.send_signal(signal.SIGKILL)  # the server only, as the OOM killer would
    served.process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers), "render workers outlived their server"

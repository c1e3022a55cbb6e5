"""Helpers for the label page's browser tests: a store of CartPole pairs, a server, chromium.

The server is the real ``hfrl serve`` in its own process on a free loopback port; the browser
is Debian's chromium driven by Playwright (its own browser download is not used).
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import imageio.v2 as imageio
import numpy as np

from hfrl_gym.recording import record_clips
from hfrl_gym.run_status import Phase, StatusWriter
from hfrl_gym.store import LabelStore
from tests.ui_helpers import HFRL, ui_env

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's chromium (``apt-get install chromium``; ``.ci/run`` installs it)."""

CLIP_STEPS = 30
RENDER_WORKERS = 2
"""The server's rendering processes (``--render-workers``), and the fetches that warm them."""


def _steady(obs: np.ndarray, rng: np.random.Generator) -> int:
    return int(obs[2] + 0.5 * obs[3] > 0)  # lean-following: the pole stays up


def cartpole_pairs(path: Path, num_queries: int) -> list[int]:
    """A store of ``num_queries`` CartPole pairs: a pole kept up (left) against a random
    policy's (right), each clip its own. Returns the query ids."""
    good = record_clips(
        "hfrl/CartPole-v0", num_clips=num_queries, clip_num_steps=CLIP_STEPS, seed=1,
        policy=_steady, policy_name="steady",
    )  # fmt: skip
    bad = record_clips(
        "hfrl/CartPole-v0", num_clips=num_queries, clip_num_steps=CLIP_STEPS, seed=100
    )
    with LabelStore(path) as store:
        uids = store.add_clips([*good, *bad])
        pairs = [(uids[i], uids[num_queries + i]) for i in range(num_queries)]
        return list(store.add_queries(pairs))


def run_folder(folder: Path, num_queries: int) -> Path:
    """A run folder as ``hfrl train`` leaves one mid-run: the store of
    :func:`cartpole_pairs`, ``status.json``, three rounds of ``metrics.csv`` and an agent's
    ``video.mp4`` (H.264). Returns the folder."""
    cartpole_pairs(folder / "store.sqlite", num_queries)
    (folder / "config.json").write_text("{}\n")
    writer = StatusWriter(
        folder, env_id="hfrl/CartPole-v0", labels_budget=120, env_steps_budget=30_000,
        num_rounds=5,
    )  # fmt: skip
    writer.update(Phase.WAITING, round_index=2, refits=2, labels_answered=40, env_steps=12_000)
    rows = [
        "round,env_steps,true_return_mean,val_accuracy",
        "0,4000,21.5,0.61",
        "1,8000,64.0,0.72",
        "2,12000,180.5,0.78",
    ]
    (folder / "metrics.csv").write_text("\n".join(rows) + "\n")
    frames = np.zeros((20, 240, 320, 3), np.uint8)
    frames[:, 100:140, 140:180] = 255
    writer_args = {"codec": "libx264", "pixelformat": "yuv420p", "macro_block_size": 16}
    imageio.mimwrite(folder / "video.mp4", list(frames), fps=20, **writer_args)
    return folder


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ClassServer:
    """A running ``hfrl serve``: its address, the teacher's token and the join code."""

    url: str
    teacher_token: str
    join_code: str
    store: Path


def _wait_healthy(url: str, process: subprocess.Popen[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"hfrl serve ended ({process.returncode}): {stderr}")
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2) as reply:
                if json.load(reply)["status"] == "ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise AssertionError(f"hfrl serve did not answer at {url} within {timeout_s} s")


def api(server: ClassServer, method: str, path: str, token: str, body: object = None) -> object:
    """One JSON request to the server's API (for set-up and checks beside the browser)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{server.url}/api/v1{path}", data=data, method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.load(reply)


def _printed(process: subprocess.Popen[str], prefix: str) -> str:
    """The first word after ``prefix`` in the next lines the server prints."""
    assert process.stdout is not None
    for _ in range(10):
        line = process.stdout.readline()
        if line.startswith(prefix):
            return line[len(prefix) :].split()[0]
        if not line:
            break
    raise AssertionError(f"hfrl serve printed no {prefix!r} line")


def render_all(server: ClassServer) -> None:
    """Fetches every clip's video once as the teacher, so the pages find them rendered.

    The browser tests are about the page; the server's rendering speed is measured by
    ``scripts/bench_server.py``.
    """
    with LabelStore(server.store) as store:
        uids = [uid for query in store.queries() for uid in (query.left_uid, query.right_uid)]

    def fetch(uid: str) -> None:
        request = urllib.request.Request(
            f"{server.url}/api/v1/clips/{uid}/video.webm",
            headers={"Authorization": f"Bearer {server.teacher_token}"},
        )
        with urllib.request.urlopen(request, timeout=180) as reply:
            assert reply.headers["Content-Type"] == "video/webm"
            assert reply.read()

    with ThreadPoolExecutor(RENDER_WORKERS) as pool:
        list(pool.map(fetch, uids))


@contextmanager
def class_server(target: Path, workdir: Path) -> Iterator[ClassServer]:
    """``hfrl serve RUN_OR_STORE`` on a free loopback port, until the block ends."""
    store = target / "store.sqlite" if target.is_dir() else target
    port = free_port()
    process = subprocess.Popen(
        [str(HFRL), "serve", str(target), "--port", str(port),
         "--render-workers", str(RENDER_WORKERS)],
        cwd=workdir, env=ui_env(workdir), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        token = _printed(process, "teacher token: ")
        code = _printed(process, "join code: ")
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, process, timeout_s=120)
        yield ClassServer(url=url, teacher_token=token, join_code=code, store=store)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

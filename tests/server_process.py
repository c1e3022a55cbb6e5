"""The label server in its own process, for tests and ``scripts/bench_server.py``.

``hfrl serve TARGET --port P`` is started as a user starts it (uvicorn in a subprocess on a
free loopback port); its teacher token is read from what it prints at the first start of a
class, and the join code from ``GET /api/v1/class``. It can be killed with ``SIGKILL`` and
started again on the same port.

Classes:
    ServerProcess: one server process (restartable).

Functions:
    free_port: a loopback port nobody listens on now.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from human_ui.server_client import ServerClient
from human_ui.source_errors import SourceUnavailableError

HFRL = Path(sys.executable).with_name("hfrl")
TOKEN_PATTERN = re.compile(r"teacher token[^A-Za-z0-9_-]*([A-Za-z0-9_-]{40,})", re.IGNORECASE)


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerProcess:
    """``hfrl serve`` on a store or run folder, in its own process.

    Args:
        target: the run folder or store to serve.
        cwd: the working folder of the process (a test's ``tmp_path``).
        env: the process's environment (default: this one's, headless).
        port: the port (default: a free one, kept across restarts).
        extra: more ``hfrl serve`` arguments.
    """

    def __init__(
        self,
        target: Path,
        *,
        cwd: Path,
        env: dict[str, str] | None = None,
        port: int | None = None,
        extra: tuple[str, ...] = (),
    ) -> None:
        self.target, self.cwd, self.extra = Path(target), Path(cwd), extra
        self.env = dict(os.environ) if env is None else env
        self.env.setdefault("MUJOCO_GL", "egl")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self.teacher_token: str | None = None
        self._join_code: str | None = None
        self._starts = 0

    def start(self, timeout_s: float = 90.0) -> ServerProcess:
        """Start the process and wait until it answers ``GET /health``."""
        args = [str(HFRL), "serve", str(self.target), "--port", str(self.port), *self.extra]
        self.process = subprocess.Popen(
            args,
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._starts += 1
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()
        client = ServerClient(self.url, timeout_s=5)
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"hfrl serve exited with {self.process.returncode}: {self.output}"
                )
            try:
                client.health()
                break
            except SourceUnavailableError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"hfrl serve never answered: {self.output}") from None
                time.sleep(0.2)
        while self.teacher_token is None and time.monotonic() < deadline:
            found = TOKEN_PATTERN.search(self.output)
            if found:
                self.teacher_token = found.group(1)
            elif self._starts > 1:  # printed at the first start only
                break
            else:
                time.sleep(0.1)
        return self

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        """Everything the process (and its earlier runs) printed."""
        return "\n".join(self.lines)

    def teacher(self) -> ServerClient:
        """A client with the teacher's token."""
        if self.teacher_token is None:
            raise AssertionError(f"no teacher token printed: {self.output}")
        return ServerClient(self.url, self.teacher_token)

    @property
    def join_code(self) -> str:
        """The class's join code (asked once, as the teacher)."""
        if self._join_code is None:
            self._join_code = str(self.teacher().call("GET", "/class")["join_code"])
        return self._join_code

    def join(self, name: str) -> ServerClient:
        """A student's client: joins the class as ``name``."""
        token = ServerClient(self.url).join(self.join_code, name)["token"]
        return ServerClient(self.url, token)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` (default ``SIGKILL``: no clean-up at all) and wait for the process."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)

    def restart(self) -> ServerProcess:
        """Start again on the same port, after :meth:`kill` (the teacher token is kept)."""
        return self.start()

    def stop(self) -> None:
        """Stop the process (``SIGINT``, as Ctrl-C; ``SIGKILL`` if it does not end)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

"""pygame and the web framework never load together: the server's process (clips rendered in
worker processes) and a window's process, each checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.human_ui.server.api_helpers import make_store

SERVER = """
import sys
from pathlib import Path
from fastapi.testclient import TestClient
from human_ui.cli import build_parser
from human_ui.server.app import create_app
from human_ui.server.context import ServerSettings
from tests.human_ui.server.api_helpers import teacher_and_code

if __name__ == "__main__":
    path = Path(sys.argv[1])
    teacher, code = teacher_and_code(path)
    app = create_app(ServerSettings(target=path, render_workers=1, ahead_every_s=0.0))
    with TestClient(app) as client:
        token = client.post("/api/v1/join", json={"code": code, "name": "Ana"}).json()["token"]
        who = {"Authorization": f"Bearer {token}"}
        pair = client.post("/api/v1/leases", headers=who).json()["pairs"][0]
        assert client.get(pair["left"]["video_url"], headers=who).status_code == 200
    print(sorted(name for name in ("pygame", "fastapi") if name in sys.modules))
"""
WINDOW = """
import sys
import human_ui.app, human_ui.compare, human_ui.window_cli
print(sorted(n for n in ("pygame", "fastapi", "starlette", "uvicorn") if n in sys.modules))
"""


def run(code: str, *args: str, tmp_path: Path) -> str:
    script = tmp_path / "check.py"
    script.write_text(code)
    result = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parents[3],
        env={"PYTHONPATH": str(Path(__file__).parents[3]), "MUJOCO_GL": "egl",
             "SDL_VIDEODRIVER": "dummy", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_the_server_process_renders_clips_without_loading_pygame(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    make_store(path, num_queries=1)
    assert run(SERVER, str(path), tmp_path=tmp_path) == "['fastapi']"


def test_a_window_process_never_loads_the_web_framework(tmp_path: Path) -> None:
    assert run(WINDOW, tmp_path=tmp_path) == "['pygame']"

"""Schemathesis against the label server's OpenAPI description: no request gives a 5xx.

The server runs under uvicorn in a thread, on a free loopback port; Schemathesis makes
requests from the description at ``/api/v1/openapi.json``, as a student and as the
teacher, a few examples per operation (seconds in all).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from human_ui.server.app import create_app
from human_ui.server.context import ServerSettings
from tests.human_ui.server.api_helpers import make_store, teacher_and_code


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    path = tmp_path_factory.mktemp("fuzz") / "labels.sqlite"
    make_store(path, num_queries=8)
    teacher, code = teacher_and_code(path)
    app = create_app(ServerSettings(target=path, render_workers=0, ahead_every_s=0.0))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    joined = httpx.post(f"{url}/api/v1/join", json={"code": code, "name": "Fuzz"}).json()
    httpx.post(
        f"{url}/api/v1/leases",
        headers={"Authorization": f"Bearer {joined['token']}"},
        json={"count": 3},
    )
    yield {"url": url, "student": joined["token"], "teacher": teacher}
    server.should_exit = True
    thread.join(timeout=10)


def test_no_request_gives_a_server_error(live: dict) -> None:
    schema = schemathesis.openapi.from_url(f"{live['url']}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    tokens = (live["student"], live["teacher"], "not-a-token")

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case: schemathesis.Case) -> None:
            for token in tokens:
                case.call_and_validate(
                    base_url=live["url"],
                    headers={"Authorization": f"Bearer {token}"},
                    checks=[not_a_server_error],
                )

        no_server_error()


def test_the_description_is_versioned(live: dict) -> None:
    spec = httpx.get(f"{live['url']}/api/v1/openapi.json").json()
    assert spec["info"]["version"] == "1.0"
    assert all(path.startswith("/api/v1/") for path in spec["paths"])
    assert "/api/v1/answers" in spec["paths"]

"""Bad requests to the label server: each a clear 4xx, and nothing stored.

Unknown and expired tokens, a student on the teacher's routes, answers to queries not leased
to the token, malformed and oversized bodies, and path tricks in clip ids.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.human_ui.server.api_helpers import Server, make_store, running_server


@pytest.fixture
def server(tmp_path: Path) -> Server:
    path = tmp_path / "labels.sqlite"
    make_store(path, num_queries=3)
    with running_server(path) as running:
        yield running


def stored(server: Server) -> tuple:
    """Everything a request could have written: answers, and the class's members."""
    with server.store() as store:
        answers = [(r.query_id, r.annotator, r.choice) for r in store.answers()]
    conn = sqlite3.connect(server.store_path.with_name("labels.sqlite.server.sqlite"))
    try:
        members = conn.execute("SELECT client_id, name FROM members ORDER BY 1").fetchall()
    finally:
        conn.close()
    return answers, members


GOOD = {"query_id": 1, "choice": "left", "seconds": 1.0}


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "no token"),
        ({"Authorization": "Bearer not-a-token"}, "unknown or expired token"),
        ({"Authorization": "Basic YW5hOnB3"}, "no token"),
        ({"Authorization": "Bearer"}, "no token"),
    ],
)
def test_requests_without_a_valid_token_are_401(server: Server, headers: dict, why: str) -> None:
    before = stored(server)
    for method, path, body in (
        ("post", "/api/v1/leases", {}),
        ("post", "/api/v1/answers", GOOD),
        ("post", "/api/v1/undo", None),
        ("get", "/api/v1/status", None),
        ("get", "/api/v1/dashboard", None),
    ):
        reply = server.client.request(method.upper(), path, headers=headers, json=body)
        assert reply.status_code == 401, (path, reply.text)
        assert why in reply.json()["detail"]
        assert reply.headers["www-authenticate"] == "Bearer"
    assert stored(server) == before


def test_an_expired_token_is_401(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    make_store(path, num_queries=1)
    with running_server(path, token_days=-1.0) as server:
        ana = server.join("Ana")  # expired the moment it was made
        reply = server.client.post("/api/v1/leases", headers=ana)
        assert reply.status_code == 401
        assert "expired" in reply.json()["detail"]


def test_students_are_refused_the_teachers_routes_and_the_teacher_answering(
    server: Server,
) -> None:
    ana = server.join("Ana")
    before = stored(server)
    for method, path in (
        ("GET", "/api/v1/class"),
        ("PUT", "/api/v1/class"),
        ("GET", "/api/v1/dashboard"),
        ("GET", "/api/v1/export"),
        ("GET", "/api/v1/run/video.mp4"),
    ):
        reply = server.client.request(method, path, headers=ana, json={"open": False})
        assert reply.status_code == 403, path
        assert "teacher" in reply.json()["detail"]
    reply = server.client.post("/api/v1/answers", headers=server.teacher, json=GOOD)
    assert reply.status_code == 403
    assert server.client.get("/api/v1/class", headers=server.teacher).json()["open"] is True
    assert stored(server) == before


def test_joining_with_a_wrong_code_a_bad_or_taken_name_or_a_closed_class(
    server: Server,
) -> None:
    server.join("Ana")
    before = stored(server)
    cases = [
        ({"code": "AAAA-AAAA", "name": "Bo"}, 403, "wrong join code"),
        ({"code": server.join_code, "name": "Ana"}, 409, "taken"),
        ({"code": server.join_code, "name": "Bo#1"}, 422, "a name is 1-40"),
        ({"code": server.join_code, "name": "../../x"}, 422, "a name is 1-40"),
        ({"code": server.join_code}, 422, "name"),
    ]
    for body, status, why in cases:
        reply = server.client.post("/api/v1/join", json=body)
        assert reply.status_code == status, reply.text
        assert why in str(reply.json()["detail"])
    server.client.put("/api/v1/class", headers=server.teacher, json={"open": False})
    reply = server.client.post("/api/v1/join", json={"code": server.join_code, "name": "Cy"})
    assert reply.status_code == 403
    assert "closed" in reply.json()["detail"]
    assert stored(server) == before


def test_answers_to_queries_not_leased_to_the_token_are_409(server: Server) -> None:
    ana, bo = server.join("Ana"), server.join("Bo")
    server.client.post("/api/v1/leases", headers=ana, json={"count": 1})  # query 1
    before = stored(server)
    for who, query_id in ((bo, 1), (ana, 2), (ana, 99)):
        body = {**GOOD, "query_id": query_id}
        reply = server.client.post("/api/v1/answers", headers=who, json=body)
        assert reply.status_code == 409, reply.text
        assert "not leased" in reply.json()["detail"]
    assert stored(server) == before


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"", 422),
        (b"[1, 2]", 422),
        (b'{"query_id": 1, "choice": "sideways", "seconds": 1}', 422),
        (b'{"query_id": 1, "choice": "left", "seconds": -1}', 422),
        (b'{"query_id": 1, "choice": "left", "seconds": NaN}', 422),
        (b'{"query_id": 1, "choice": "left", "seconds": 1e400}', 422),
        (b'{"query_id": 1, "choice": "equal", "seconds": 1, "confidence": "much"}', 422),
        (b'{"query_id": 1, "choice": "left", "seconds": 1, "extra": 1}', 422),
        (b'{"query_id": "1; DROP TABLE answers", "choice": "left", "seconds": 1}', 422),
        (b'{"query_id": 1, "choice": "left", "seconds": 1, "request_id": "../x"}', 422),
    ],
)
def test_malformed_answers_are_4xx_and_store_nothing(
    server: Server, body: bytes, status: int
) -> None:
    ana = server.join("Ana")
    server.client.post("/api/v1/leases", headers=ana, json={"count": 1})
    before = stored(server)
    headers = {**ana, "Content-Type": "application/json"}
    reply = server.client.post("/api/v1/answers", headers=headers, content=body)
    assert reply.status_code == status, reply.text
    assert reply.json()["detail"]
    assert stored(server) == before


def test_oversized_bodies_are_413_before_any_route_reads_them(server: Server) -> None:
    before = stored(server)
    big = b'{"code": "' + b"x" * 70_000 + b'", "name": "Bo"}'
    reply = server.client.post("/api/v1/join", content=big)
    assert reply.status_code == 413
    assert "over 65536 bytes" in reply.json()["detail"]

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(20):
            yield b"x" * 8192

    reply = server.client.post("/api/v1/join", content=chunks())
    assert reply.status_code == 413
    assert stored(server) == before


@pytest.mark.parametrize(
    "clip_id",
    ["..", "...", "%2e%2e", "..%2F..%2Fetc%2Fpasswd", "a%00b", "x" * 65, "%C3%A9t%C3%A9", "a b"],
)
def test_path_tricks_in_clip_ids_are_4xx(server: Server, clip_id: str) -> None:
    ana = server.join("Ana")
    server.client.post("/api/v1/leases", headers=ana, json={"count": 1})
    for tail in ("video.webm", "snapshot"):
        reply = server.client.get(f"/api/v1/clips/{clip_id}/{tail}", headers=ana)
        assert reply.status_code in (400, 404), (clip_id, reply.status_code)
        assert reply.json()["detail"]
    cache = server.store_path.with_name("labels.sqlite.frames") / "web"
    assert all(path.suffix == ".webm" for path in cache.glob("*"))


def test_a_clip_not_leased_to_the_student_is_404(server: Server) -> None:
    ana, bo = server.join("Ana"), server.join("Bo")
    pair = server.client.post("/api/v1/leases", headers=ana, json={"count": 1}).json()
    uid = pair["pairs"][0]["left"]["clip_uid"]
    reply = server.client.get(f"/api/v1/clips/{uid}/snapshot", headers=bo)
    assert reply.status_code == 404
    assert "leased to you" in reply.json()["detail"]
    token = ana["Authorization"].split()[1]
    assert server.client.get(f"/api/v1/clips/{uid}/snapshot?token={token}").status_code == 200

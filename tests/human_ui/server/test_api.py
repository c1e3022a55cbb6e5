"""The label server's API in this process: joining, leases, answers, undo, the teacher's view.

Every answer is read back from the store file by a second connection, as the training run
reads it; every reply to a student is walked for true rewards and the dashboard's fields.
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pytest

from hfrl_gym.answers import Choice
from tests.human_ui.server.api_helpers import Server, forbidden_in, make_store, running_server


@pytest.fixture
def server(tmp_path: Path) -> Server:
    path = tmp_path / "labels.sqlite"
    make_store(path, num_queries=6)
    with running_server(path) as running:
        yield running


def lease(server: Server, who: dict[str, str], count: int = 2) -> list[int]:
    reply = server.client.post("/api/v1/leases", headers=who, json={"count": count})
    assert reply.status_code == 200, reply.text
    return [pair["query_id"] for pair in reply.json()["pairs"]]


def answer(server: Server, who: dict, query_id: int, choice: str = "left", **extra) -> dict:
    body = {"query_id": query_id, "choice": choice, "seconds": 2.5, **extra}
    return server.client.post("/api/v1/answers", headers=who, json=body)


def test_a_student_joins_leases_answers_and_the_answer_is_in_the_store(server: Server) -> None:
    ana = server.join("Ana")
    me = server.client.get("/api/v1/me", headers=ana).json()
    assert (me["role"], me["annotator"], me["answered"]) == ("student", "Ana", 0)
    reply = server.client.post("/api/v1/leases", headers=ana, json={"count": 2})
    pairs = reply.json()["pairs"]
    assert [pair["query_id"] for pair in pairs] == [1, 2]
    clip = pairs[0]["left"]
    assert clip["video_url"] == f"/api/v1/clips/{clip['clip_uid']}/video.webm"
    assert (clip["num_frames"], clip["fps"], clip["width"]) == (7, 50, 320)
    video = server.client.get(clip["video_url"], headers=ana)
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/webm"
    assert video.content[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a Matroska/WebM file
    stored = answer(server, ana, 1, "right", confidence="slightly")
    assert stored.status_code == 201
    assert stored.json()["answered"] == 1
    with server.store() as store:  # committed before the reply
        (record,) = store.answers()
    assert (record.query_id, record.choice, record.annotator, record.seconds) == (
        1,
        Choice.RIGHT,
        "Ana",
        2.5,
    )
    assert record.confidence.value == "slightly"
    assert lease(server, ana) == [2, 3]  # the answered one is gone, the next comes


def test_two_students_never_share_a_query_but_the_shared_ones(server: Server) -> None:
    default = server.client.get("/api/v1/class", headers=server.teacher).json()
    assert (default["answers_per_query"], default["shared_every"]) == (2, 5)
    with server.store() as store:  # windows on the store follow it too
        assert store.shared_answers() == (5, 2)
    reply = server.client.put(
        "/api/v1/class", headers=server.teacher, json={"answers_per_query": 2, "shared_every": 3}
    )
    assert reply.json()["answers_per_query"] == 2
    ana, bo, cy = server.join("Ana"), server.join("Bo"), server.join("Cy")
    got = {name: lease(server, who, 5) for name, who in (("Ana", ana), ("Bo", bo), ("Cy", cy))}
    assert got["Ana"] == [1, 2, 3, 4, 5]
    assert got["Bo"] == [3, 6]  # query 3 (shared) a second time; 6 is new
    assert got["Cy"] == [6]  # query 6 is shared too: its second slot; 3 has its two
    for name, who in (("Ana", ana), ("Bo", bo)):
        assert answer(server, who, 3, "left" if name == "Ana" else "right").status_code == 201
    with server.store() as store:
        assert sorted(r.annotator for r in store.answers(query_id=3)) == ["Ana", "Bo"]


def test_a_retried_answer_is_stored_once_and_others_cannot_answer_a_lease(
    server: Server,
) -> None:
    ana, bo = server.join("Ana"), server.join("Bo")
    lease(server, ana, 1)
    first = answer(server, ana, 1, request_id="0f" * 16)
    again = answer(server, ana, 1, request_id="0f" * 16)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    lease(server, ana, 1)  # query 2
    refused = answer(server, bo, 2)
    assert refused.status_code == 409
    assert "not leased" in refused.json()["detail"]
    with server.store() as store:
        assert [(r.query_id, r.annotator) for r in store.answers()] == [(1, "Ana")]


def test_undo_is_a_students_own_and_gives_the_pair_back(server: Server) -> None:
    ana, bo = server.join("Ana"), server.join("Bo")
    lease(server, ana, 1)
    lease(server, bo, 1)
    answer(server, ana, 1)
    answer(server, bo, 2)
    undone = server.client.post("/api/v1/undo", headers=ana).json()
    assert undone == {"undone": {"query_id": 1, "choice": "left"}, "answered": 0}
    assert server.client.post("/api/v1/undo", headers=ana).json()["undone"] is None
    with server.store() as store:
        assert [(r.query_id, r.annotator) for r in store.answers()] == [(2, "Bo")]
    assert lease(server, ana, 1) == [1]  # her undone pair comes back first
    assert lease(server, bo, 2) == [3, 4]


def test_the_teacher_sees_the_class_and_exports_each_students_answers(server: Server) -> None:
    server.client.put(
        "/api/v1/class", headers=server.teacher, json={"answers_per_query": 3, "shared_every": 1}
    )
    students = {name: server.join(name) for name in ("Ana", "Bo", "Cy")}
    votes = {"Ana": ["left", "left"], "Bo": ["left", "right"], "Cy": ["left", "right"]}
    for name, who in students.items():
        lease(server, who, 2)
        for query_id, choice in zip((1, 2), votes[name], strict=True):
            assert answer(server, who, query_id, choice).status_code == 201
    board = server.client.get("/api/v1/dashboard", headers=server.teacher).json()
    assert [s["name"] for s in board["students"]] == ["Ana", "Bo", "Cy"]
    assert [s["answered"] for s in board["students"]] == [2, 2, 2]
    assert board["agreement"]["shared_queries"] == 2
    # Query 1: 3 x left (P=1); query 2: 1 left, 2 right (P=1/3); p_left 4/6, p_right 2/6.
    assert board["agreement"]["fleiss_kappa"] == pytest.approx((2 / 3 - 5 / 9) / (1 - 5 / 9))
    with_majority = {s["name"]: s["agreement_with_majority"] for s in board["students"]}
    assert with_majority == {"Ana": 0.5, "Bo": 1.0, "Cy": 1.0}
    assert sum(minute["answers"] for minute in board["answers_per_minute"]) == 6
    lines = server.client.get("/api/v1/export?student=Bo", headers=server.teacher).text
    rows = [json.loads(line) for line in lines.splitlines()]
    assert [(r["annotator"], r["query_id"], r["choice"]) for r in rows] == [
        ("Bo", 1, "left"),
        ("Bo", 2, "right"),
    ]
    table = server.client.get("/api/v1/export?format=csv", headers=server.teacher)
    assert table.headers["content-type"].startswith("text/csv")
    assert len(list(csv.DictReader(io.StringIO(table.text)))) == 6
    code = server.client.get("/api/v1/class", headers=server.teacher).json()["join_code"]
    assert code == server.join_code


def test_no_reply_to_a_student_holds_a_reward_or_anothers_answer(server: Server) -> None:
    ana, bo = server.join("Ana"), server.join("Bo")
    lease(server, bo, 1)
    answer(server, bo, 1, "right")
    replies = []
    get = server.client.get
    for path in ("/api/v1/me", "/api/v1/task", "/api/v1/status", "/api/v1/answers/mine"):
        replies.append(get(path, headers=ana))
    pairs = server.client.post("/api/v1/leases", headers=ana, json={"count": 3})
    replies.append(pairs)
    for pair in pairs.json()["pairs"]:
        replies.append(get(pair["left"]["snapshot_url"], headers=ana))
    replies.append(answer(server, ana, pairs.json()["pairs"][0]["query_id"]))
    replies.append(server.client.post("/api/v1/undo", headers=ana))
    replies += [get(path, headers=ana) for path in ("/api/v1/dashboard", "/api/v1/class")]
    replies.append(get("/api/v1/export?student=Bo", headers=ana))
    for reply in replies:
        assert reply.status_code in (200, 201, 403), reply.text
        assert forbidden_in(reply.json()) == [], reply.request.url
        assert "Bo" not in reply.text
    assert [r.status_code for r in replies[-3:]] == [403, 403, 403]


def test_a_lapsed_lease_goes_back_to_the_queue(server: Server) -> None:
    ana, bo = server.join("Ana"), server.join("Bo")
    assert lease(server, ana, 1) == [1]
    server.client.app.state.context.classes.change(lease_s=0.001)  # PUT refuses under 10 s
    assert lease(server, ana, 1) == [1]  # renewed, now for a moment only
    time.sleep(0.05)
    server.client.app.state.context.classes.change(lease_s=300.0)
    assert lease(server, bo, 1) == [1]  # it went back to the queue; Bo holds it now
    late = answer(server, ana, 1)
    assert late.status_code == 409
    assert answer(server, bo, 1).status_code == 201


def test_a_student_who_leaves_gives_the_pairs_back_at_once(server: Server) -> None:
    ana, bo = server.join("Ana"), server.join("Bo")
    held = lease(server, ana, 2)
    assert answer(server, ana, held[0]).status_code == 201
    taken_by_bo = lease(server, bo, 5)
    assert held[1] not in taken_by_bo  # still Ana's lease
    server.client.delete("/api/v1/leases", headers=bo)  # Bo gives his back
    reply = server.client.delete("/api/v1/leases", headers=ana)
    assert reply.status_code == 200
    assert reply.json() == {"released": True}
    assert held[1] in lease(server, bo, 5)  # free at once, long before the 300 s lease
    late = answer(server, ana, held[1])
    assert late.status_code == 409  # no longer Ana's to answer
    assert server.client.delete("/api/v1/leases").status_code == 401  # a token is needed
    with server.store() as store:
        assert [(a.query_id, a.annotator) for a in store.latest_answers().values()] == [
            (held[0], "Ana")
        ]

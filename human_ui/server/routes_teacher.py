"""The teacher's routes: the class's settings, the dashboard, exports, the run's video.

Each takes the teacher's token (a student gets 403). The dashboard is the one reply that
holds the run's true return (the agent's evaluation, from ``metrics.csv``), and no student
route reaches it.

Functions:
    router: the routes (an ``APIRouter`` under ``/api/v1``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response

from hfrl_gym.store import LabelStore
from human_ui.server import dashboard
from human_ui.server.auth import MediaMember, Teacher, context_of
from human_ui.server.class_db import Role
from human_ui.server.context import ServerContext
from human_ui.server.schemas import ClassIn, ClassOut, DashboardOut

router = APIRouter(prefix="/api/v1", tags=["teacher"])
EXPORT_FIELDS = (
    "query_id", "query_uid", "left_uid", "right_uid", "choice", "confidence", "seconds",
    "created", "annotator",
)  # fmt: skip


def _class(context: ServerContext) -> ClassOut:
    settings = context.classes.settings()
    every, k = context.store.shared_answers()
    answers = context.store.latest_answers_per_annotator()
    counts: dict[str, int] = {}
    for record in answers:
        counts[record.annotator] = counts.get(record.annotator, 0) + 1
    students = [
        {
            "name": s.name,
            "client_id": s.client_id,
            "joined": s.joined,
            "answered": counts.get(s.name, 0),
        }
        for s in context.classes.students()
    ]
    return ClassOut.model_validate(
        {
            "join_code": settings.join_code,
            "open": settings.open,
            "answers_per_query": k,
            "shared_every": every,
            "lease_s": settings.lease_s,
            "students": students,
        }
    )


@router.get("/class", response_model=ClassOut)
def get_class(request: Request, who: Teacher) -> ClassOut:
    """The join code, the settings and the students."""
    return _class(context_of(request))


@router.put("/class", response_model=ClassOut)
def put_class(body: ClassIn, request: Request, who: Teacher) -> ClassOut:
    """Change the class: open or close it, answers per shared query, lease, a new code."""
    context = context_of(request)
    every, k = context.store.shared_answers()
    if body.answers_per_query is not None or body.shared_every is not None:
        context.store.set_shared_answers(
            every=body.shared_every or every, k=body.answers_per_query or k
        )
    context.classes.change(open=body.open, lease_s=body.lease_s, new_code=body.new_join_code)
    return _class(context)


@router.get("/dashboard", response_model=DashboardOut)
def get_dashboard(request: Request, who: Teacher) -> DashboardOut:
    """The class's pace and agreement, and the run's progress, model and return."""
    context = context_of(request)
    now = context.now()
    answers = context.store.answers()
    names = [s.name for s in context.classes.students()]
    latest = context.store.latest_answers_per_annotator()
    agreement = dashboard.agreement([r for r in latest if r.annotator in set(names)])
    pace = dashboard.pace([r for r in answers if r.annotator in set(names)], now)
    students = [
        {
            "name": name,
            "answered": pace.get(name, {}).get("answered", 0),
            "answers_per_minute": pace.get(name, {}).get("answers_per_minute", 0.0),
            "seconds_per_label": pace.get(name, {}).get("seconds_per_label"),
            "agreement_with_majority": agreement["with_majority"].get(name),
        }
        for name in names
    ]
    run, _ = context.run_view()
    model, curve = dashboard.run_metrics(context.run_folder)
    video = context.run_folder is not None and (context.run_folder / "video.mp4").is_file()
    return DashboardOut.model_validate(
        {
            "students": students,
            "answers_per_minute": dashboard.per_minute(answers, now),
            "agreement": {
                "shared_queries": agreement["shared_queries"],
                "fleiss_kappa": agreement["fleiss_kappa"],
            },
            "run": run,
            "reward_model": model,
            "true_return": curve,
            "video_url": "/api/v1/run/video.mp4" if video else None,
        }
    )


@router.get(
    "/run/video.mp4",
    response_class=FileResponse,
    responses={200: {"content": {"video/mp4": {}}}},
)
def run_video(request: Request, who: MediaMember) -> FileResponse:
    """The run's newest agent video."""
    if who.role is not Role.TEACHER:
        raise HTTPException(403, "this route is the teacher's; use the teacher's token")
    context = context_of(request)
    path = None if context.run_folder is None else context.run_folder / "video.mp4"
    if path is None or not path.is_file():
        raise HTTPException(404, "the run has no video.mp4 yet (`hfrl video RUN` makes one)")
    return FileResponse(path, media_type="video/mp4")


def export_rows(store: LabelStore, student: str | None) -> list[dict]:
    """The answers (of one student when given), oldest first, as export rows."""
    queries = {q.id: q for q in store.queries()}
    uids = {record["id"]: record["uid"] for record in store.query_records()}
    rows = []
    for record in store.answers(annotator=student):
        query = queries[record.query_id]
        rows.append(
            {
                "query_id": query.id,
                "query_uid": uids[query.id],
                "left_uid": query.left_uid,
                "right_uid": query.right_uid,
                "choice": record.choice.value,
                "confidence": None if record.confidence is None else record.confidence.value,
                "seconds": record.seconds,
                "created": record.created,
                "annotator": record.annotator,
            }
        )
    return rows


@router.get(
    "/export",
    response_class=Response,
    responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}},
)
def export(
    request: Request,
    who: Teacher,
    student: Annotated[str | None, Query(max_length=40)] = None,
    format: Literal["jsonl", "csv"] = "jsonl",
) -> Response:
    """One student's answers (all students' without ``student``), as JSON lines or CSV."""
    context = context_of(request)
    names = {s.name for s in context.classes.students()}
    if student is not None and student not in names:
        raise HTTPException(404, f"no student {student!r} in this class")
    rows = [
        row
        for row in export_rows(context.store, student)
        if student is not None or row["annotator"] in names
    ]
    stem = "answers" if student is None else re.sub(r"[^A-Za-z0-9._-]", "_", f"answers-{student}")
    if format == "csv":
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=EXPORT_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
        body, media = text.getvalue(), "text/csv"
    else:
        body = "".join(json.dumps(row) + "\n" for row in rows)
        media = "application/x-ndjson"
    disposition = f'attachment; filename="{stem}.{format}"'
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})

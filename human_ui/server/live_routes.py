"""The teacher's routes of a live lesson (``hfrl lesson live``): the agent per round, the end.

The server serves a lesson's run (``human_ui.server.live_folder``); these routes read what
the lesson's process writes beside it: the agent's video at each checkpoint, with its round,
env steps and true return, and at the end the comparison of agents and the class's agreement.
Every route is the teacher's (a student gets 403): they hold true returns. A server of a run
that is no lesson answers ``live: false`` and 404 for the files.

Functions:
    router: the routes (an ``APIRouter`` under ``/api/v1/lesson``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel

from human_ui.server.auth import MediaMember, Teacher, context_of
from human_ui.server.class_db import Member, Role
from human_ui.server.live_folder import LessonFolder

router = APIRouter(prefix="/api/v1/lesson", tags=["teacher"])
PREFIX = "/api/v1/lesson"


class RoundOut(BaseModel):
    index: int
    round: int | None
    env_steps: float | None
    true_return: float | None
    video_url: str


class LessonOut(BaseModel):
    live: bool
    rounds: list[RoundOut]
    comparison: dict[str, Any] | None
    figure_url: str | None


def _lesson(request: Request) -> LessonFolder | None:
    return LessonFolder.of_run(context_of(request).run_folder)


def _only_teacher(who: Member) -> None:
    if who.role is not Role.TEACHER:
        raise HTTPException(403, "this route is the teacher's; use the teacher's token")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


@router.get("", response_model=LessonOut)
def lesson(request: Request, who: Teacher) -> LessonOut:
    """The agent at each filmed checkpoint and, at the end, the comparison."""
    found = _lesson(request)
    if found is None:
        return LessonOut(live=False, rounds=[], comparison=None, figure_url=None)
    rounds = [
        RoundOut(
            index=int(entry["index"]),
            round=None if _number(entry.get("round")) is None else int(entry["round"]),
            env_steps=_number(entry.get("env_steps")),
            true_return=_number(entry.get("true_return")),
            video_url=f"{PREFIX}/rounds/{int(entry['index'])}/video.mp4",
        )
        for entry in found.rounds()
        if isinstance(entry.get("index"), int)
    ]
    figure = found.figure_path.is_file()
    return LessonOut(
        live=True,
        rounds=rounds,
        comparison=found.comparison(),
        figure_url=f"{PREFIX}/comparison.png" if figure else None,
    )


@router.get(
    "/rounds/{index}/video.mp4",
    response_class=FileResponse,
    responses={200: {"content": {"video/mp4": {}}}},
)
def round_video(index: int, request: Request, who: MediaMember) -> FileResponse:
    """The agent's video at the ``index``-th filmed checkpoint."""
    _only_teacher(who)
    found = _lesson(request)
    if found is None or not 0 <= index < len(found.rounds()):
        raise HTTPException(404, f"no filmed round {index} (GET {PREFIX} lists them)")
    path = found.round_video(index)
    if not path.is_file():
        raise HTTPException(404, f"the video of round {index} is missing")
    return FileResponse(path, media_type="video/mp4")


@router.get(
    "/comparison.png",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}}},
)
def comparison_figure(request: Request, who: MediaMember) -> FileResponse:
    """The figure of the end: the agents' true returns and the class's agreement."""
    _only_teacher(who)
    found = _lesson(request)
    if found is None or not found.figure_path.is_file():
        raise HTTPException(404, "no comparison yet: it is drawn when the lesson's run ends")
    return FileResponse(found.figure_path, media_type="image/png")

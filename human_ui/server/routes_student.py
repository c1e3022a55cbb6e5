"""The routes of a student (and, read-only, of the teacher): join, pairs, answers, clips.

Every answer is committed to the store (:meth:`LabelStore.add_claimed_answer`, fsynced)
before the reply. Leases are the store's claims of claimant ``<name>#<client id>``, the one
lease mechanism of windows and server clients. No reply here holds a true reward, another
student's answers, or anything of the dashboard.

Functions:
    router: the routes (an ``APIRouter`` under ``/api/v1``).
"""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from hfrl_gym.answers import Answer
from hfrl_gym.envs import get_goal
from hfrl_gym.errors import ConfigError, HfrlError
from hfrl_gym.store import LabelStore, Query
from hfrl_gym.store_codec import check_uid
from human_ui.server.auth import AnyMember, MediaMember, Student, context_of
from human_ui.server.class_db import Member, Role, check_name
from human_ui.server.context import ServerContext
from human_ui.server.schemas import (
    API_VERSION,
    AnswerIn,
    AnswerOut,
    ClipOut,
    HealthOut,
    JoinIn,
    JoinOut,
    LeaseIn,
    LeasesOut,
    MeOut,
    MyAnswer,
    MyAnswersOut,
    PairOut,
    ReleaseOut,
    SnapshotOut,
    StatusOut,
    TaskOut,
    UndoOut,
)
from human_ui.task_words import task_text

router = APIRouter(prefix="/api/v1")
PREFIX = "/api/v1"


def _answered(store: LabelStore, who: Member) -> int:
    return len(store.latest_answers(annotator=who.name)) if who.role is Role.STUDENT else 0


@router.get("/health", response_model=HealthOut, tags=["everyone"])
def health(request: Request) -> HealthOut:
    """Whether the server runs, and its API version."""
    return HealthOut(status="ok", api_version=API_VERSION, env_id=context_of(request).env_id())


@router.post("/join", response_model=JoinOut, status_code=201, tags=["everyone"])
def join(body: JoinIn, request: Request) -> JoinOut:
    """A student joins with the class's code and a name, and gets a token."""
    context = context_of(request)
    try:
        name = check_name(body.name)
        token, who = context.classes.join(body.code, name, valid_s=context.student_token_s())
    except PermissionError as error:
        raise HTTPException(403, str(error)) from None
    except ConfigError as error:
        status = 409 if "taken" in str(error) else 422
        raise HTTPException(status, str(error)) from None
    return JoinOut(
        token=token,
        name=who.name,
        annotator=who.name,
        client_id=who.client_id,
        expires_at=who.expires or 0.0,
    )


@router.get("/me", response_model=MeOut, tags=["student"])
def me(request: Request, who: AnyMember) -> MeOut:
    """Who the token belongs to."""
    student_ = who.role is Role.STUDENT
    return MeOut(
        role=who.role.value,
        name=who.name,
        annotator=who.name if student_ else None,
        client_id=who.client_id,
        answered=_answered(context_of(request).store, who),
    )


@router.get("/task", response_model=TaskOut, tags=["student"])
def task(request: Request, who: AnyMember) -> TaskOut:
    """The task card's words for the store's env and goal."""
    context = context_of(request)
    env_id = context.env_id()
    if env_id is None:
        return TaskOut(env_id=None, goal=None, title=None, lines=[])
    goal_name = context.goal_name()
    try:
        goal = get_goal(env_id, goal_name)
    except HfrlError:
        goal_name, goal = "task", get_goal(env_id, "task")
    title = env_id if goal_name == "task" else f"{env_id} · goal {goal_name}"
    text = task_text(env_id, goal, title)
    lines = [text.judge, text.forward, f"Good: {text.good}", f"Bad: {text.bad}"]
    return TaskOut(env_id=env_id, goal=goal_name, title=title, lines=[x for x in lines if x])


@router.get("/status", response_model=StatusOut, tags=["student"])
def status(request: Request, who: AnyMember) -> StatusOut:
    """The run's progress (never a return), the queue, and this student's count."""
    context = context_of(request)
    run, line = context.run_view()
    counts = context.store.counts()
    return StatusOut.model_validate(
        {
            "run": run,
            "line": line,
            "queries": {"pending": counts["pending"], "answered": counts["answered"]},
            "mine": {"answered": _answered(context.store, who)},
        }
    )


def _clip(context: ServerContext, uid: str, env_id: str, num_steps: int) -> ClipOut:
    info = context.videos.info(env_id)
    return ClipOut(
        clip_uid=uid,
        video_url=f"{PREFIX}/clips/{uid}/video.webm",
        snapshot_url=f"{PREFIX}/clips/{uid}/snapshot",
        num_frames=num_steps + 1,
        fps=info.fps,
        width=info.width,
        height=info.height,
    )


def _pairs(context: ServerContext, queries: list[Query], expires: float) -> list[PairOut]:
    uids = [uid for q in queries for uid in (q.left_uid, q.right_uid)]
    kinds = context.store.clip_kinds(uids)
    return [
        PairOut(
            query_id=q.id,
            round=q.round,
            lease_expires=expires,
            left=_clip(context, q.left_uid, *kinds[q.left_uid]),
            right=_clip(context, q.right_uid, *kinds[q.right_uid]),
        )
        for q in queries
    ]


@router.post("/leases", response_model=LeasesOut, tags=["student"])
def leases(request: Request, who: Student, body: LeaseIn | None = None) -> LeasesOut:
    """Lease pairs to answer (own leases first, renewed); an empty list: none left now."""
    context = context_of(request)
    lease_s = context.classes.settings().lease_s
    count = 2 if body is None else body.count
    expires = context.now() + lease_s
    queries = context.store.claim_pending(
        who.claimant, limit=count, lease_s=lease_s, annotator=who.name
    )
    return LeasesOut(lease_s=lease_s, pairs=_pairs(context, queries, expires))


@router.delete("/leases", response_model=ReleaseOut, tags=["student"])
def release(request: Request, who: Student) -> ReleaseOut:
    """Give back every pair leased to this client (a page or window that closes): the rest of
    the class may take them at once instead of after the lease."""
    context_of(request).store.release_claims(who.claimant)
    return ReleaseOut(released=True)


@router.post("/answers", response_model=AnswerOut, status_code=201, tags=["student"])
def answer(body: AnswerIn, request: Request, response: Response, who: Student) -> AnswerOut:
    """Answer a leased query; committed to the store before this replies."""
    store = context_of(request).store
    given = Answer(
        body.choice, annotator=who.name, seconds=body.seconds, confidence=body.confidence
    )
    record, stored = store.add_claimed_answer(
        body.query_id, given, who.claimant, uid=body.request_id
    )
    if not stored:
        response.status_code = 200  # a retry: the first reply again, nothing new stored
    return AnswerOut(answer_id=record.id, query_id=record.query_id, answered=_answered(store, who))


@router.post("/undo", response_model=UndoOut, tags=["student"])
def undo(request: Request, who: Student) -> UndoOut:
    """Delete this student's newest answer; its query is leased to them again."""
    context = context_of(request)
    record = context.store.undo_last_answer(who.name)
    if record is not None:
        lease_s = context.classes.settings().lease_s
        context.store.hold_claim(record.query_id, who.claimant, lease_s=lease_s, annotator=who.name)
    undone = (
        None if record is None else {"query_id": record.query_id, "choice": record.choice.value}
    )
    return UndoOut.model_validate({"undone": undone, "answered": _answered(context.store, who)})


@router.get("/answers/mine", response_model=MyAnswersOut, tags=["student"])
def my_answers(request: Request, who: Student) -> MyAnswersOut:
    """This student's answers, oldest first."""
    records = context_of(request).store.answers(annotator=who.name)
    return MyAnswersOut(
        answers=[
            MyAnswer(
                query_id=r.query_id,
                choice=r.choice.value,
                confidence=None if r.confidence is None else r.confidence.value,
                seconds=r.seconds,
                created=r.created,
            )
            for r in records
        ]
    )


def _visible_clip(context: ServerContext, uid: str, who: Member) -> str:
    """The clip uid, when it is a clip id this member may see (else 400 or 404)."""
    try:
        check_uid(uid)
    except HfrlError:
        raise HTTPException(400, "not a clip id: 1-64 letters, digits, '_' or '-'") from None
    if who.role is Role.STUDENT:
        held = context.store.held_queries(who.claimant)
        if uid not in {u for q in held for u in (q.left_uid, q.right_uid)}:
            raise HTTPException(404, f"no clip {uid} in a pair leased to you; lease pairs again")
    elif not context.store.clip_kinds([uid]):
        raise HTTPException(404, f"no clip {uid} in this store")
    return uid


@router.get(
    "/clips/{clip_uid}/video.webm",
    response_class=FileResponse,
    responses={200: {"content": {"video/webm": {}}}},
    tags=["student"],
)
async def clip_video(clip_uid: str, request: Request, who: MediaMember) -> Response:
    """The clip as a WebM (VP8) video, rendered from its snapshots."""
    context = context_of(request)
    uid = await run_in_threadpool(_visible_clip, context, clip_uid, who)
    try:
        path = await context.videos.get(uid)  # a render waited for holds no thread
    except TimeoutError:
        raise HTTPException(503, f"clip {uid} is still rendering; ask again") from None
    except Exception as error:  # the worker's error, said once; the page shows the other clip
        raise HTTPException(503, f"clip {uid} could not be rendered: {error}") from None
    return FileResponse(
        path,
        media_type="video/webm",
        headers={"Cache-Control": "private, max-age=86400"},
    )


@router.get("/clips/{clip_uid}/snapshot", response_model=SnapshotOut, tags=["student"])
def clip_snapshot(clip_uid: str, request: Request, who: MediaMember) -> SnapshotOut:
    """The clip's observations, actions and snapshots; never its rewards."""
    context = context_of(request)
    clip = context.store.get_clip(_visible_clip(context, clip_uid, who))
    states = None if clip.states is None else np.asarray(clip.states, np.float64).tolist()
    return SnapshotOut(
        clip_uid=clip.uid,
        env_id=clip.env_id,
        num_steps=clip.num_steps,
        observations=np.asarray(clip.observations).tolist(),
        actions=np.asarray(clip.actions).tolist(),
        states=states,
    )

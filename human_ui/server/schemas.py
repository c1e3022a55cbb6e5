"""The JSON bodies of the label server's API, version 1 (docs/API.md).

Request bodies refuse unknown fields and out-of-range values (a 422 that names the field);
response models fix what a reply may hold, so no field reaches a student by accident (no
true reward, no other student's answer).

Classes:
    JoinIn, JoinOut, LeaseIn, ClipOut, PairOut, LeasesOut, AnswerIn, AnswerOut, UndoOut,
    MeOut, TaskOut, StatusOut, MyAnswer, MyAnswersOut, SnapshotOut, ClassIn, ClassOut,
    DashboardOut: one per body.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

API_VERSION = 1
MAX_ID = 2**62


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class JoinIn(_In):
    code: str = Field(min_length=1, max_length=20, description="the class's join code")
    name: str = Field(min_length=1, max_length=40, description="the student's name")


class JoinOut(BaseModel):
    token: str
    name: str
    annotator: str
    client_id: str
    expires_at: float


class LeaseIn(_In):
    count: int = Field(2, ge=1, le=5, description="pairs to lease: the one to show, and next")


class ClipOut(BaseModel):
    clip_uid: str
    video_url: str
    snapshot_url: str
    num_frames: int
    fps: int
    width: int
    height: int


class PairOut(BaseModel):
    query_id: int
    round: int
    lease_expires: float
    left: ClipOut
    right: ClipOut


class LeasesOut(BaseModel):
    lease_s: float
    pairs: list[PairOut]


class AnswerIn(_In):
    query_id: int = Field(ge=1, le=MAX_ID)
    choice: Literal["left", "right", "equal", "skip"]
    confidence: Literal["much", "slightly"] | None = None
    seconds: float = Field(ge=0.0, le=7 * 86400.0, description="seconds the answer took")
    request_id: str | None = Field(
        None, pattern=r"^[0-9a-f]{32}$", description="the client's id of this answer (retries)"
    )


class AnswerOut(BaseModel):
    answer_id: int
    query_id: int
    answered: int


class UndoneOut(BaseModel):
    query_id: int
    choice: str


class UndoOut(BaseModel):
    undone: UndoneOut | None
    answered: int


class ReleaseOut(BaseModel):
    released: bool


class MeOut(BaseModel):
    role: Literal["student", "teacher"]
    name: str
    annotator: str | None
    client_id: str
    answered: int


class TaskOut(BaseModel):
    env_id: str | None
    goal: str | None
    title: str | None
    lines: list[str]


class QueueOut(BaseModel):
    pending: int
    answered: int


class MineOut(BaseModel):
    answered: int


class RunOut(BaseModel):
    phase: str
    mode: str
    env_id: str
    round: int | None
    num_rounds: int | None
    refits: int
    labels_answered: int
    labels_budget: int
    pending_queries: int
    env_steps: int
    env_steps_budget: int
    message: str
    ended: bool


class StatusOut(BaseModel):
    run: RunOut | None
    line: str
    queries: QueueOut
    mine: MineOut


class MyAnswer(BaseModel):
    query_id: int
    choice: str
    confidence: str | None
    seconds: float
    created: float


class MyAnswersOut(BaseModel):
    answers: list[MyAnswer]


class SnapshotOut(BaseModel):
    clip_uid: str
    env_id: str
    num_steps: int
    observations: list[Any]
    actions: list[Any]
    states: list[list[float]] | None


class ClassIn(_In):
    open: bool | None = None
    answers_per_query: int | None = Field(None, ge=1, le=10)
    shared_every: int | None = Field(None, ge=1, le=1000)
    lease_s: float | None = Field(None, ge=10.0, le=3600.0)
    new_join_code: bool = False


class StudentOut(BaseModel):
    name: str
    client_id: str
    joined: float
    answered: int


class ClassOut(BaseModel):
    join_code: str
    open: bool
    answers_per_query: int
    shared_every: int
    lease_s: float
    students: list[StudentOut]


class StudentStats(BaseModel):
    name: str
    answered: int
    answers_per_minute: float
    seconds_per_label: float | None
    agreement_with_majority: float | None


class MinuteOut(BaseModel):
    minute: int
    answers: int


class AgreementOut(BaseModel):
    shared_queries: int
    fleiss_kappa: float | None


class ModelOut(BaseModel):
    validation_accuracy: float
    round: float | None


class ReturnPoint(BaseModel):
    round: float | None
    env_steps: float
    true_return: float


class DashboardOut(BaseModel):
    students: list[StudentStats]
    answers_per_minute: list[MinuteOut]
    agreement: AgreementOut
    run: RunOut | None
    reward_model: ModelOut | None
    true_return: list[ReturnPoint]
    video_url: str | None


class HealthOut(BaseModel):
    status: str
    api_version: int
    env_id: str | None

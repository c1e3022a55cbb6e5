"""Bearer tokens: who is asking, and whether they may.

Every route but health, join and the API's description takes ``Authorization: Bearer
<token>``; the video and snapshot routes also take ``?token=`` (a ``<video>`` element sends
no headers). An unknown or expired token is a 401 with ``WWW-Authenticate: Bearer``; a
student on a teacher's route a 403.

Functions:
    member: the dependency giving the member of the header's token.
    media_member: the same, also reading ``?token=``.
    teacher: the dependency that lets only the teacher through.
    student: the dependency that lets only a student through.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from human_ui.server.class_db import Member, Role
from human_ui.server.context import ServerContext

_FIX = "join the class again, or ask the teacher for a token"


def context_of(request: Request) -> ServerContext:
    """The server's shared parts."""
    return request.app.state.context


def _unauthorized(why: str) -> HTTPException:
    return HTTPException(401, f"{why}; {_FIX}", headers={"WWW-Authenticate": "Bearer"})


def _lookup(request: Request, token: str | None) -> Member:
    if not token:
        raise _unauthorized("no token: send the header 'Authorization: Bearer <token>'")
    found = context_of(request).classes.member(token)
    if found is None:
        raise _unauthorized("unknown or expired token")
    return found


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def member(request: Request) -> Member:
    """The member whose token the request's header carries."""
    return _lookup(request, _bearer(request))


def media_member(request: Request) -> Member:
    """The member of the header's token, or of ``?token=`` (video and snapshot routes)."""
    return _lookup(request, _bearer(request) or request.query_params.get("token"))


def teacher(who: Annotated[Member, Depends(member)]) -> Member:
    """Only the teacher."""
    if who.role is not Role.TEACHER:
        raise HTTPException(403, "this route is the teacher's; use the teacher's token")
    return who


def student(who: Annotated[Member, Depends(member)]) -> Member:
    """Only a student (the teacher reads, but does not answer)."""
    if who.role is not Role.STUDENT:
        raise HTTPException(403, "only students answer; join the class with its code")
    return who


AnyMember = Annotated[Member, Depends(member)]
"""A route's parameter: the member of the header's token."""
MediaMember = Annotated[Member, Depends(media_member)]
"""A route's parameter: the member of the header's or the query's token."""
Teacher = Annotated[Member, Depends(teacher)]
"""A route's parameter: the teacher."""
Student = Annotated[Member, Depends(student)]
"""A route's parameter: a student."""

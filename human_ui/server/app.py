"""The label server's ASGI app: the API's routes, its errors, its limits, and its pages.

:func:`create_app` makes a FastAPI app over one store. Its parts (the store, the class's
database, the clip videos) are opened when the app starts and closed when it stops
(``lifespan``). The API's description is OpenAPI at ``/api/v1/openapi.json`` (browsable at
``/api/v1/docs``). Errors are one JSON line each (``{"detail": ...}``): a store's refusal of
an answer is 422 (409 when the query is not leased to the asker), a body that is not JSON
400, a body over the limit 413; a request that fails stores nothing.

Classes:
    BodyLimit: ASGI middleware refusing request bodies over a size with 413.

Functions:
    create_app: the app of one store.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from hfrl_gym.errors import HfrlError, NotClaimedError, StoreError
from human_ui.server import live_routes, routes_student, routes_teacher
from human_ui.server.context import ServerContext, ServerSettings
from human_ui.server.pages import add_pages
from human_ui.server.schemas import API_VERSION


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, before any route reads them.

    A ``Content-Length`` over the limit is refused at once; a body without one (chunked)
    is counted as it arrives.
    """

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        too_big = length is not None and (not length.isdigit() or int(length) > self.max_bytes)
        if not too_big and length is None and scope.get("method") in {"POST", "PUT", "PATCH"}:
            chunks, size, more = [], 0, True
            while more:
                message = await receive()
                chunks.append(message)
                size += len(message.get("body", b""))
                more = message.get("more_body", False) and size <= self.max_bytes
            too_big = size > self.max_bytes
            if not too_big:
                replay = iter(chunks)

                async def receive() -> dict:
                    return next(replay, {"type": "http.disconnect"})

        if too_big:
            detail = f"request body over {self.max_bytes} bytes; send a smaller body"
            response = JSONResponse({"detail": detail}, status_code=413)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _not_json(problem: dict) -> bool:
    """A validation problem that says the body was not JSON at all."""
    raw = tuple(problem.get("loc") or ()) == ("body",) and isinstance(problem.get("input"), bytes)
    return problem.get("type") == "json_invalid" or raw


def _errors(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = error.errors()
        if any(_not_json(problem) for problem in problems):
            return JSONResponse({"detail": "the body is not JSON; send a JSON object"}, 400)
        fields = ("type", "loc", "msg")  # not the input: it may be huge, or NaN (not JSON)
        detail = [{key: problem.get(key) for key in fields} for problem in problems]
        detail = json.loads(json.dumps(detail, default=str))  # plain JSON
        return JSONResponse({"detail": detail}, 422)

    @app.exception_handler(NotClaimedError)
    async def not_claimed(request: Request, error: NotClaimedError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, 409)

    @app.exception_handler(StoreError)
    async def refused(request: Request, error: StoreError) -> JSONResponse:
        busy = "busy" in str(error)
        return JSONResponse({"detail": str(error)}, 503 if busy else 422)

    @app.exception_handler(HfrlError)
    async def mistake(request: Request, error: HfrlError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, 422)


def create_app(settings: ServerSettings) -> FastAPI:
    """The label server's app over the store of ``settings.target``.

    Raises:
        ConfigError: the target is neither a run folder nor a store file (when it starts).
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.context = ServerContext(settings)
        try:
            yield
        finally:
            app.state.context.close()

    app = FastAPI(
        title="hfrl label server",
        version=f"{API_VERSION}.0",
        description="Label a training run's queries from a browser or a remote window "
        "(docs/API.md).",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    _errors(app)
    app.include_router(routes_student.router)
    app.include_router(routes_teacher.router)
    app.include_router(live_routes.router)  # a live lesson's (hfrl lesson live)
    add_pages(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app

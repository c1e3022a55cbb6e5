"""A client of the label server's HTTP API, version 1 (docs/API.md), on the standard library.

The desktop window (``hfrl label http://HOST:PORT --token T``, through
:class:`~human_ui.server_source.ServerSource`) and ``scripts/bench_server.py`` speak to
``hfrl serve`` through it. It loads neither pygame nor the web framework, only ``http.client``
and ``json``. Each thread keeps its own keep-alive connection (the window's prefetch thread
fetches clips while its main thread leases and answers); a connection idle for longer than
the server keeps it open is replaced before it is used, so a request is never sent into a
connection the server already closed.

Errors (:mod:`human_ui.source_errors`): a server that cannot be reached, times out or answers
503 raises :class:`~human_ui.source_errors.SourceUnavailableError`; a 4xx reply raises
:class:`ServerRefusedError` with the status and the server's one-line ``detail``. Requests
that are safe to repeat (every ``GET``, leases, and answers, which carry a ``request_id`` the
server recognises) are sent once more on a broken connection; undo is not.

Classes:
    ServerClient: the calls of one token.
    ServerRefusedError: a 4xx reply.

Functions:
    split_url: the scheme, host and port of a server address, checked.
    is_server_url: whether a ``hfrl label`` argument names a server rather than a store.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import urllib.parse
import uuid
from typing import Any

from hfrl_gym.errors import ConfigError
from human_ui.source_errors import SourceError, SourceUnavailableError

API_PREFIX = "/api/v1"
"""Every route of version 1 is under this path."""

IDLE_RECONNECT_S = 2.0
"""A kept-alive connection idle this long is replaced before use (uvicorn closes at 5 s)."""


class ServerRefusedError(SourceError):
    """The server refused a request (4xx): ``status`` and its one-line ``detail``.

    Example:
        >>> error = ServerRefusedError(409, "query 3 is not leased to you", "POST /answers")
        >>> error.status, str(error)
        (409, 'POST /answers: 409 query 3 is not leased to you')
    """

    def __init__(self, status: int, detail: str, what: str) -> None:
        super().__init__(f"{what}: {status} {detail}")
        self.status = status
        self.detail = detail


def is_server_url(text: str) -> bool:
    """Whether ``text`` names a label server (``http://`` or ``https://``).

    Example:
        >>> is_server_url("http://127.0.0.1:8000"), is_server_url("runs/x")
        (True, False)
    """
    return text.lower().startswith(("http://", "https://"))


def split_url(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a server address such as ``http://10.0.0.5:8000``.

    Raises:
        ConfigError: not an ``http(s)://host[:port]`` address.

    Example:
        >>> split_url("http://127.0.0.1:8000/")
        ('http', '127.0.0.1', 8000)
        >>> split_url("https://labels.example.org")
        ('https', 'labels.example.org', 443)
    """
    parts = urllib.parse.urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        raise ConfigError(
            f"{url!r} is not a label server address: give http://HOST:PORT as printed by "
            "`hfrl serve`"
        )
    if parts.path.strip("/") or parts.query:
        raise ConfigError(f"{url!r}: give the server's address only, http://HOST:PORT")
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname, port or default


def _detail(body: bytes) -> str:
    try:
        detail = json.loads(body)["detail"]
    except (ValueError, KeyError, TypeError):
        return body[:200].decode("utf-8", "replace").strip() or "(no detail)"
    return detail if isinstance(detail, str) else json.dumps(detail)[:300]


class ServerClient:
    """The API calls of one token (a student's, or the teacher's).

    Args:
        url: the server's address, ``http://HOST:PORT``.
        token: the bearer token (``None``: only the routes without one, such as join).
        timeout_s: seconds to wait for a connection or a reply.

    Example:
        >>> client = ServerClient("http://127.0.0.1:9", token="t", timeout_s=1)
        >>> try:
        ...     client.health()
        ... except SourceUnavailableError as error:
        ...     print(str(error).split(" (")[0])
        the label server http://127.0.0.1:9 cannot be reached
    """

    def __init__(self, url: str, token: str | None = None, *, timeout_s: float = 15.0) -> None:
        self.scheme, self.host, self.port = split_url(url)
        self.url = f"{self.scheme}://{self.host}:{self.port}"
        self.token = token
        self.timeout_s = timeout_s
        self._local = threading.local()

    # -- transport -----------------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        idle = time.monotonic() - getattr(self._local, "used", 0.0)
        if connection is not None and idle > IDLE_RECONNECT_S:
            connection.close()
            connection = None
        if connection is None:
            kind = (
                http.client.HTTPSConnection
                if self.scheme == "https"
                else http.client.HTTPConnection
            )
            connection = kind(self.host, self.port, timeout=self.timeout_s)
            self._local.connection = connection
        return connection

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
        self._local.connection = None

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        self._drop_connection()

    def request(
        self, method: str, path: str, body: Any = None, *, retry: bool = True
    ) -> tuple[int, bytes, dict[str, str]]:
        """Send one request; the reply's status, body and headers (lower-case names).

        Args:
            method: ``GET``, ``POST``, ...
            path: the path under :data:`API_PREFIX` (``"/leases"``), or a full path (``/...``
                starting with ``/api/``).
            body: a JSON-able body (``None``: none).
            retry: send once more on a broken connection (only for requests safe to repeat).

        Raises:
            SourceUnavailableError: the server cannot be reached or did not reply in time.
        """
        full = path if path.startswith("/api/") else API_PREFIX + path
        headers = {"Accept": "application/json"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            connection = self._connection()
            try:
                connection.request(method, full, body=data, headers=headers)
                reply = connection.getresponse()
                content = reply.read()
            except (OSError, http.client.HTTPException) as error:
                self._drop_connection()
                if attempt == 1 and retry and not isinstance(error, socket.timeout):
                    continue
                raise SourceUnavailableError(
                    f"the label server {self.url} cannot be reached ({error.__class__.__name__}: "
                    f"{error}); is `hfrl serve` running there?"
                ) from None
            self._local.used = time.monotonic()
            if reply.getheader("Connection", "").lower() == "close":
                self._drop_connection()
            return reply.status, content, {k.lower(): v for k, v in reply.getheaders()}
        raise AssertionError("unreachable")  # pragma: no cover

    def call(self, method: str, path: str, body: Any = None, *, retry: bool = True) -> Any:
        """Send a request and return its JSON reply.

        Raises:
            SourceUnavailableError: unreachable, or 503 (busy: try again).
            ServerRefusedError: a 4xx reply.
            SourceError: a reply that is not the API's (5xx, not JSON).
        """
        status, content, _ = self.request(method, path, body, retry=retry)
        what = f"{method} {path}"
        if status == 503:
            raise SourceUnavailableError(
                f"the label server {self.url} is busy ({_detail(content)}); try again"
            )
        if 400 <= status < 500:
            raise ServerRefusedError(status, _detail(content), what)
        if status >= 300:
            raise SourceError(f"{what}: the server failed with {status}: {_detail(content)}")
        try:
            return json.loads(content)
        except ValueError:
            raise SourceError(
                f"{what}: {self.url} replied with something that is not JSON; is it an hfrl "
                "label server (`hfrl serve`)?"
            ) from None

    # -- the API -------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``GET /health``: ``status``, ``api_version``, ``env_id``."""
        return self.call("GET", "/health")

    def join(self, code: str, name: str) -> dict[str, Any]:
        """``POST /join``: a student's ``token``, ``annotator`` and ``client_id``."""
        return self.call("POST", "/join", {"code": code, "name": name}, retry=False)

    def me(self) -> dict[str, Any]:
        """``GET /me``: ``role``, ``name``, ``annotator``, ``client_id``, ``answered``."""
        return self.call("GET", "/me")

    def task(self) -> dict[str, Any]:
        """``GET /task``: the task card's words (``env_id``, ``goal``, ``title``, ``lines``)."""
        return self.call("GET", "/task")

    def status(self) -> dict[str, Any]:
        """``GET /status``: the run (no returns), its line, the queries' and my counts."""
        return self.call("GET", "/status")

    def lease(self, count: int = 2) -> dict[str, Any]:
        """``POST /leases``: up to ``count`` (1-5) pairs leased to this token, renewed."""
        return self.call("POST", "/leases", {"count": int(count)})

    def answer(
        self,
        query_id: int,
        choice: str,
        *,
        seconds: float,
        confidence: str | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """``POST /answers``: committed before the reply (``answer_id``, ``answered``).

        ``request_id`` (default: a new one) makes a repeated request store nothing new.
        """
        body = {
            "query_id": int(query_id),
            "choice": choice,
            "confidence": confidence,
            "seconds": float(seconds),
            "request_id": request_id or uuid.uuid4().hex,
        }
        return self.call("POST", "/answers", body)

    def release(self) -> dict[str, Any]:
        """``DELETE /leases``: gives back every pair leased to this token (``released``)."""
        return self.call("DELETE", "/leases")

    def undo(self) -> dict[str, Any]:
        """``POST /undo``: deletes this student's newest answer (``undone``, ``answered``)."""
        return self.call("POST", "/undo", retry=False)

    def my_answers(self) -> list[dict[str, Any]]:
        """``GET /answers/mine``: this student's answers, oldest first."""
        return list(self.call("GET", "/answers/mine")["answers"])

    def snapshot(self, clip_uid: str) -> dict[str, Any]:
        """``GET /clips/{uid}/snapshot``: observations, actions and states (no rewards)."""
        return self.call("GET", f"/clips/{urllib.parse.quote(clip_uid, safe='')}/snapshot")

    def video(self, video_url: str) -> bytes:
        """The bytes of a clip's video (its ``video_url`` from a lease).

        Raises:
            ServerRefusedError: a 4xx reply (not leased, unknown clip).
            SourceUnavailableError: unreachable or busy.
        """
        status, content, _ = self.request("GET", video_url)
        if status == 503:
            raise SourceUnavailableError(f"the label server {self.url} is busy; try again")
        if status >= 400:
            raise ServerRefusedError(status, _detail(content), f"GET {video_url}")
        return content

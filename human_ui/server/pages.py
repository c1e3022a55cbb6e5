"""The label server's browser pages: the label page, the teacher's dashboard and their files.

Plain HTML, CSS and JavaScript modules in ``static/`` (no build step, nothing fetched from
elsewhere), served by the same app as the API they call (docs/API.md). The pages may talk
only to this server: each is sent with a Content-Security-Policy that allows scripts, styles,
media and requests from its own origin and the videos it holds in memory (``blob:``).

Functions:
    add_pages: adds ``GET /``, ``GET /teacher`` and ``/static/`` to an app.

Attributes:
    STATIC_DIR: the folder of the pages' files.
    PAGE_HEADERS: the headers every page is sent with.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().with_name("static")

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; media-src 'self' blob:; img-src 'self' data: blob:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def add_pages(app: FastAPI) -> None:
    """Adds the label page (``/``), the dashboard (``/teacher``) and their files (``/static/``).

    The pages are outside the API: they carry no token (each page asks for one and keeps it
    in the browser) and are left out of the OpenAPI description.

    Example:
        >>> from fastapi.testclient import TestClient
        >>> app = FastAPI()
        >>> add_pages(app)
        >>> client = TestClient(app)
        >>> page = client.get("/teacher")
        >>> page.headers["content-type"], page.headers["content-security-policy"][:19]
        ('text/html; charset=utf-8', "default-src 'self';")
        >>> client.get("/static/label.js").headers["content-type"]
        'text/javascript; charset=utf-8'
        >>> client.get("/static/%2e%2e/pages.py").status_code
        404
    """
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def label_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers=PAGE_HEADERS)

    @app.get("/teacher", include_in_schema=False)
    def teacher_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "teacher.html", headers=PAGE_HEADERS)

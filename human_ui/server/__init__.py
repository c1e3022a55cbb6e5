"""The label server (``hfrl serve``): a class labels one run from browsers and remote windows.

An ASGI app (FastAPI on uvicorn) in front of one label store; the HTTP API is documented in
docs/API.md and served as OpenAPI at ``/api/v1/openapi.json``. This package never imports
pygame nor the window modules, and the windows never import the web framework (import-linter
contracts in pyproject.toml); clips are rendered in worker processes.

Modules:
    cli: ``hfrl serve`` (parsing, the teacher's token, uvicorn).
    app: ``create_app``: routes, errors, the body limit, the pages.
    context: the store, the class database and the videos a server shares.
    auth: bearer tokens and roles.
    class_db: the class's database beside the store (join code, hashed tokens).
    schemas: the JSON bodies (pydantic).
    routes_student: join, pairs (leases), answers, undo, clips.
    routes_teacher: class settings, dashboard, exports, the run's video.
    dashboard: pace, agreement (Fleiss' kappa, against the majority, pairwise), run metrics.
    live_folder: a live lesson's folder (``hfrl lesson live``): its run, rounds, comparison.
    live_routes: a live lesson's routes: the agent's video per round, the comparison.
    videos: the clips' WebM cache, rendered ahead of demand.
    render_job: rendering and encoding in a worker process.
    pages: the browser pages (``/``, ``/teacher``) and their files in ``static/``.
"""

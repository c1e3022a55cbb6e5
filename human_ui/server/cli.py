"""``hfrl serve RUN_OR_STORE``: the label server, started by one command.

It listens on 127.0.0.1:8000 by default; another ``--host`` (``0.0.0.0``: every interface)
is an explicit choice, printed with the join address and a warning that HTTP is not
encrypted. At the first start for a store it makes the teacher's token and prints it once
(``--new-teacher-token`` makes another); the join code is printed at every start.

Functions:
    build_parser: the ``hfrl serve`` parser.
    main: the entry point (``main(argv)``, argv starting with ``serve``).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from hfrl_gym.errors import ConfigError
from human_ui.server.class_db import ClassDatabase, class_database_path
from human_ui.server.context import ServerSettings, resolve_store

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DEFAULT_WORKERS = max(1, min(4, (os.cpu_count() or 2) // 2))
"""Render workers by default: half the CPUs (the rest serve requests and train), 1 to 4."""


def build_parser() -> argparse.ArgumentParser:
    """The ``hfrl serve`` parser."""
    parser = argparse.ArgumentParser(
        prog="hfrl serve",
        description="Serve a run's (or a store's) queries to a class over HTTP (docs/API.md).",
    )
    parser.add_argument(
        "target",
        metavar="RUN_OR_STORE",
        type=Path,
        help="a run folder of `hfrl train` or a label store file",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; 0.0.0.0: the network)",
    )
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--token-days",
        type=float,
        default=7.0,
        help="days a student's token stays valid (default 7)",
    )
    parser.add_argument(
        "--lease-s",
        type=float,
        default=None,
        help="seconds a leased pair stays a student's (10-3600; a new class: 300)",
    )
    parser.add_argument(
        "--render-workers",
        type=int,
        default=DEFAULT_WORKERS,
        help=f"processes rendering clip videos (default: half the CPUs, 1-4: {DEFAULT_WORKERS})",
    )
    parser.add_argument(
        "--new-teacher-token",
        action="store_true",
        help="make a new teacher token (the old one stops working)",
    )
    return parser  # fmt: skip


def _join_address(host: str, port: int) -> str:
    if host in ("0.0.0.0", "::"):
        try:
            host = socket.gethostbyname(socket.gethostname())
        except OSError:
            host = "THIS-MACHINE"
    return f"http://{host}:{port}/"


def prepare(args: argparse.Namespace) -> tuple[ServerSettings, list[str]]:
    """The server's settings and the lines to print (the teacher's token once, the code)."""
    if not 0 < args.port < 65536:
        raise ConfigError(f"--port must be 1-65535, got {args.port}")
    if args.render_workers < 1:
        raise ConfigError(f"--render-workers must be >= 1, got {args.render_workers}")
    if args.lease_s is not None and not 10 <= args.lease_s <= 3600:
        raise ConfigError(f"--lease-s must be 10-3600 seconds, got {args.lease_s}")
    if not args.token_days > 0:
        raise ConfigError(f"--token-days must be > 0, got {args.token_days}")
    store_path, _ = resolve_store(args.target)
    settings = ServerSettings(
        target=args.target,
        token_days=args.token_days,
        render_workers=args.render_workers,
    )
    classes = ClassDatabase(class_database_path(store_path))
    try:
        if args.lease_s is not None:
            classes.change(lease_s=args.lease_s)
        lines, token = [], None
        if args.new_teacher_token or not classes.has_teacher():
            token = classes.new_teacher_token()
            lines.append(f"teacher token: {token}  (shown once; keep it; --new-teacher-token)")
        else:
            lines.append("teacher token: as printed at the first start (--new-teacher-token)")
        address = _join_address(args.host, args.port)
        code = classes.settings().join_code
        lines.append(f"join code: {code}  at {address}?code={code}")
        # The token goes after '#': a browser never sends it, the page keeps it (docs/UI.md).
        dashboard = f"{address}teacher" + (f"#token={token}" if token else "")
        lines.append(f"dashboard: {dashboard}  API: {address}api/v1/docs")
    finally:
        classes.close()
    if args.host not in LOOPBACK:
        lines.append(
            f"warning: listening on {args.host}: anyone on the network can reach this server, "
            "and HTTP is not encrypted (tokens and answers travel in the clear)"
        )
    return settings, lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``hfrl serve`` until interrupted."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "serve":
        argv = argv[1:]
    args = build_parser().parse_args(argv)
    settings, lines = prepare(args)
    import uvicorn

    from human_ui.server.app import create_app

    for line in lines:
        print(line, flush=True)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning")
    return 0

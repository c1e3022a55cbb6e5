"""``hfrl label http://HOST:PORT --token T``: the desktop window as a client of the label server.

The same window as on a store (:class:`~human_ui.compare.CompareWindow` over
:class:`~human_ui.compare_state.CompareState`), with a
:class:`~human_ui.server_source.ServerSource` as its source: pairs leased by the server,
clips rendered here from their snapshots (in the prefetch thread, as on a store; no disk
cache: the snapshots come from another machine), answers and undo through the API, progress
and the run's status line from ``GET /status``. The annotator is the name the token was made
for; the task card is text only (its examples are chosen by the true return, which never
comes over the API).

A student without a token joins from here: ``hfrl label URL --join CODE --annotator NAME``
prints the token to continue with later.

Classes:
    ServerLabelConfig: the options of ``hfrl label URL``.

Functions:
    join_class: join with the class's code and a name; the token.
    run_server_label: the window on a server, until the person quits (or it is done).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pygame

from hfrl_gym.envs import Goal, get_goal, goals_for
from hfrl_gym.errors import ConfigError
from human_ui.app import LabelOutcome, describer_of, open_window
from human_ui.compare import CompareWindow
from human_ui.compare_state import CompareState
from human_ui.prefetch import PairPrefetcher
from human_ui.script import ScriptPlayer, load_script
from human_ui.server_client import ServerClient
from human_ui.server_source import ServerSource
from human_ui.task_card import SeenCards, TaskCards

API_VERSION = 1
"""The API version this client speaks (docs/API.md)."""

SERVER_POLL_S = 2.0
"""Seconds between the window's leases-and-status requests (the server's lease lasts minutes)."""


@dataclass
class ServerLabelConfig:
    """Options of ``hfrl label URL``.

    Attributes:
        url: the server's address, ``http://HOST:PORT``.
        token: the student's token.
        size: window size in pixels.
        fps: window frames per second.
        clip_fps: clip frames per second at 1x speed.
        prefetch: pairs rendered ahead of the shown one (at most the leased ones).
        script: scripted input file (see :mod:`human_ui.script`).
        max_frames: close after this many frames (tests).
        exit_when_done: close when nothing is leased, instead of waiting for new queries.
        close_with_run: close when the server's training run finishes or stops.

    Example:
        >>> ServerLabelConfig("http://127.0.0.1:8000", "t").prefetch
        3
    """

    url: str
    token: str
    size: tuple[int, int] = (1280, 800)
    fps: int = 60
    clip_fps: float = 30.0
    prefetch: int = 3
    script: Path | None = None
    max_frames: int | None = None
    exit_when_done: bool = False
    close_with_run: bool = False


def _check_server(client: ServerClient) -> None:
    health = client.health()
    if health.get("api_version") != API_VERSION:
        raise ConfigError(
            f"{client.url} speaks API version {health.get('api_version')!r}; this hfrl speaks "
            f"{API_VERSION}: use the same hfrl version as the server (or the browser page)"
        )


def join_class(url: str, code: str, name: str) -> str:
    """Join the class at ``url`` with its join code and a name; the student's token.

    Raises:
        ServerRefusedError: a wrong code, a closed class, or a name taken.
        SourceUnavailableError: the server cannot be reached.
    """
    client = ServerClient(url)
    _check_server(client)
    return str(client.join(code, name)["token"])


def _task_cards(client: ServerClient, *, scripted: bool) -> tuple[TaskCards, str]:
    goal_name = client.task().get("goal") or "task"

    def goal_for(env_id: str) -> Goal:
        name = goal_name if goal_name in goals_for(env_id) else "task"
        return get_goal(env_id, name)

    describe = describer_of(goal_name)
    cards = TaskCards(describe, goal_for=goal_for, seen=None if scripted else SeenCards())
    return cards, goal_name


def run_server_label(config: ServerLabelConfig) -> LabelOutcome:
    """Open the comparison window on a label server and label until the person quits.

    Every answer is committed by the server before the window moves on.

    Raises:
        ConfigError: a bad address, option or script; a teacher's token; another API version.
        ServerRefusedError: the token is unknown or expired.
        SourceUnavailableError: the server cannot be reached.
        RenderError: no window can be opened.
    """
    client = ServerClient(config.url, config.token)
    _check_server(client)
    source = ServerSource(client)
    steps = [] if config.script is None else load_script(config.script)
    script = ScriptPlayer(steps) if steps else None
    cards, _ = _task_cards(client, scripted=script is not None)
    open_window(config.size, f"hfrl label {client.url}")
    prefetcher = None
    try:
        state = CompareState(
            source,
            source.annotator,
            clip_fps=config.clip_fps,
            poll_s=SERVER_POLL_S,
            lookahead=config.prefetch,
        )
        prefetcher = PairPrefetcher(source.pair, max_pairs=config.prefetch + 2)
        window = CompareWindow(
            state,
            prefetcher,
            describe_goal=cards.describe_goal,
            title=f"hfrl label {client.url} · {source.annotator}",
            fps=config.fps,
            script=script,
            max_frames=config.max_frames,
            exit_when_done=config.exit_when_done,
            task_cards=cards,
            run_status=source.run_view,
            close_with_run=config.close_with_run,
        )
        window.run()
        state.refresh()
        state.release()
        pending = state.progress.pending
        return LabelOutcome(
            annotator=source.annotator,
            answers_given=state.session_answers,
            pending=pending,
            quit_early=pending > 0,
        )
    finally:
        if prefetcher is not None:
            prefetcher.close()
        cards.close()
        client.close()
        pygame.display.quit()

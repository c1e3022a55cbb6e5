"""The play window under the dummy video driver: events through ``PlayWindow.handle_event``,
and what ``draw`` leaves on the surface (the message strip must not hide the scene)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pygame
import pytest

from hfrl_gym.store import LabelStore
from human_ui.app import open_window
from human_ui.play import PlayConfig, PlayWindow, play_layout, play_message, run_play
from human_ui.play_state import PlaySession
from human_ui.widgets import Theme, fit_rect

SIZE = (640, 480)


@pytest.fixture
def window() -> Iterator[PlayWindow]:
    open_window(SIZE, "test play")
    session = PlaySession("hfrl/CartPole-v0", store=None, clip_num_steps=10)
    yield PlayWindow(session, fps=1000)
    session.close()
    pygame.display.quit()


def _key(window: PlayWindow, key: int) -> None:
    window.handle_event(pygame.event.Event(pygame.KEYDOWN, key=key, unicode=""))


def _picture(window: PlayWindow) -> np.ndarray:
    """The scene's rectangle of the window, as ``(H, W, 3)`` after :meth:`PlayWindow.draw`."""
    window.draw()
    _, _, view, _ = play_layout(window.surface.get_size())
    target = fit_rect(window.session.frame().shape[1::-1], view)
    pixels = pygame.surfarray.array3d(window.surface).transpose(1, 0, 2)
    return pixels[target.top : target.bottom, target.left : target.right].astype(int)


def _covered_rows(with_message: np.ndarray, without: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.abs(with_message - without).sum(axis=2).max(axis=1) > 0)


def test_the_start_message_leaves_the_scene_in_view(window: PlayWindow) -> None:
    session = window.session
    assert "Press a key" in (play_message(session) or "")
    waiting = _picture(window)
    session.waiting = False  # the same scene, without a message
    assert play_message(session) is None
    plain = _picture(window)
    rows = _covered_rows(waiting, plain)
    assert len(rows) > 0  # the message is drawn...
    assert rows.max() < 0.15 * plain.shape[0]  # ...in a strip at the top of the picture
    strip = waiting[: rows.max() + 1].reshape(-1, 3)
    # translucent: the white scene lightens the strip beyond the panel's own colour
    assert (np.median(strip, axis=0) > np.array(Theme.PANEL) + 40).all()


def test_the_crash_banner_is_a_strip_not_a_cover(window: PlayWindow) -> None:
    session = window.session
    _key(window, pygame.K_RIGHT)
    while not session.over:
        session.update()
    assert "crashed" in (play_message(session) or "")
    over = _picture(window)
    session.over = False  # the same crashed scene, without the banner
    session.absorbed = False
    plain = _picture(window)
    rows = _covered_rows(over, plain)
    assert 0 < rows.max() < 0.15 * plain.shape[0]


def test_help_pauses_the_running_episode(window: PlayWindow) -> None:
    session = window.session
    _key(window, pygame.K_SPACE)
    window.max_frames = 3
    window.run()
    assert session.step_index == 3
    _key(window, pygame.K_h)
    window.max_frames = 10
    window.run()
    assert (session.step_index, session.show_help) == (3, True)
    _key(window, pygame.K_h)
    window.max_frames = 12
    window.run()
    assert session.step_index == 5


def test_run_play_records_only_what_the_person_played(tmp_path: Path) -> None:
    script = tmp_path / "play.jsonl"
    script.write_text(
        '{"frames": 20, "key": "space"}\n'  # the episode waits 20 frames for this
        '{"frames": 1, "key": "right", "hold": 200}\n'
    )
    config = PlayConfig(
        "hfrl/CartPole-v0",
        tmp_path / "demos.sqlite",
        clip_num_steps=10,
        fps=1000,
        size=SIZE,
        script=script,
        max_frames=150,
    )
    recorded = run_play(config)
    with LabelStore(config.store, create=False) as store:
        clips = store.get_clips(store.clip_uids())
    assert recorded == len(clips) > 0
    assert all(clip.policy == "human" and clip.start_step % 10 == 0 for clip in clips)
    assert all(not np.any(np.abs(clip.observations[0, 2]) >= np.pi / 2 - 1e-6) for clip in clips)
    assert len(clips) < 10  # crashed within the first hundred steps: no dead time recorded

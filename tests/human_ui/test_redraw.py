"""Redrawing only on change: a still window does not redraw every tick; a playing one does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pygame
import pytest

from hfrl_gym.store import LabelStore
from human_ui.app import open_window
from human_ui.compare import CompareWindow
from human_ui.compare_state import CompareState
from human_ui.prefetch import PairPrefetcher
from human_ui.redraw import RedrawGate
from tests.ui_helpers import make_query_store


def test_gate_redraws_on_change_while_moving_and_rarely_when_still() -> None:
    now = [0.0]
    gate = RedrawGate(idle_redraw_s=1.0, clock=lambda: now[0])
    draws = []
    for tick in range(120):  # two seconds at 60 ticks a second, nothing changes
        now[0] = tick / 60
        draws.append(gate.due(("All caught up", 0)))
    assert sum(draws) == 2  # the first tick, then once a second
    assert gate.due(("pair", 1))  # a change: at once
    assert not gate.due(("pair", 1))
    assert all(gate.due(("pair", 1), moving=True) for _ in range(5))


def _window(tmp_path: Path, num_queries: int) -> tuple[CompareWindow, LabelStore]:
    make_query_store(tmp_path / "labels.sqlite", num_queries)
    open_window((800, 600), "test")
    store = LabelStore(tmp_path / "labels.sqlite", create=False)
    state = CompareState(store, "ana", poll_s=3600)
    prefetcher = PairPrefetcher(store.pair)
    return CompareWindow(state, prefetcher, describe_goal=str), store


@pytest.fixture
def still_window(tmp_path: Path) -> Iterator[CompareWindow]:
    window, store = _window(tmp_path, 0)
    yield window
    window.prefetcher.close()
    store.close()
    pygame.display.quit()


def test_all_caught_up_is_drawn_once_not_every_tick(still_window: CompareWindow) -> None:
    still_window.max_frames = 8
    still_window.run()
    assert still_window.state.current is None
    assert still_window.redraw.redraws == 1  # 8 iterations, one picture (under a second)
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_h, unicode="h", mod=0))
    still_window.max_frames = 9
    still_window.run()  # the key wakes the sleeping loop and is drawn
    assert still_window.redraw.redraws == 2


def test_a_playing_pair_is_drawn_every_tick(tmp_path: Path) -> None:
    window, store = _window(tmp_path, 1)
    try:
        window.prefetcher.want([1], window.layout.left_box.size)
        assert window.prefetcher.wait(1, timeout_s=30) is not None
        window.max_frames = 10
        window.run()
        assert window.state.ready
        assert window.redraw.redraws == 10
    finally:
        window.prefetcher.close()
        store.close()
        pygame.display.quit()

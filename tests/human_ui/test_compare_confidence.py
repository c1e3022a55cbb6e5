"""Answering with a confidence in the comparison window: shift + arrow is "much better",
ctrl or alt + arrow "slightly better", an arrow alone gives none. Through the window's event
handling under the dummy video driver, into a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pygame
import pytest

from hfrl_gym.answers import Choice, Confidence
from hfrl_gym.store import LabelStore
from human_ui.app import open_window
from human_ui.commands import Command, command_for_key
from human_ui.compare import CompareWindow
from human_ui.compare_state import CompareState
from human_ui.prefetch import PairPrefetcher
from tests.ui_helpers import key, make_query_store

SIZE = (1280, 800)


def arrow(name: str, mod: int) -> pygame.event.Event:
    event = key(name)
    return pygame.event.Event(pygame.KEYDOWN, key=event.key, mod=mod, unicode="", scancode=0)


@pytest.mark.parametrize(
    ("name", "mod", "command"),
    [
        ("left", 0, Command.LEFT),
        ("right", pygame.KMOD_NUM | pygame.KMOD_CAPS, Command.RIGHT),  # locks give none
        ("left", pygame.KMOD_LSHIFT, Command.LEFT_MUCH),
        ("right", pygame.KMOD_RSHIFT, Command.RIGHT_MUCH),
        ("left", pygame.KMOD_LCTRL, Command.LEFT_SLIGHTLY),
        ("right", pygame.KMOD_RCTRL, Command.RIGHT_SLIGHTLY),
        ("right", pygame.KMOD_LALT, Command.RIGHT_SLIGHTLY),
        ("left", pygame.KMOD_SHIFT | pygame.KMOD_CTRL, Command.LEFT_MUCH),  # shift wins
        ("down", pygame.KMOD_SHIFT, Command.EQUAL),  # equal and skip have no confidence
        ("space", pygame.KMOD_CTRL, Command.SKIP),
    ],
)
def test_modifiers_on_the_arrows_give_a_confidence(name: str, mod: int, command: Command) -> None:
    assert command_for_key(arrow(name, mod)) is command


@pytest.fixture
def window(tmp_path: Path) -> Iterator[CompareWindow]:
    make_query_store(tmp_path / "labels.sqlite", 4)
    open_window(SIZE, "test")
    store = LabelStore(tmp_path / "labels.sqlite", create=False)
    prefetcher = PairPrefetcher(store.pair)
    state = CompareState(store, "ana", lookahead=2)
    yield CompareWindow(state, prefetcher, describe_goal=lambda env_id: env_id)
    prefetcher.close()
    store.close()
    pygame.display.quit()


def until_ready(window: CompareWindow, max_frames: int = 600) -> None:
    for _ in range(max_frames):
        window.update(1 / 60)
        window.draw()
        if window.state.ready:
            return
        window.prefetcher.wait(window.state.current, timeout_s=0.05)
    raise AssertionError("the pair never became ready")


def test_answers_keep_the_confidence_their_keys_gave(window: CompareWindow) -> None:
    state, store = window.state, window.state.store
    state.help_page = None  # the task card of a first use would take the first key
    presses = [
        ("left", pygame.KMOD_LSHIFT, "saved query 1: left is much better"),
        ("right", pygame.KMOD_LCTRL, "saved query 2: right is slightly better"),
        ("left", 0, "saved query 3: left is better"),
    ]
    for name, mod, message in presses:
        until_ready(window)
        window.handle_event(arrow(name, mod))
        assert state.message == message
    assert [(a.query_id, a.choice, a.confidence) for a in store.answers()] == [
        (1, Choice.LEFT, Confidence.MUCH),
        (2, Choice.RIGHT, Confidence.SLIGHTLY),
        (3, Choice.LEFT, None),
    ]
    assert [answer.target for _, answer in store.labelled_pairs()] == [1.0, 0.25, 1.0]
    window.handle_event(key("backspace"))
    window.handle_event(key("backspace"))
    assert state.message == "undid 'right is slightly better' on query 2"
    assert [a.query_id for a in store.answers()] == [1]


def test_a_confident_key_before_the_clips_appear_stores_nothing(window: CompareWindow) -> None:
    window.prefetcher.close()  # nothing renders: the pair never appears
    window.state.help_page = None
    window.update(1 / 60)
    window.handle_event(arrow("left", pygame.KMOD_LSHIFT))
    assert window.state.store.answers() == []
    assert window.state.message.startswith("left not saved: wait until the clips appear")


def test_review_changes_an_answer_to_a_confident_one(window: CompareWindow) -> None:
    state, store = window.state, window.state.store
    state.help_page = None
    until_ready(window)
    window.handle_event(arrow("left", 0))
    window.handle_event(key("r"))
    until_ready(window)
    window.handle_event(arrow("right", pygame.KMOD_LALT))
    assert state.message.startswith("query 1 changed to: right is slightly better (2 answers")
    assert store.latest_answers()[1].confidence is Confidence.SLIGHTLY
    assert [a.confidence for a in store.answers(query_id=1)] == [None, Confidence.SLIGHTLY]

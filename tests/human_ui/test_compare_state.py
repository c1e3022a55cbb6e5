"""The comparison state machine, driven by pygame key events (no window, no surfaces)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pygame
import pytest

from hfrl_gym.answers import Answer, Choice
from hfrl_gym.store import LabelStore
from human_ui.commands import ANSWER_COMMANDS, Command, HelpPage, Mode, command_for_key
from human_ui.compare_state import CompareState
from tests.ui_helpers import key, make_query_store


class FakeClock:
    """Monotonic seconds that only move when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LabelStore]:
    make_query_store(tmp_path / "labels.sqlite", 5)
    with LabelStore(tmp_path / "labels.sqlite", create=False) as opened:
        yield opened


def _state(store: LabelStore, clock: FakeClock | None = None, **kwargs: object) -> CompareState:
    state = CompareState(store, "ana", clock=clock or FakeClock(), **kwargs)
    state.update(0.0, frames_ready=True)
    return state


def _press(state: CompareState, *names: str) -> None:
    for name in names:
        state.handle_event(key(name))
        state.update(0.0, frames_ready=True)


def test_answer_keys_commit_each_answer_with_its_choice_and_time(store: LabelStore) -> None:
    clock = FakeClock()
    state = _state(store, clock)
    shown = []
    for name, seconds in (("left", 2.0), ("right", 1.0), ("down", 0.5), ("down", 3.0)):
        shown.append(state.current)
        clock.now += seconds
        _press(state, name)
    shown.append(state.current)
    _press(state, "space")
    records = store.answers(annotator="ana")
    assert [r.query_id for r in records] == shown == [1, 2, 3, 4, 5]
    assert [r.choice for r in records] == [
        Choice.LEFT,
        Choice.RIGHT,
        Choice.EQUAL,
        Choice.EQUAL,
        Choice.SKIP,
    ]
    assert [r.seconds for r in records[:4]] == [2.0, 1.0, 0.5, 3.0]
    assert state.done
    assert state.current is None
    assert (state.progress.answered, state.progress.pending, state.progress.total) == (5, 0, 5)


def test_no_answer_before_the_clips_are_shown(store: LabelStore) -> None:
    state = CompareState(store, "ana", clock=FakeClock(), clip_fps=10.0)
    state.handle_event(key("left"))
    assert store.answers() == []
    assert "left not saved" in state.message
    assert state.wait_notice == state.message
    _press_unready(state, "+", "p")  # playback keys act at once, before the clips show
    assert (state.playback.speed, state.playback.paused) == (2.0, True)
    assert state.wait_notice  # still waiting: the notice stays
    state.update(0.0, frames_ready=True)
    assert state.message == ""  # the clips are on screen: the notice goes at once
    state.handle_event(key("left"))
    assert len(store.answers()) == 1


def _press_unready(state: CompareState, *names: str) -> None:
    for name in names:
        state.handle_event(key(name))
        state.update(0.1, frames_ready=False)


def test_an_answer_with_no_pair_is_said_until_the_next_pair_shows(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    make_query_store(path, 1)
    clock = FakeClock()
    with LabelStore(path) as store:
        state = _state(store, clock, poll_s=1.0)
        _press(state, "left", "right")  # the second one finds no pair
        assert state.done
        assert state.message == "no pair to answer: waiting for queries"
        uids = store.clip_uids()
        store.add_queries([(uids[0], uids[1])])
        clock.now += 1.5
        state.update(0.1, frames_ready=False)
        assert state.current == 2
        assert state.message == ""  # not true any more
        assert len(store.answers()) == 1


def test_only_the_wait_notice_goes_when_the_clips_appear(store: LabelStore) -> None:
    state = CompareState(store, "ana", clock=FakeClock())
    state.handle_event(key("right"))
    _press_unready(state, "r")  # another message replaces the notice
    assert state.message == "nothing answered yet to review"
    state.update(0.0, frames_ready=True)
    assert state.message == "nothing answered yet to review"


def test_help_pages_task_card_then_keys_then_closed(store: LabelStore) -> None:
    state = _state(store)
    pages = []
    for _ in range(3):
        _press(state, "h")
        pages.append(state.help_page)
    assert pages == [HelpPage.TASK, HelpPage.KEYS, None]
    _press(state, "?", "escape")
    assert not state.show_help
    assert not state.quit_requested


def test_an_answer_key_over_the_help_closes_it_and_does_not_answer(store: LabelStore) -> None:
    state = _state(store)
    _press(state, "h", "left")
    assert store.answers() == []
    assert not state.show_help
    assert "help closed" in state.message
    _press(state, "left")
    assert [r.choice for r in store.answers()] == [Choice.LEFT]


def test_backspace_undoes_and_shows_that_pair_again(store: LabelStore) -> None:
    state = _state(store)
    _press(state, "left", "right")
    assert state.current == 3
    _press(state, "backspace")
    assert [r.query_id for r in store.answers()] == [1]
    assert state.current == 2
    assert state.queue[0] == 3
    _press(state, "down")  # answered again, differently
    assert [(r.query_id, r.choice) for r in store.answers()] == [(1, "left"), (2, "equal")]
    assert state.current == 3


def test_undo_works_across_a_restart(store: LabelStore) -> None:
    first = _state(store)
    _press(first, "left", "right", "left")
    first.release()  # the window closes
    second = _state(store)  # a new window on the same store
    assert second.current == 4
    _press(second, "backspace", "backspace")
    assert [r.query_id for r in store.answers()] == [1]
    assert second.current == 2
    _press(second, "space")
    assert second.current == 3


def test_nothing_to_undo_is_said_and_harmless(store: LabelStore) -> None:
    state = _state(store)
    _press(state, "backspace")
    assert state.message == "nothing to undo"
    assert state.current == 1


def test_undo_stays_inside_the_round(store: LabelStore) -> None:
    store.add_answer(1, Answer(Choice.LEFT, annotator="ana"))
    state = _state(store, query_ids=[2, 3])
    _press(state, "backspace")
    assert len(store.answers()) == 1
    assert state.message == "nothing to undo"


def test_review_changes_an_answer_as_a_new_row_keeping_history(store: LabelStore) -> None:
    state = _state(store)
    _press(state, "left", "right", "left")
    _press(state, "r")
    assert state.mode is Mode.REVIEW
    assert state.current == 3
    _press(state, "b")
    assert state.current == 2
    assert state.history[-1].choice is Choice.RIGHT
    _press(state, "left")  # change query 2's answer
    history = store.answers(query_id=2)
    assert [r.choice for r in history] == [Choice.RIGHT, Choice.LEFT]
    assert store.latest_answers()[2].choice is Choice.LEFT
    assert state.current == 3  # moved on to the next answered pair
    _press(state, "escape")
    assert state.mode is Mode.LABEL
    assert state.current == 4
    assert len(store.answers()) == 4


def test_undo_in_review_restores_the_previous_answer(store: LabelStore) -> None:
    state = _state(store)
    _press(state, "left", "r", "right")
    assert [r.choice for r in store.answers(query_id=1)] == [Choice.LEFT, Choice.RIGHT]
    _press(state, "backspace")
    assert [r.choice for r in store.answers(query_id=1)] == [Choice.LEFT]
    assert state.mode is Mode.REVIEW
    assert state.current == 1


def test_review_with_nothing_answered_stays_in_labelling(store: LabelStore) -> None:
    state = _state(store)
    _press(state, "r")
    assert state.mode is Mode.LABEL
    assert "nothing answered" in state.message
    _press(state, "n")
    assert state.current == 1
    assert "press r" in state.message


def test_new_queries_show_up_at_the_next_poll(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    make_query_store(path, 1)
    clock = FakeClock()
    with LabelStore(path) as store:
        state = _state(store, clock, poll_s=1.0)
        _press(state, "left")
        assert state.done
        uids = store.clip_uids()
        store.add_queries([(uids[0], uids[1])])
        clock.now += 0.5
        state.update(0.5, frames_ready=True)
        assert state.done
        clock.now += 0.6
        state.update(0.6, frames_ready=True)
        assert state.current == 2
        assert state.progress.total == 2


def test_two_windows_share_the_queue_without_showing_one_query_twice(store: LabelStore) -> None:
    ana = _state(store)
    bob = CompareState(store, "bob", clock=FakeClock())
    bob.update(0.0, frames_ready=True)
    assert not {ana.current, *ana.queue} & {bob.current, *bob.queue}
    _press(ana, "left")
    bob.handle_event(key("right"))
    assert {r.annotator for r in store.answers()} == {"ana", "bob"}
    assert len(store.latest_answers()) == 2


def test_each_mode_shows_queries_other_annotators_answered(store: LabelStore) -> None:
    store.add_answer(1, Answer(Choice.LEFT, annotator="bob"))
    shared = _state(store)
    assert shared.current == 2
    each = _state(store, share=False)
    assert each.current == 1
    assert each.progress.answered == 0
    assert each.progress.total == 5


def test_a_round_shows_only_its_queries_and_ends(store: LabelStore) -> None:
    state = _state(store, query_ids=[4, 2])
    assert state.current == 2
    assert state.queue == [4]
    _press(state, "left", "right")
    assert state.done
    assert state.progress.total == 2
    assert sorted(store.latest_answers()) == [2, 4]


def test_playback_keys(store: LabelStore) -> None:
    state = _state(store, clip_fps=10.0)
    playback = state.playback
    assert playback.num_frames == 9  # 8-step clips
    state.update(0.35, frames_ready=True)
    assert playback.frame == 3
    _press(state, "p")
    state.update(1.0, frames_ready=True)
    assert playback.paused
    assert playback.frame == 3
    _press(state, ".", ".", ",")
    assert playback.frame == 4
    _press(state, "+", "+", "+", "-")
    assert playback.speed == 2.0
    _press(state, "home")
    assert playback.frame == 0
    state.seek(1.0)
    assert playback.frame == 8


def test_playback_waits_for_the_frames(store: LabelStore) -> None:
    state = CompareState(store, "ana", clock=FakeClock(), clip_fps=10.0)
    state.update(0.5, frames_ready=False)
    assert state.playback.frame == 0
    assert not state.ready


def test_help_escape_and_quit(store: LabelStore) -> None:
    state = _state(store)
    _press(state, "?")
    assert state.show_help
    _press(state, "escape")
    assert not state.show_help
    assert not state.quit_requested
    _press(state, "t")
    assert state.show_teaching
    _press(state, "q")
    assert state.quit_requested


def test_the_close_button_quits_even_in_review(store: LabelStore) -> None:
    state = _state(store)
    _press(state, "left", "r")
    state.handle_event(pygame.event.Event(pygame.QUIT))
    assert state.quit_requested


def test_commands_by_character_before_key() -> None:
    assert command_for_key(key("backspace")) is Command.UNDO
    assert command_for_key(key("x")) is None
    question = pygame.event.Event(pygame.KEYDOWN, key=pygame.K_SLASH, mod=1, unicode="?")
    assert command_for_key(question) is Command.HELP
    comma = pygame.event.Event(pygame.KEYDOWN, key=pygame.K_COMMA, mod=0, unicode="")
    assert command_for_key(comma) is Command.STEP_BACK  # no character reported: by the key


@pytest.mark.parametrize("code", [pygame.K_EQUALS, pygame.K_PLUS, pygame.K_KP_PLUS])
@pytest.mark.parametrize("char", ["+", "=", ""])
@pytest.mark.parametrize("mod", [pygame.KMOD_NONE, pygame.KMOD_LSHIFT])
def test_the_plus_key_means_faster_in_every_shift_state(code: int, char: str, mod: int) -> None:
    event = pygame.event.Event(pygame.KEYDOWN, key=code, mod=mod, unicode=char, scancode=0)
    assert command_for_key(event) is Command.FASTER


def test_no_typed_character_answers() -> None:
    """A character can come from a key that means something else with or without shift;
    answers come only from keys that type nothing (the arrows) and space."""
    pygame.display.init()
    answers = []
    for char in map(chr, range(33, 127)):  # every printable ASCII character but space
        for code in (pygame.K_UNKNOWN, pygame.key.key_code(char.lower())):
            event = pygame.event.Event(pygame.KEYDOWN, key=code, mod=0, unicode=char)
            if command_for_key(event) in ANSWER_COMMANDS:
                answers.append(char)
    assert answers == []
    for name, command in (
        ("left", Command.LEFT),
        ("right", Command.RIGHT),
        ("down", Command.EQUAL),
    ):
        assert command_for_key(key(name)) is command
    assert command_for_key(key("space")) is Command.SKIP


def test_fast_presses_of_plus_change_the_speed_and_never_answer(store: LabelStore) -> None:
    state = _state(store)
    events = [
        pygame.event.Event(pygame.KEYDOWN, key=pygame.K_EQUALS, mod=mod, unicode=char)
        for mod, char in ((1, "+"), (0, "="), (1, ""), (0, "+"), (0, "="))
    ]
    speeds = []
    for event in events:
        state.handle_event(event)
        speeds.append(state.playback.speed)
    assert store.answers() == []
    assert state.current == 1
    assert speeds == [2.0, 4.0, 4.0, 4.0, 4.0]
    _press(state, "-", "[")
    assert state.playback.speed == 1.0
    assert store.answers() == []


def test_upcoming_lists_the_shown_pair_then_the_queue(store: LabelStore) -> None:
    state = _state(store, lookahead=2)
    assert state.upcoming() == [1, 2, 3]
    _press(state, "left", "r")
    assert state.upcoming()[0] == 1
    assert 2 in state.upcoming()


def test_two_windows_of_one_annotator_never_show_the_same_query(tmp_path: Path) -> None:
    path = tmp_path / "labels.db"
    ids = make_query_store(path, 3)
    with LabelStore(path) as first_store, LabelStore(path) as second_store:
        first = CompareState(first_store, "ana")
        second = CompareState(second_store, "ana")
        assert first.current == ids[0]
        assert second.current is not None
        assert second.current != first.current
        assert first.claimant != second.claimant

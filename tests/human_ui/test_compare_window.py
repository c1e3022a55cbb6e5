"""The comparison window under the dummy video driver: layout, clicks, drawing, the loop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pygame
import pytest

from hfrl_gym.answers import Choice
from hfrl_gym.store import LabelStore
from human_ui.app import open_window
from human_ui.commands import Command, HelpPage
from human_ui.compare import CompareWindow
from human_ui.compare_layout import compare_layout, task_card_rect
from human_ui.compare_state import CompareState
from human_ui.prefetch import PairPrefetcher, PreparedPair
from human_ui.script import ScriptPlayer, parse_script
from human_ui.task_card import SeenCards, TaskCards
from human_ui.teaching import TeachingInfo
from human_ui.widgets import Theme
from tests.human_ui.test_task_card import scored_clip
from tests.ui_helpers import make_query_store

SIZE = (1280, 800)


@pytest.fixture
def window(tmp_path: Path) -> Iterator[CompareWindow]:
    make_query_store(tmp_path / "labels.sqlite", 3)
    open_window(SIZE, "test")
    store = LabelStore(tmp_path / "labels.sqlite", create=False)
    prefetcher = PairPrefetcher(store.pair)
    state = CompareState(store, "ana", lookahead=2)
    yield CompareWindow(state, prefetcher, describe_goal=lambda env_id: env_id)
    prefetcher.close()
    store.close()
    pygame.display.quit()


def _until_ready(window: CompareWindow, max_frames: int = 600) -> None:
    for _ in range(max_frames):
        window.update(1 / 60)
        window.draw()
        if window.state.ready:
            return
        window.prefetcher.wait(window.state.current, timeout_s=0.05)
    raise AssertionError("the pair never became ready")


def _click(window: CompareWindow, pos: tuple[int, int]) -> None:
    for kind in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
        window.handle_event(pygame.event.Event(kind, pos=pos, button=1))


@pytest.mark.parametrize("size", [(640, 480), (1280, 800), (1920, 1080)])
def test_layout_fits_the_window_without_overlaps(size: tuple[int, int]) -> None:
    pygame.font.init()
    layout = compare_layout(size, teaching=True)
    window = pygame.Rect((0, 0), size)
    rects = [b.rect for b in layout.buttons] + [layout.left_card, layout.right_card]
    rects += [layout.scrubber.rect, layout.header, layout.status, layout.counter]
    for rect in rects:
        assert window.contains(rect), rect
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            assert not a.colliderect(b), (a, b)
    assert layout.left_box.size == layout.right_box.size
    assert layout.left_card.contains(layout.left_box)
    assert layout.left_card.contains(layout.left_teach)
    assert layout.left_teach.height > 0
    assert compare_layout(size, teaching=False).left_box.height > layout.left_box.height


def test_fonts_grow_with_the_window() -> None:
    pygame.font.init()
    small = compare_layout((640, 480), teaching=False).fonts.body.get_height()
    large = compare_layout((1920, 1080), teaching=False).fonts.body.get_height()
    assert large > small


def test_both_clips_are_drawn_and_differ(window: CompareWindow) -> None:
    _until_ready(window)
    layout = window.layout
    pixels = pygame.surfarray.array3d(window.surface)
    crops = []
    for box in (layout.left_box, layout.right_box):
        crop = pixels[box.left : box.right, box.top : box.bottom].astype(np.int64)
        assert crop.std() > 10  # a picture, not a flat fill
        assert (np.abs(crop - np.array(Theme.PANEL)).sum(axis=2) > 30).mean() > 0.3
        crops.append(crop)
    assert np.abs(crops[0] - crops[1]).mean() > 0.5


def test_rendering_is_announced_and_answers_wait(window: CompareWindow) -> None:
    window.prefetcher.close()  # a closed prefetcher renders nothing
    window.update(1 / 60)
    window.draw()
    window.state.apply(Command.LEFT)
    assert window.state.store.answers() == []
    assert not window.state.ready


def test_buttons_answer_and_undo_by_click(window: CompareWindow) -> None:
    _until_ready(window)
    _click(window, window.button_centre("right"))
    _until_ready(window)
    _click(window, window.button_centre("equal"))
    store = window.state.store
    assert [(r.query_id, r.choice) for r in store.answers()] == [
        (1, Choice.RIGHT),
        (2, Choice.EQUAL),
    ]
    _click(window, window.button_centre("undo"))
    assert [r.query_id for r in store.answers()] == [1]
    assert window.state.current == 2


def test_scrubber_click_and_drag_seek(window: CompareWindow) -> None:
    _until_ready(window)
    window.prefetcher.wait(window.state.current, timeout_s=30)  # seeking stops at the last
    window.update(0.0)  # frame rendered: play while the rest renders, then seek anywhere
    scrubber = window.layout.scrubber
    window.handle_event(
        pygame.event.Event(
            pygame.MOUSEBUTTONDOWN, pos=(scrubber.track.right - 1, scrubber.rect.centery), button=1
        )
    )
    assert window.state.playback.frame == window.state.playback.num_frames - 1
    window.handle_event(
        pygame.event.Event(
            pygame.MOUSEMOTION, pos=(scrubber.track.left, 0), rel=(0, 0), buttons=(1, 0, 0)
        )
    )
    assert window.state.playback.frame == 0
    window.handle_event(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(0, 0), button=1))
    window.handle_event(
        pygame.event.Event(
            pygame.MOUSEMOTION, pos=(scrubber.track.right, 0), rel=(0, 0), buttons=(0, 0, 0)
        )
    )
    assert window.state.playback.frame == 0


def test_resizing_lays_the_window_out_again(window: CompareWindow) -> None:
    _until_ready(window)
    pygame.display.set_mode((900, 600), pygame.RESIZABLE)
    window.handle_event(pygame.event.Event(pygame.VIDEORESIZE, size=(900, 600), w=900, h=600))
    window.update(1 / 60)
    window.draw()
    assert window.layout.size == (900, 600)
    assert window.layout.right_card.right <= 900


def test_teaching_overlay_draws_both_reward_curves(window: CompareWindow) -> None:
    _until_ready(window)
    prepared = window.current_prepared()
    assert prepared is not None
    prepared.teaching = TeachingInfo(
        np.linspace(-1, 1, 8), np.linspace(1, -1, 8), 0.7, np.array([0.6, 0.8])
    )
    window.state.apply(Command.TEACHING)
    window.update(1 / 60)
    window.draw()
    pixels = pygame.surfarray.array3d(window.surface)
    for rect, colour in (
        (window.layout.left_teach, Theme.LEFT),
        (window.layout.right_teach, Theme.RIGHT),
    ):
        strip = pixels[rect.left : rect.right, rect.top : rect.bottom]
        assert (np.abs(strip - np.array(colour)).sum(axis=2) < 10).sum() > 50


def test_run_stops_at_the_frame_limit_and_when_done(window: CompareWindow) -> None:
    window.max_frames = 5
    window.run()
    assert window.frames_drawn == 5
    window.max_frames = None
    window.exit_when_done = True
    window.script = ScriptPlayer(parse_script(['{"until": "ready"}', '{"key": "left"}'] * 3))
    window.script.is_ready = lambda: window.state.ready
    window.run()
    assert window.state.done
    assert len(window.state.store.answers()) == 3
    assert set(window.first_frame_at) == {1, 2, 3}


def _solid(colour: tuple[int, int, int]) -> pygame.Surface:
    frame = pygame.Surface((120, 80))
    frame.fill(colour)
    return frame


@pytest.mark.parametrize("rendered", [0, 1])
def test_first_frames_are_shown_still_while_the_rest_renders(
    window: CompareWindow, rendered: int
) -> None:
    """A pair that cannot play yet (50 of 51 frames missing, rate unknown) shows each clip's
    first frame under the progress bar; answers still wait. Control: no frame rendered."""
    window.update(1 / 60)
    red, blue = (250, 0, 0), (0, 0, 250)
    growing = PreparedPair(
        window.state.current,
        [_solid(red)] * rendered,
        [_solid(blue)] * rendered,
        left_total=51,
        right_total=51,
    )
    window.prefetcher.peek = lambda query_id: growing  # type: ignore[method-assign]
    window.update(1 / 60)
    window.draw()
    assert not window.state.ready
    assert window.first_frames_shown() is bool(rendered)
    pixels = pygame.surfarray.array3d(window.surface).astype(np.int64)
    for box, colour in ((window.layout.left_box, red), (window.layout.right_box, blue)):
        crop = pixels[box.left : box.right, box.top : box.bottom]
        share = (np.abs(crop - np.array(colour)).sum(axis=2) < 30).mean()
        assert (share > 0.3) if rendered else (share == 0.0), share
    window.state.apply(Command.LEFT)
    assert window.state.store.answers() == []


def test_prepared_pair_errors_are_shown_not_raised(window: CompareWindow) -> None:
    window.update(1 / 60)
    current = window.state.current
    failed = PreparedPair(current, [], [], error="no GL backend")
    window.prefetcher.get = lambda query_id: failed  # type: ignore[method-assign]
    window.update(1 / 60)
    window.draw()
    assert not window.state.ready


def test_fonts_survive_pygame_quit() -> None:
    """Gymnasium's classic-control envs call ``pygame.quit()`` when they close; a window
    opened afterwards in the same process must still draw text."""
    from human_ui.widgets import Fonts

    pygame.font.init()
    before = Fonts(800).body
    pygame.quit()  # as an env's close() does
    pygame.font.init()
    after = Fonts(800).body
    assert after is not before
    assert after.render("left is better", True, (255, 255, 255)).get_width() > 0


def _card_centre(window: CompareWindow, side: str) -> tuple[int, int]:
    card = window.layout.left_card if side == "left" else window.layout.right_card
    return card.center


def test_clicking_a_clip_answers_that_it_is_better(window: CompareWindow) -> None:
    _until_ready(window)
    _click(window, _card_centre(window, "left"))
    _until_ready(window)
    _click(window, _card_centre(window, "right"))
    store = window.state.store
    assert [(r.query_id, r.choice) for r in store.answers()] == [
        (1, Choice.LEFT),
        (2, Choice.RIGHT),
    ]
    _click(window, (window.layout.left_card.right + 2, window.layout.left_card.centery))
    assert len(store.answers()) == 2  # the gap between the clips is not a clip


def test_a_click_on_a_clip_not_yet_shown_is_refused_out_loud(window: CompareWindow) -> None:
    window.prefetcher.close()  # nothing renders: the clips never appear
    window.update(1 / 60)
    _click(window, _card_centre(window, "left"))
    assert window.state.store.answers() == []
    assert "left not saved" in window.state.wait_notice
    window.draw()
    box = window.layout.left_box
    pixels = pygame.surfarray.array3d(window.surface)[box.left : box.right, box.top : box.bottom]
    assert (np.abs(pixels - np.array(Theme.BAD)).sum(axis=2) < 40).sum() > 20  # said in the card


def test_the_wait_notice_goes_when_the_clips_appear(window: CompareWindow) -> None:
    window.update(1 / 60)
    window.state.apply(Command.RIGHT)
    assert window.state.wait_notice or window.state.ready
    _until_ready(window)
    assert window.state.wait_notice == ""
    assert window.state.store.answers() == []


def test_a_click_beside_the_help_closes_it_without_answering(window: CompareWindow) -> None:
    _until_ready(window)
    window.state.apply(Command.HELP)
    _click(window, _card_centre(window, "left"))
    assert not window.state.show_help
    assert window.state.store.answers() == []
    _click(window, window.button_centre("help"))  # the help button pages the help
    assert window.state.help_page is HelpPage.TASK
    _click(window, window.button_centre("help"))
    assert window.state.help_page is HelpPage.KEYS


def test_the_task_card_opens_by_itself_once_per_annotator(tmp_path: Path) -> None:
    make_query_store(tmp_path / "labels.sqlite", 3)
    open_window(SIZE, "test")
    seen = SeenCards(tmp_path / "cards.json")
    opened = []
    with LabelStore(tmp_path / "labels.sqlite", create=False) as store:
        for annotator in ("ana", "ana", "bob"):
            prefetcher = PairPrefetcher(store.pair)
            state = CompareState(store, annotator, lookahead=2)
            cards = TaskCards(str, store=store, seen=seen)
            window = CompareWindow(state, prefetcher, describe_goal=str, task_cards=cards)
            window.update(1 / 60)
            opened.append(state.help_page)
            state.release()
            prefetcher.close()
            cards.close()
    pygame.display.quit()
    assert opened == [HelpPage.TASK, None, HelpPage.TASK]
    assert seen.has_seen("bob", "hfrl/CartPole-v0 · task")


def test_the_task_card_draws_its_words_and_both_examples(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    make_query_store(path, 2)
    rng = np.random.default_rng(3)
    with LabelStore(path) as store:  # two clips of very different returns
        store.add_clips([scored_clip(rng, reward) for reward in (0.0, 1.0)])
    open_window(SIZE, "test")
    with LabelStore(path, create=False) as store:
        prefetcher = PairPrefetcher(store.pair)
        state = CompareState(store, "ana")
        cards = TaskCards(lambda env_id: f"{env_id} · task", store=store)
        window = CompareWindow(state, prefetcher, describe_goal=str, task_cards=cards)
        _until_ready(window)
        state.apply(Command.HELP)
        window.draw()  # the card asks for its examples
        examples = cards._card("hfrl/CartPole-v0").examples
        assert examples is not None
        assert examples.wait(timeout_s=60) is not None
        window.draw()
        boxes = window.card_view.example_boxes
        assert len(boxes) == 2
        pixels = pygame.surfarray.array3d(window.surface)
        for box in boxes:
            crop = pixels[box.left : box.right, box.top : box.bottom].astype(np.int64)
            assert crop.std() > 10  # a CartPole frame, not the panel
        card = task_card_rect(window.layout)
        assert all(card.contains(box) for box in boxes)
        words = pixels[card.left : card.right, card.top : boxes[0].top]
        for colour in (Theme.GOOD, Theme.BAD, Theme.TEXT):  # "Good: …", "Bad: …", the title
            assert (np.abs(words - np.array(colour)).sum(axis=2) < 30).sum() > 30
        prefetcher.close()
        cards.close()
    pygame.display.quit()

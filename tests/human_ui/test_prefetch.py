"""The background renderer: same frames as rendering directly, priorities, abandoning, errors."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pygame
import pytest

from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.errors import RenderError
from hfrl_gym.frame_cache import FrameCache
from hfrl_gym.recording import record_random_clips
from hfrl_gym.render import ClipRenderer
from human_ui.prefetch import PairPrefetcher, PreparedPair, fit_size
from human_ui.teaching import TeachingInfo
from tests.ui_helpers import synthetic_clip


def _pixels(surface: pygame.Surface) -> np.ndarray:
    return pygame.surfarray.array3d(surface).transpose(1, 0, 2)


class FakeRenderer:
    """Frames whose colour encodes the snapshot; optional gate per frame; logs what it drew."""

    def __init__(self, gate: threading.Semaphore | None = None, fail_on: float | None = None):
        self.gate = gate
        self.fail_on = fail_on
        self.log: list[float] = []
        self.closed = False

    def render_state(
        self, env_id: str, state: np.ndarray, width: int | None = None, height: int | None = None
    ) -> np.ndarray:
        if self.gate is not None:
            self.gate.acquire()
        if self.fail_on is not None and state[0] == self.fail_on:
            raise RenderError("no GL backend (set MUJOCO_GL=egl)")
        self.log.append(float(state[0]))
        return np.full((height or 40, width or 60, 3), int(state[0]) % 256, dtype=np.uint8)

    def render_frames(self, clip: Clip, width: int | None = None, height: int | None = None):
        return np.stack([self.render_state(clip.env_id, s, width, height) for s in clip.states])

    def close(self) -> None:
        self.closed = True


def _pair(query_id: int, num_steps: int = 2, env_id: str = "hfrl/CartPole-v0") -> ClipPair:
    """Clips whose snapshots start with 10 * query_id (left) and 10 * query_id + 5 (right)."""
    dim = 28 if env_id == "hfrl/HalfCheetah-v0" else 4

    def clip(first: float) -> Clip:
        states = np.full((num_steps + 1, dim), first)
        return Clip(env_id, np.zeros((num_steps + 1, dim)), np.zeros(num_steps, np.int64),
                    np.ones(num_steps), states=states)  # fmt: skip

    return ClipPair(clip(10.0 * query_id), clip(10.0 * query_id + 5), query_id)


def _prefetcher(renderer: FakeRenderer, **kwargs: object) -> PairPrefetcher:
    return PairPrefetcher(_pair, make_renderer=lambda: renderer, **kwargs)


def test_frames_match_rendering_directly_at_the_fitted_size() -> None:
    left, right = record_random_clips("hfrl/CartPole-v0", num_clips=2, clip_num_steps=5, seed=3)
    prefetcher = PairPrefetcher({1: ClipPair(left, right, 1)}.__getitem__)
    prefetcher.want([1], box=(300, 300))
    prepared = prefetcher.wait(1, timeout_s=60)
    prefetcher.close()
    assert prepared is not None
    assert prepared.ok
    assert [len(prepared.left), len(prepared.right)] == [6, 6]
    assert prepared.left[0].get_size() == (300, 200)  # CartPole's 3:2 kept inside the box
    with ClipRenderer() as renderer:
        expected = renderer.render_frames(right, width=300, height=200)
    for surface, frame in zip(prepared.right, expected, strict=True):
        np.testing.assert_array_equal(_pixels(surface), frame)


def test_renders_in_the_order_wanted() -> None:
    renderer = FakeRenderer()
    prefetcher = _prefetcher(renderer)
    prefetcher.want([3, 1, 2], box=(60, 40))
    assert prefetcher.wait(2, timeout_s=10) is not None
    prefetcher.close()
    assert list(dict.fromkeys(renderer.log)) == [30.0, 35.0, 10.0, 15.0, 20.0, 25.0]
    assert renderer.closed


def test_a_pair_no_longer_wanted_is_abandoned() -> None:
    gate = threading.Semaphore(0)
    renderer = FakeRenderer(gate)
    prefetcher = _prefetcher(renderer)
    prefetcher.want([1], box=(60, 40))
    gate.release()  # the frame that measures CartPole's aspect ratio
    gate.release()  # the first frame of pair 1
    _wait_for(lambda: prefetcher.progress(1)[0] >= 1)
    prefetcher.want([2], box=(60, 40))
    for _ in range(20):
        gate.release()
    assert prefetcher.wait(2, timeout_s=10) is not None
    assert prefetcher.get(1) is None
    assert renderer.log.count(10.0) <= 3  # pair 1 stopped after the frame in flight
    prefetcher.close()


def test_keeps_at_most_max_pairs_dropping_unwanted_first() -> None:
    prefetcher = _prefetcher(FakeRenderer(), max_pairs=2)
    for query_id in (1, 2, 3):
        prefetcher.want([query_id], box=(60, 40))
        assert prefetcher.wait(query_id, timeout_s=10) is not None
    assert prefetcher.get(1) is None
    assert prefetcher.get(2) is not None
    assert prefetcher.get(3) is not None
    prefetcher.close()


def test_a_render_error_is_reported_and_the_thread_goes_on() -> None:
    prefetcher = _prefetcher(FakeRenderer(fail_on=10.0))
    prefetcher.want([1, 2], box=(60, 40))
    failed = prefetcher.wait(1, timeout_s=10)
    fine = prefetcher.wait(2, timeout_s=10)
    prefetcher.close()
    assert failed is not None
    assert not failed.ok
    assert "MUJOCO_GL" in failed.error
    assert fine is not None
    assert fine.ok


class FakeTeaching:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.note = "fake model"

    def explain(self, pair: ClipPair) -> TeachingInfo:
        if self.fail:
            raise RuntimeError("boom")
        return TeachingInfo(np.ones(2), np.zeros(2), 0.9, np.array([0.9]))


@pytest.mark.parametrize("fail", [False, True])
def test_teaching_numbers_come_with_the_frames(fail: bool) -> None:
    prefetcher = _prefetcher(FakeRenderer(), teaching=FakeTeaching(fail))
    prefetcher.want([1], box=(60, 40))
    prepared = prefetcher.wait(1, timeout_s=10)
    prefetcher.close()
    assert prepared is not None
    assert prepared.ok
    if fail:
        assert prepared.teaching is None
        assert "boom" in prepared.teaching_note
    else:
        assert prepared.teaching.p_left == 0.9
        assert prepared.teaching_note == "fake model"


def test_mujoco_frames_take_the_box_aspect_within_limits() -> None:
    pairs = {1: _pair(1, env_id="hfrl/HalfCheetah-v0")}
    prefetcher = PairPrefetcher(pairs.__getitem__, make_renderer=FakeRenderer)
    prefetcher.want([1], box=(1000, 300))
    prepared = prefetcher.wait(1, timeout_s=10)
    prefetcher.close()
    assert prepared.left[0].get_size() == (480, 300)  # aspect clamped to 1.6


def test_fit_size() -> None:
    assert fit_size(1.5, (600, 300)) == (450, 300)
    assert fit_size(1.5, (300, 600)) == (300, 200)
    assert fit_size(2.0, (1, 1)) == (1, 1)


def test_frames_only_clips_are_resized() -> None:
    rng = np.random.default_rng(0)
    base = synthetic_clip(rng, 3)
    frames = rng.integers(0, 255, size=(4, 20, 40, 3), dtype=np.uint8)
    clip = Clip(base.env_id, base.observations, base.actions, base.true_rewards, frames=frames)
    prefetcher = PairPrefetcher({1: ClipPair(clip, clip, 1)}.__getitem__)
    prefetcher.want([1], box=(100, 100))
    prepared = prefetcher.wait(1, timeout_s=30)
    prefetcher.close()
    assert prepared.left[0].get_size() == (100, 50)


def _wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = threading.Event()
    for _ in range(int(timeout_s / 0.01)):
        if condition():
            return
        deadline.wait(0.01)
    raise AssertionError("condition not met in time")


def test_a_pair_is_shown_while_it_renders_both_clips_in_turn() -> None:
    gate = threading.Semaphore(0)
    renderer = FakeRenderer(gate)
    pairs = {1: _pair(1, num_steps=5, env_id="hfrl/HalfCheetah-v0")}  # no aspect frame
    prefetcher = PairPrefetcher(pairs.__getitem__, make_renderer=lambda: renderer)
    prefetcher.want([1], box=(60, 40))
    for _ in range(5):
        gate.release()
    _wait_for(lambda: prefetcher.progress(1)[0] >= 4)
    partial = prefetcher.peek(1)
    assert partial is not None
    assert prefetcher.get(1) is None  # not finished
    assert (partial.num_frames, partial.complete) == (6, False)
    assert 2 <= partial.rendered <= 3  # left and right in turn: both clips grow together
    assert abs(len(partial.left) - len(partial.right)) <= 1
    assert renderer.log[:4] == [10.0, 15.0, 10.0, 15.0]
    for _ in range(20):
        gate.release()
    finished = prefetcher.wait(1, timeout_s=10)
    prefetcher.close()
    assert finished is partial  # the window's object filled in place
    assert finished.complete
    assert (len(finished.left), len(finished.right)) == (6, 6)
    assert finished.render_fps > 0


def test_playable_only_once_the_rest_will_arrive_in_time_and_then_stays() -> None:
    pair = PreparedPair(1, [None] * 3, [None] * 3, left_total=51, right_total=51)
    pair.render_fps = 0.0
    assert not pair.playable(30.0)  # rate unknown
    pair.render_fps = 10.0
    assert not pair.playable(30.0)  # 48 frames left at 8/s: playback would catch up
    pair.left += [None] * 40
    pair.right += [None] * 40
    assert pair.playable(30.0)
    pair.render_fps = 1.0  # a slower machine later: playback already started, keeps going
    assert pair.playable(30.0)
    assert not PreparedPair(2, [], [], error="no GL").playable(30.0)


def test_cached_clips_are_read_not_rendered(tmp_path: Path) -> None:
    cache = FrameCache(tmp_path)
    pairs = {1: _pair(1, env_id="hfrl/HalfCheetah-v0")}
    first = FakeRenderer()
    prefetcher = PairPrefetcher(pairs.__getitem__, make_renderer=lambda: first, cache=cache)
    prefetcher.want([1], box=(60, 40))
    rendered = prefetcher.wait(1, timeout_s=10)
    prefetcher.close()
    assert first.log  # rendered once ...
    second = FakeRenderer()
    prefetcher = PairPrefetcher(pairs.__getitem__, make_renderer=lambda: second, cache=cache)
    prefetcher.want([1], box=(60, 40))
    again = prefetcher.wait(1, timeout_s=10)
    prefetcher.want([1], box=(90, 60))  # another size is another key: rendered
    prefetcher.close()
    assert second.log == []  # ... and read back at the same size
    assert rendered is not None
    assert again is not None
    for before, after in zip(rendered.right, again.right, strict=True):
        np.testing.assert_array_equal(_pixels(before), _pixels(after))


def test_pending_queries_are_rendered_ahead_into_the_cache(tmp_path: Path) -> None:
    cache = FrameCache(tmp_path)
    pairs = {q: _pair(q, env_id="hfrl/HalfCheetah-v0") for q in (1, 2, 3)}
    renderer = FakeRenderer()
    prefetcher = PairPrefetcher(
        pairs.__getitem__, make_renderer=lambda: renderer, cache=cache, ahead=lambda: [1, 2, 3]
    )
    prefetcher.want([], box=(60, 40))  # the window shows nothing yet
    clips = [clip for pair in pairs.values() for clip in (pair.left, pair.right)]
    _wait_for(lambda: all((clip.uid, 60, 40) in cache for clip in clips))
    prefetcher.want([2], box=(60, 40))
    shown = prefetcher.wait(2, timeout_s=10)
    prefetcher.close()
    assert shown is not None
    assert shown.complete
    assert sorted(set(renderer.log)) == [10.0, 15.0, 20.0, 25.0, 30.0, 35.0]
    assert len(renderer.log) == 6 * 3  # every frame once: pair 2 came from the cache


def test_memory_is_capped_in_bytes_keeping_the_wanted_pairs() -> None:
    pair_bytes = 2 * 3 * 60 * 40 * 3  # two clips of three 60x40 frames
    prefetcher = _prefetcher(FakeRenderer(), max_pairs=10, max_bytes=2 * pair_bytes)
    for query_id in (1, 2, 3):
        prefetcher.want([query_id, 9], box=(60, 40))
        assert prefetcher.wait(query_id, timeout_s=10) is not None
    assert prefetcher.get(9) is not None  # wanted all along: kept
    assert prefetcher.get(3) is not None
    assert prefetcher.get(1) is None
    assert prefetcher.get(2) is None
    prefetcher.close()


def test_a_renderer_that_cannot_be_made_is_reported_per_pair(tmp_path: Path) -> None:
    def no_gl() -> FakeRenderer:
        raise RenderError("MuJoCo could not render; set MUJOCO_GL=egl")

    prefetcher = PairPrefetcher(
        _pair, make_renderer=no_gl, cache=FrameCache(tmp_path), ahead=lambda: [5]
    )
    prefetcher.want([1, 2], box=(60, 40))
    first = prefetcher.wait(1, timeout_s=10)
    second = prefetcher.wait(2, timeout_s=10)
    prefetcher.close()
    assert first is not None
    assert second is not None
    assert "MUJOCO_GL" in (first.error or "")
    assert "MUJOCO_GL" in (second.error or "")

"""The background renderer: same frames as rendering directly, priorities, abandoning, errors."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import pygame
import pytest

from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.errors import RenderError
from hfrl_gym.recording import record_random_clips
from hfrl_gym.render import ClipRenderer
from human_ui.prefetch import PairPrefetcher, fit_size
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

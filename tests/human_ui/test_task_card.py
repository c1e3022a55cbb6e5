"""The task card's content: its words, the example clips it picks, and the first-use memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hfrl_gym.clips import Clip
from hfrl_gym.envs import get_goal, suite_ids
from hfrl_gym.envs.goals import TASK
from hfrl_gym.store import LabelStore
from human_ui.task_card import (
    MAX_EXAMPLE_FRAMES,
    ExampleFinder,
    SeenCards,
    TaskCards,
    task_text,
)


def scored_clip(
    rng: np.random.Generator, reward: float, *, x: float = 0.0, num_steps: int = 40
) -> Clip:
    """A CartPole clip whose every step earns ``reward``, its cart near position ``x``."""
    states = rng.normal(scale=0.05, size=(num_steps + 1, 4))
    states[:, 0] += x
    return Clip(
        env_id="hfrl/CartPole-v0",
        observations=states.astype(np.float32),
        actions=rng.integers(0, 2, size=num_steps),
        true_rewards=np.full(num_steps, reward),
        states=states,
        policy="scored",
    )


class SideRenderer:
    """A renderer whose frames say which side of the track the cart is on: white if left."""

    def __init__(self) -> None:
        self.frames = 0

    def render_state(
        self, env_id: str, state: np.ndarray, width: int | None = None, height: int | None = None
    ) -> np.ndarray:
        self.frames += 1
        return np.full((4, 6, 3), 255 if state[0] < 0 else 0, dtype=np.uint8)

    def render_frames(
        self, clip: Clip, width: int | None = None, height: int | None = None
    ) -> np.ndarray:
        raise AssertionError("snapshot clips are rendered from their states")

    def close(self) -> None:
        pass


@pytest.fixture
def store(tmp_path: Path) -> LabelStore:
    rng = np.random.default_rng(0)
    opened = LabelStore(tmp_path / "labels.sqlite")
    # The task's best clip is on the right; the goal "left" prefers the one on the left.
    opened.add_clips(
        [
            scored_clip(rng, 0.0, x=-1.0),
            scored_clip(rng, 0.5, x=0.5),
            scored_clip(rng, 1.0, x=1.0),
        ]
    )
    yield opened
    opened.close()


def test_examples_are_the_best_and_worst_clip_under_the_goal(store: LabelStore) -> None:
    for goal, good_colour in ((TASK, 0), (get_goal("hfrl/CartPole-v0", "left"), 255)):
        finder = ExampleFinder(store, "hfrl/CartPole-v0", goal, make_renderer=SideRenderer)
        examples = finder.wait(timeout_s=30)
        assert examples is not None
        assert examples.ok, examples.note
        assert examples.good_return > examples.bad_return
        assert examples.num_clips == 3
        assert {int(f.max()) for f in examples.good} == {good_colour}
        assert {int(f.max()) for f in examples.bad} == {255 - good_colour}
        assert len(examples.good) == MAX_EXAMPLE_FRAMES  # 41 frames, thinned to a thumbnail


def test_no_examples_when_every_clip_scores_the_same(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    with LabelStore(tmp_path / "flat.sqlite") as store:
        store.add_clips([scored_clip(rng, 1.0) for _ in range(3)])
        renderer = SideRenderer()
        finder = ExampleFinder(store, "hfrl/CartPole-v0", TASK, make_renderer=lambda: renderer)
        examples = finder.wait(timeout_s=30)
        assert examples is not None
        assert not examples.ok
        assert "different returns" in examples.note
        assert renderer.frames == 0
        empty = ExampleFinder(store, "hfrl/Pendulum-v0", TASK, make_renderer=SideRenderer)
        result = empty.wait(timeout_s=30)
        assert result is not None
        assert not result.ok


def test_a_failing_renderer_becomes_a_note(store: LabelStore) -> None:
    def broken() -> SideRenderer:
        raise RuntimeError("no GL backend")

    finder = ExampleFinder(store, "hfrl/CartPole-v0", TASK, make_renderer=broken)
    examples = finder.wait(timeout_s=30)
    assert examples is not None
    assert examples.note == "no examples: no GL backend"


@pytest.mark.parametrize("env_id", suite_ids())
def test_every_suite_env_has_words_for_its_card(env_id: str) -> None:
    text = task_text(env_id, TASK, env_id)
    assert text.judge
    assert text.good
    assert text.bad
    assert text.good != text.bad


def test_an_alternative_goal_card_says_the_goal() -> None:
    goal = get_goal("hfrl/HalfCheetah-v0", "backwards")
    text = task_text("hfrl/HalfCheetah-v0", goal, "cheetah · goal backwards")
    assert "backwards" in text.judge
    assert text.good == goal.description
    assert "right" in text.forward


def test_seen_cards_survive_a_corrupt_file_and_keep_annotators_apart(tmp_path: Path) -> None:
    path = tmp_path / "hfrl" / "task_cards.json"
    path.parent.mkdir()
    path.write_text("{not json", encoding="utf-8")
    seen = SeenCards(path)
    assert not seen.has_seen("ana", "hfrl/CartPole-v0 · task")
    seen.mark_seen("ana", "hfrl/CartPole-v0 · task")
    seen.mark_seen("ana", "hfrl/CartPole-v0 · task")
    again = SeenCards(path)
    assert again.has_seen("ana", "hfrl/CartPole-v0 · task")
    assert not again.has_seen("bob", "hfrl/CartPole-v0 · task")
    assert not again.has_seen("ana", "hfrl/CartPole-v0 · left")


def test_seen_cards_default_next_to_the_saved_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert SeenCards().path == tmp_path / "hfrl" / "task_cards.json"


def test_task_cards_open_once_per_env_and_goal(tmp_path: Path, store: LabelStore) -> None:
    seen = SeenCards(tmp_path / "cards.json")
    goals = {"hfrl/CartPole-v0": get_goal("hfrl/CartPole-v0", "left")}
    cards = TaskCards(str, goal_for=goals.__getitem__, store=store, seen=seen)
    assert cards.first_use("ana", "hfrl/CartPole-v0")
    assert not cards.first_use("ana", "hfrl/CartPole-v0")
    assert cards.key("hfrl/CartPole-v0") == "hfrl/CartPole-v0 · left"
    assert TaskCards(str, store=store, seen=seen).first_use("ana", "hfrl/CartPole-v0")
    assert not TaskCards(str, store=store).first_use("ana", "hfrl/CartPole-v0")  # no memory
    text_only = TaskCards(str)
    examples = text_only.examples("hfrl/CartPole-v0")
    assert examples is not None
    assert not examples.ok

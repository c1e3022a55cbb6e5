"""The task card: what to judge, which way is forward, and a good and a bad example clip.

The card is the first page of the comparison window's help (``h``); the window shows it by
itself the first time an annotator labels an env (under a goal), and remembers that in
``$XDG_CONFIG_HOME/hfrl/task_cards.json``, next to the saved annotator name.

The examples are found the same way for every env: the clips of the store with the highest
and the lowest return under the goal being taught. They are shown to the person only (to say
what the goal means); the true reward never reaches the agent or the reward model. They are
found and rendered in a background thread at a low CPU priority, so the card opens at once,
with its text; a store without two clips of different returns gets a text-only card.

Classes:
    TaskText: the card's words for one env and goal (from :mod:`human_ui.task_words`).
    ExampleClips: the good and the bad example, as frames.
    ExampleFinder: finds and renders the examples in a background thread.
    SeenCards: which cards each annotator has seen (a small JSON file).
    TaskCards: the cards of one labelling session (text, examples, first-use memory).

Functions:
    task_text: the words of the card for an env and goal (from :mod:`human_ui.task_words`).
    seen_cards_path: where :class:`SeenCards` keeps its file.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hfrl_gym.clips import Clip
from hfrl_gym.envs import Goal
from hfrl_gym.envs.goals import TASK
from hfrl_gym.store import LabelStore
from human_ui.annotator import saved_name_path
from human_ui.prefetch import FrameRenderer
from human_ui.task_words import TaskText, task_text

MAX_EXAMPLE_FRAMES = 24
"""Frames rendered of each example clip (evenly spaced; a thumbnail, not the whole clip)."""

EXAMPLE_WIDTH = 320
"""Width in pixels the examples are rendered at (the card scales them to fit)."""


@dataclass
class ExampleClips:
    """The best and the worst clip of a store under a goal, as frames.

    Attributes:
        good: frames of the clip with the highest return, ``(H, W, 3)`` uint8 each.
        bad: frames of the clip with the lowest return.
        good_return: its return under the goal.
        bad_return: its return under the goal.
        num_clips: clips compared.
        note: why there are no frames (then ``good`` and ``bad`` are empty).

    Example:
        >>> ExampleClips(note="no clips yet").ok
        False
    """

    good: list[np.ndarray] = field(default_factory=list)
    bad: list[np.ndarray] = field(default_factory=list)
    good_return: float = 0.0
    bad_return: float = 0.0
    num_clips: int = 0
    note: str = ""

    @property
    def ok(self) -> bool:
        """Whether there are frames to show."""
        return bool(self.good) and bool(self.bad)


def _returns(clips: list[Clip], goal: Goal) -> np.ndarray:
    return np.array([float(goal.clip_rewards(clip).sum()) for clip in clips])


def _clip_renderer() -> FrameRenderer:
    from hfrl_gym.render import ClipRenderer

    return ClipRenderer()


def _frames(renderer: FrameRenderer, clip: Clip, stop: Callable[[], bool]) -> list[np.ndarray]:
    """At most :data:`MAX_EXAMPLE_FRAMES` evenly spaced frames of ``clip`` (fewer once
    ``stop()`` says so)."""
    count = clip.num_steps + 1
    picks = np.unique(np.linspace(0, count - 1, min(count, MAX_EXAMPLE_FRAMES)).round().astype(int))
    if clip.states is None:
        frames = renderer.render_frames(clip, EXAMPLE_WIDTH)
        return [frames[i] for i in picks]
    frames = []
    for i in picks:
        if stop():
            break
        frames.append(renderer.render_state(clip.env_id, clip.states[i], EXAMPLE_WIDTH))
    return frames


class ExampleFinder:
    """Finds the store's best and worst clip of an env under a goal, and renders them.

    Runs in a daemon thread at a low CPU priority; :attr:`result` is ``None`` until done.

    Args:
        store: the label store (its methods may be called from another thread).
        env_id: the env whose clips are compared.
        goal: the goal the returns are computed under.
        make_renderer: makes a :class:`~hfrl_gym.render.ClipRenderer` (in the thread).
        batch: clips loaded from the store at a time.
    """

    def __init__(
        self,
        store: LabelStore,
        env_id: str,
        goal: Goal,
        *,
        make_renderer: Callable[[], FrameRenderer] = _clip_renderer,
        batch: int = 256,
    ) -> None:
        self.store = store
        self.env_id = env_id
        self.goal = goal
        self.result: ExampleClips | None = None
        self._make_renderer = make_renderer
        self._batch = batch
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="hfrl-examples", daemon=True)
        self._thread.start()

    def wait(self, timeout_s: float) -> ExampleClips | None:
        """Block until the examples are ready (or ``timeout_s`` passes); the result."""
        self._thread.join(timeout_s)
        return self.result

    def close(self) -> None:
        """Stop (after the frame being rendered) and wait for the thread."""
        self._closing = True
        self._thread.join(timeout=30)

    def _run(self) -> None:
        if hasattr(os, "setpriority"):  # the window and the pairs first
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 15)
        try:
            self.result = self._find()
        except Exception as error:  # the card says why instead of killing the window
            self.result = ExampleClips(note=f"no examples: {error}")

    def _find(self) -> ExampleClips:
        uids = self.store.clip_uids(self.env_id)
        best: tuple[float, Clip] | None = None
        worst: tuple[float, Clip] | None = None
        for start in range(0, len(uids), self._batch):
            if self._closing:
                return ExampleClips(note="closed")
            batch = self.store.get_clips(uids[start : start + self._batch])
            clips = [clip for clip in batch if clip.num_steps >= 1]
            if not clips:
                continue
            returns = _returns(clips, self.goal)
            high, low = int(returns.argmax()), int(returns.argmin())
            if best is None or returns[high] > best[0]:
                best = (float(returns[high]), clips[high])
            if worst is None or returns[low] < worst[0]:
                worst = (float(returns[low]), clips[low])
        if best is None or worst is None or best[0] == worst[0]:
            note = "no examples yet: the store has no two clips of different returns"
            return ExampleClips(num_clips=len(uids), note=note)
        renderer = self._make_renderer()
        try:
            good = _frames(renderer, best[1], lambda: self._closing)
            bad = _frames(renderer, worst[1], lambda: self._closing)
        finally:
            renderer.close()
        return ExampleClips(good, bad, best[0], worst[0], num_clips=len(uids))


def seen_cards_path() -> Path:
    """``$XDG_CONFIG_HOME/hfrl/task_cards.json``, next to the saved annotator name."""
    return saved_name_path().parent / "task_cards.json"


class SeenCards:
    """Which task cards each annotator has seen: ``{annotator: ["env_id · goal", ...]}``.

    A missing or unreadable file counts as nothing seen (it only decides whether a card
    opens by itself); it is rewritten whole through a temporary file.

    Args:
        path: the JSON file (default :func:`seen_cards_path`).

    Example:
        >>> import tempfile
        >>> folder = tempfile.TemporaryDirectory()
        >>> seen = SeenCards(Path(folder.name) / "cards.json")
        >>> seen.has_seen("ana", "hfrl/CartPole-v0 · task")
        False
        >>> seen.mark_seen("ana", "hfrl/CartPole-v0 · task")
        >>> SeenCards(seen.path).has_seen("ana", "hfrl/CartPole-v0 · task")
        True
        >>> folder.cleanup()
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or seen_cards_path()

    def _load(self) -> dict[str, list[str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {
            str(name): [str(card) for card in cards]
            for name, cards in data.items()
            if isinstance(cards, list)
        }

    def has_seen(self, annotator: str, card: str) -> bool:
        """Whether ``annotator`` has been shown ``card``."""
        return card in self._load().get(annotator, [])

    def mark_seen(self, annotator: str, card: str) -> None:
        """Remember that ``annotator`` has been shown ``card`` (best effort: a read-only
        config folder only means the card opens again next time)."""
        data = self._load()
        cards = data.setdefault(annotator, [])
        if card in cards:
            return
        cards.append(card)
        temporary = self.path.with_name(self.path.name + ".tmp")
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(temporary, self.path)


@dataclass
class _Card:
    text: TaskText
    examples: ExampleFinder | None


class TaskCards:
    """The task cards of one labelling session, one per env (made when first needed).

    Args:
        describe_goal: ``env_id -> "env · goal"`` (the window's header line).
        goal_for: ``env_id -> Goal`` being taught (default: the env's task).
        store: where the example clips come from (``None``: text-only cards).
        seen: the first-use memory (``None``: remember nothing, never open by itself).
        make_renderer: makes the examples' renderer (tests pass a fake).
    """

    def __init__(
        self,
        describe_goal: Callable[[str], str],
        *,
        goal_for: Callable[[str], Goal] = lambda env_id: TASK,
        store: LabelStore | None = None,
        seen: SeenCards | None = None,
        make_renderer: Callable[[], FrameRenderer] = _clip_renderer,
    ) -> None:
        self.describe_goal = describe_goal
        self.goal_for = goal_for
        self.store = store
        self.seen = seen
        self._make_renderer = make_renderer
        self._cards: dict[str, _Card] = {}

    def key(self, env_id: str) -> str:
        """The card's name in the first-use memory: ``"env_id · goal"``."""
        return f"{env_id} · {self.goal_for(env_id).name}"

    def text(self, env_id: str) -> TaskText:
        """The card's words (starts finding its examples, the first time)."""
        return self._card(env_id).text

    def examples(self, env_id: str) -> ExampleClips | None:
        """The card's examples: ``None`` while they are found and rendered."""
        finder = self._card(env_id).examples
        if finder is None:
            return ExampleClips(note="no examples: no store")
        return finder.result

    def first_use(self, annotator: str, env_id: str) -> bool:
        """Whether the card should open by itself: ``annotator`` has not seen it yet.
        Marks it seen (it is about to be shown)."""
        if self.seen is None or self.seen.has_seen(annotator, self.key(env_id)):
            return False
        self.seen.mark_seen(annotator, self.key(env_id))
        return True

    def close(self) -> None:
        """Stop finding and rendering examples (the window closes)."""
        for card in self._cards.values():
            if card.examples is not None:
                card.examples.close()

    def _card(self, env_id: str) -> _Card:
        if env_id not in self._cards:
            goal = self.goal_for(env_id)
            text = task_text(env_id, goal, self.describe_goal(env_id))
            finder = None
            if self.store is not None:
                finder = ExampleFinder(self.store, env_id, goal, make_renderer=self._make_renderer)
            self._cards[env_id] = _Card(text, finder)
        return self._cards[env_id]

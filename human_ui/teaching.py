"""The teaching overlay's numbers: what the reward model thinks of the pair on screen.

Under each clip the window draws the model's predicted reward per step; between them, its
probability that the left clip is better (the ensemble mean of the members' Bradley-Terry
probabilities, with their range); after an answer, whether the model agreed. The model is
loaded lazily (torch is imported only when the overlay has a model to show). A window on a
run's store watches the run's ``reward_model/`` folder even before training first writes it,
and reloads the model when a refit rewrites it (one ``stat`` per pair; the checkpoint's
weights hash says whether it really changed). The window reads a private copy of the two
files, so it never touches the run's folder while training replaces it.

Classes:
    TeachingInfo: the model's view of one pair.
    TeachingModel: loads a reward-model checkpoint and explains pairs with it.

Functions:
    find_reward_model: the checkpoint folder for a store (``--reward-model`` or the run's).
    agreement: did the model agree with an answer?
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hfrl_gym.answers import Choice
from hfrl_gym.clips import ClipPair
from hfrl_gym.errors import CheckpointError, ConfigError

EQUAL_MARGIN = 0.1
"""``|P(left better) - 0.5|`` below which the model counts as saying "equally good"."""


@dataclass(frozen=True)
class TeachingInfo:
    """The reward model's view of one pair.

    Attributes:
        left_rewards: ``(T_left,)`` predicted (normalised) reward of each step of the left clip.
        right_rewards: ``(T_right,)`` the same for the right clip.
        p_left: ensemble-mean probability that the left clip is better, in ``[0, 1]``.
        p_left_members: ``(M,)`` each member's probability.

    Example:
        >>> info = TeachingInfo(np.ones(3), np.zeros(3), 0.8, np.array([0.7, 0.9]))
        >>> info.left_return, info.summary
        (3.0, 'model: P(left better) = 0.80 (members 0.70-0.90)')
    """

    left_rewards: np.ndarray
    right_rewards: np.ndarray
    p_left: float
    p_left_members: np.ndarray

    @property
    def left_return(self) -> float:
        """Predicted return of the left clip."""
        return float(np.sum(self.left_rewards))

    @property
    def right_return(self) -> float:
        """Predicted return of the right clip."""
        return float(np.sum(self.right_rewards))

    @property
    def summary(self) -> str:
        """One line: P(left better) and the members' range."""
        low, high = float(np.min(self.p_left_members)), float(np.max(self.p_left_members))
        return f"model: P(left better) = {self.p_left:.2f} (members {low:.2f}-{high:.2f})"


def agreement(p_left: float, choice: Choice) -> str:
    """Whether the model's belief matches an answer, said in words.

    Example:
        >>> agreement(0.8, Choice.LEFT), agreement(0.8, Choice.RIGHT), agreement(0.55, Choice.EQUAL)
        ('the model agreed (P(left) = 0.80)', 'the model disagreed (P(left) = 0.80)', \
'the model agreed (P(left) = 0.55)')
    """
    if choice is Choice.SKIP:
        return f"skipped (the model says P(left) = {p_left:.2f})"
    model_says = Choice.EQUAL if abs(p_left - 0.5) < EQUAL_MARGIN else None
    if model_says is None:
        model_says = Choice.LEFT if p_left > 0.5 else Choice.RIGHT
    verdict = "agreed" if model_says is choice else "disagreed"
    return f"the model {verdict} (P(left) = {p_left:.2f})"


def find_reward_model(store_path: Path, explicit: Path | None = None) -> Path | None:
    """The reward-model folder to explain pairs with.

    Args:
        store_path: the label store; a store inside a run folder (``runs/x/store.sqlite``)
            has its model in ``runs/x/reward_model/``, watched even before training writes it.
        explicit: ``--reward-model DIR``; must hold a checkpoint (``meta.json``).

    Returns:
        The folder, or ``None`` when the store is in no run folder and has no model beside it.

    Raises:
        ConfigError: ``explicit`` holds no checkpoint.
    """
    if explicit is not None:
        if not (Path(explicit) / "meta.json").is_file():
            raise ConfigError(
                f"--reward-model {explicit}: no reward-model checkpoint there (meta.json is "
                "missing); give a run's reward_model/ folder"
            )
        return Path(explicit)
    folder = Path(store_path).parent
    sibling = folder / "reward_model"
    in_run = (folder / "config.json").is_file() or (folder / "status.json").is_file()
    return sibling if in_run or (sibling / "meta.json").is_file() else None


class TeachingModel:
    """A reward-model checkpoint that explains pairs; reloaded when the checkpoint changes.

    Safe to call from one background thread (the prefetcher's); loading happens there.

    Args:
        directory: the checkpoint folder, or ``None`` (every pair then gets :attr:`note`).

    Example:
        >>> model = TeachingModel(None)
        >>> model.explain(None) is None, model.note
        (True, 'no reward model yet (give --reward-model DIR, or train one)')
    """

    def __init__(self, directory: Path | None) -> None:
        self.directory = None if directory is None else Path(directory)
        self.note = "no reward model yet (give --reward-model DIR, or train one)"
        if self.directory is not None:
            self.note = f"no reward model yet: training writes {self.directory} at its first fit"
        self._model: Any = None
        self._stamp: tuple[int, int, int] | None = None
        self._weights_sha256: str | None = None
        self.loads = 0
        self._lock = threading.Lock()

    def _current_model(self) -> Any:
        if self.directory is None:
            return None
        meta = self.directory / "meta.json"
        try:
            stat = meta.stat()
        except OSError:  # not written yet, or between a save's two renames
            return self._model
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if stamp == self._stamp:
            return self._model
        try:
            sha = json.loads(meta.read_text(encoding="utf-8")).get("weights_sha256")
        except (OSError, ValueError, AttributeError):
            return self._model  # mid-write: look again at the next pair
        if sha is not None and sha == self._weights_sha256:
            self._stamp = stamp  # rewritten with the same weights
            return self._model
        try:
            self._model = self._load_copy()
            self._stamp, self._weights_sha256 = stamp, sha
            self.loads += 1
            fits = self._model.num_fits
            self.note = f"reward model {self.directory} ({fits} fits)"
        except CheckpointError as error:  # replaced while copied: try again later
            self.note = f"reward model unreadable: {error}"
        return self._model

    def _load_copy(self) -> Any:
        """The model read from a private copy of the checkpoint's two files.

        Reading the run's folder itself could finish a save that looks interrupted but is
        in progress in the training process, racing its renames; a copy leaves it alone.
        """
        from hfrl_gym.reward_model import RewardModel  # torch, only when there is a model

        assert self.directory is not None
        with tempfile.TemporaryDirectory(prefix="hfrl-teaching-") as scratch:
            for name in ("meta.json", "weights.pt"):
                try:
                    shutil.copyfile(self.directory / name, Path(scratch) / name)
                except OSError as error:
                    raise CheckpointError(f"{self.directory / name}: {error}") from None
            return RewardModel.load(scratch, device="cpu")

    def explain(self, pair: ClipPair | None) -> TeachingInfo | None:
        """The model's view of a pair, or ``None`` (see :attr:`note` for why)."""
        with self._lock:
            model = None if pair is None else self._current_model()
            if model is None or pair is None:
                return None
            if pair.left.env_id != model.env_id:
                self.note = f"the reward model is for {model.env_id}, not {pair.left.env_id}"
                return None
            rewards = [
                model.predict_rewards(c.observations[:-1], c.actions, c.observations[1:])
                for c in (pair.left, pair.right)
            ]
            members = model.member_preference_probs([pair])[:, 0]
            return TeachingInfo(
                left_rewards=np.asarray(rewards[0], dtype=np.float64),
                right_rewards=np.asarray(rewards[1], dtype=np.float64),
                p_left=float(np.mean(members)),
                p_left_members=np.asarray(members, dtype=np.float64),
            )

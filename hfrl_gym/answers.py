"""Answers to a query: which clip of a pair is better.

Classes:
    Choice: ``left``, ``right``, ``equal`` or ``skip``.
    Answer: a choice with who gave it and how long it took.

Example:
    >>> Answer(Choice.LEFT, annotator="oracle").target
    1.0
    >>> Answer(Choice("skip")).target is None
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Choice(StrEnum):
    """A person's or teacher's verdict on a pair."""

    LEFT = "left"
    RIGHT = "right"
    EQUAL = "equal"
    SKIP = "skip"


_TARGETS = {Choice.LEFT: 1.0, Choice.RIGHT: 0.0, Choice.EQUAL: 0.5, Choice.SKIP: None}


@dataclass(frozen=True)
class Answer:
    """One answer to one query.

    Attributes:
        choice: the verdict.
        annotator: who answered (a person's name, or a teacher preset such as ``"oracle"``).
        seconds: time taken to answer, in seconds (0 for scripted teachers).
    """

    choice: Choice
    annotator: str = "unknown"
    seconds: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "choice", Choice(self.choice))

    @property
    def target(self) -> float | None:
        """Probability that left is better, as a training target; ``None`` for skip."""
        return _TARGETS[self.choice]

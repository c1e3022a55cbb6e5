"""Answers to a query: which clip of a pair is better, and optionally by how much.

Classes:
    Choice: ``left``, ``right``, ``equal`` or ``skip``.
    Confidence: ``much`` or ``slightly`` better, optional on a ``left``/``right`` answer.
    Answer: a choice (with its confidence, if given), who gave it and how long it took.

Functions:
    check_confidence: a confidence value as a :class:`Confidence` (or ``None``), if valid.

The fit's target (:attr:`Answer.target`, the probability that left is better) is 1 for
``left``, 0 for ``right``, 0.5 for ``equal`` (Christiano et al. 2017) and nothing for ``skip``.
A confidence softens it: "slightly better" is 0.75 (left) or 0.25 (right), halfway between a
decided answer and ``equal``; "much better" keeps 1 or 0. An answer without a confidence is
exactly the answer of old (1 or 0), so stores written before confidences existed fit as they
did. Why these values: docs/STORE_FORMAT.md ("Confidence").

Example:
    >>> Answer(Choice.LEFT, annotator="oracle").target
    1.0
    >>> Answer(Choice.RIGHT, confidence="slightly").target
    0.25
    >>> Answer(Choice("skip")).target is None
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hfrl_gym.errors import ConfigError


class Choice(StrEnum):
    """A person's or teacher's verdict on a pair."""

    LEFT = "left"
    RIGHT = "right"
    EQUAL = "equal"
    SKIP = "skip"


class Confidence(StrEnum):
    """How much better the chosen clip is (only for ``left`` and ``right``)."""

    MUCH = "much"
    SLIGHTLY = "slightly"


_TARGETS = {Choice.LEFT: 1.0, Choice.RIGHT: 0.0, Choice.EQUAL: 0.5, Choice.SKIP: None}
SLIGHTLY_TARGETS = {Choice.LEFT: 0.75, Choice.RIGHT: 0.25}
"""Targets of a "slightly better" answer: halfway between the decided answer and ``equal``."""
CONFIDENT_CHOICES = (Choice.LEFT, Choice.RIGHT)


def check_confidence(confidence: object, choice: object) -> Confidence | None:
    """``confidence`` as a :class:`Confidence` (``None`` stays ``None``), if valid for ``choice``.

    Raises:
        ConfigError: a value other than ``much``/``slightly``/``None``, or a confidence on an
            ``equal`` or ``skip`` answer.

    Example:
        >>> check_confidence("much", "left")
        <Confidence.MUCH: 'much'>
        >>> check_confidence("very", "left")
        Traceback (most recent call last):
        ...
        hfrl_gym.errors.ConfigError: an answer's confidence must be 'much', 'slightly' or \
None (not given), got 'very'
    """
    if confidence is None:
        return None
    values = [value.value for value in Confidence]
    if not isinstance(confidence, str) or confidence not in values:
        raise ConfigError(
            f"an answer's confidence must be 'much', 'slightly' or None (not given), "
            f"got {confidence!r}"
        )
    if choice not in [value.value for value in CONFIDENT_CHOICES]:
        raise ConfigError(
            f"only a 'left' or 'right' answer has a confidence, got {confidence!r} on a "
            f"{str(choice)!r} answer; give None"
        )
    return Confidence(confidence)


@dataclass(frozen=True)
class Answer:
    """One answer to one query.

    Attributes:
        choice: the verdict.
        annotator: who answered (a person's name, or a teacher preset such as ``"oracle"``).
        seconds: time taken to answer, in seconds (0 for scripted teachers).
        confidence: how much better the chosen clip is, ``None`` when not given (the
            default). Only ``left`` and ``right`` answers may have one.

    Raises:
        ValueError: a choice that is not a :class:`Choice`; ``ConfigError`` (a
            ``ValueError``) for a confidence that :func:`check_confidence` refuses.
    """

    choice: Choice
    annotator: str = "unknown"
    seconds: float = 0.0
    confidence: Confidence | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "choice", Choice(self.choice))
        object.__setattr__(self, "confidence", check_confidence(self.confidence, self.choice))

    @property
    def target(self) -> float | None:
        """Probability that left is better, as a training target; ``None`` for skip."""
        if self.confidence is Confidence.SLIGHTLY:
            return SLIGHTLY_TARGETS[self.choice]
        return _TARGETS[self.choice]

    @property
    def decided(self) -> bool:
        """Whether the answer prefers one clip (``left`` or ``right``, any confidence)."""
        return self.choice in CONFIDENT_CHOICES

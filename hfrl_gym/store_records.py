"""What a label store gives back: posted queries and stored answers.

Both are importable from :mod:`hfrl_gym.store`, where :class:`~hfrl_gym.store.LabelStore`
builds them from the rows of :class:`~hfrl_gym.store_sqlite.StoreDatabase`.

Classes:
    Query: a posted pair of clip uids.
    AnswerRecord: a stored answer.

Functions:
    answer_record: an AnswerRecord from an answer row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hfrl_gym.answers import Answer, Choice, Confidence


@dataclass(frozen=True)
class Query:
    """A pair of clips posted for comparison.

    Attributes:
        id: the store's id of the query (increasing in posting order).
        left_uid: uid of the clip shown on the left.
        right_uid: uid of the clip shown on the right.
        round: the trainer's round that posted it.
        created: when it was posted, in seconds since the Unix epoch.

    Example:
        >>> Query(id=1, left_uid="a1", right_uid="b2", round=0, created=0.0).round
        0
    """

    id: int
    left_uid: str
    right_uid: str
    round: int
    created: float


@dataclass(frozen=True)
class AnswerRecord:
    """An answer as stored: the :class:`Answer` plus its row id, query and time.

    Attributes:
        id: the answer's row id (increasing in the order answers reached this store).
        query_id: the query answered.
        choice: the verdict.
        annotator: who answered.
        seconds: time taken to answer, in seconds.
        created: when it was stored, in seconds since the Unix epoch.
        confidence: ``much`` or ``slightly`` better, ``None`` when not given (every answer
            of a store older than schema version 2).

    Example:
        >>> AnswerRecord(7, 1, Choice.LEFT, "ana", 2.5, 0.0).answer.target
        1.0
        >>> AnswerRecord(7, 1, Choice.LEFT, "ana", 2.5, 0.0, Confidence.SLIGHTLY).answer.target
        0.75
    """

    id: int
    query_id: int
    choice: Choice
    annotator: str
    seconds: float
    created: float
    confidence: Confidence | None = None

    @property
    def answer(self) -> Answer:
        """The answer without its storage details."""
        return Answer(
            self.choice, annotator=self.annotator, seconds=self.seconds, confidence=self.confidence
        )


def answer_record(row: Sequence[Any]) -> AnswerRecord:
    """An :class:`AnswerRecord` from an answer row (id, query_id, choice, annotator, seconds,
    created, confidence)."""
    confidence = None if row[6] is None else Confidence(row[6])
    return AnswerRecord(row[0], row[1], Choice(row[2]), row[3], row[4], row[5], confidence)

"""Where the comparison window's pairs come from and its answers go: a store, or a server.

:class:`~human_ui.compare_state.CompareState` asks a :class:`LabelSource` for the queries to
show, their clips, this person's answers, undo and progress, and never touches a store or a
network itself. Two sources implement it:

* :class:`StoreSource`: a :class:`~hfrl_gym.store.LabelStore` opened by this process (``hfrl
  label STORE``, ``hfrl train --teacher human``); sharing a store, queries are claimed in it
  (claimant ``<annotator>#<window id>``).
* :class:`~human_ui.server_source.ServerSource`: the label server's HTTP API (``hfrl label
  http://HOST:PORT --token T``); queries are leased by the server, the same claims keyed by
  annotator and client.

A source that cannot do what was asked raises a :class:`SourceError`: :class:`AnswerRefusedError`
when an answer is refused for good (the query is no longer this window's), and
:class:`SourceUnavailableError` when the source cannot be reached now (try again).

Classes:
    LabelSource: what the comparison state machine needs.
    StoreSource: a label store opened by this process.
    SourceError, AnswerRefusedError, SourceUnavailableError: what a source raises
        (:mod:`human_ui.source_errors`, re-exported).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from hfrl_gym.answers import Answer
from hfrl_gym.clips import ClipPair
from hfrl_gym.store import AnswerRecord, LabelStore
from human_ui.commands import Progress
from human_ui.source_errors import AnswerRefusedError, SourceError, SourceUnavailableError

__all__ = [
    "AnswerRefusedError",
    "LabelSource",
    "SourceError",
    "SourceUnavailableError",
    "StoreSource",
]


class LabelSource(Protocol):
    """What :class:`~human_ui.compare_state.CompareState` needs from where labels live.

    Attributes:
        annotator: the person's name, stored with each answer.
        claimant: this window's name for its claims or leases (``annotator#id``).
        claiming: whether :meth:`fetch` claims the queries it returns (so it should ask for
            few), rather than listing every pending one.
        can_review: whether answered pairs can be shown again (review mode).
    """

    annotator: str
    claimant: str
    claiming: bool
    can_review: bool

    def fetch(self, limit: int | None) -> list[int]:
        """The pending query ids to show, in order (claimed when :attr:`claiming`)."""
        ...

    def peek(self, limit: int) -> list[int]:
        """Pending query ids not claimed by this window, to render just in case."""
        ...

    def pair(self, query_id: int) -> ClipPair:
        """The query's clips (may be called from a background thread)."""
        ...

    def answers(self, query_id: int) -> list[AnswerRecord]:
        """This annotator's answers to a query, oldest first."""
        ...

    def add_answer(self, query_id: int, answer: Answer) -> None:
        """Store an answer; it is committed when this returns."""
        ...

    def undo(self) -> AnswerRecord | None:
        """Delete this annotator's newest answer and return it (``None``: nothing to undo)."""
        ...

    def answered_ids(self) -> list[int]:
        """The queries this annotator answered, in the order of their newest answers."""
        ...

    def progress(self) -> Progress:
        """Queries answered, pending and in all, as the window shows them."""
        ...

    def release(self) -> None:
        """Give back this window's claims (it closes)."""
        ...


class StoreSource:
    """A :class:`LabelSource` on a store this process opened.

    Which queries are pending:

    * ``query_ids`` given (``hfrl train --teacher human``): those without an answer.
    * ``share=True`` (``hfrl label``, the default): queries nobody answered yet, claimed in
      the store, so that several windows on one store never show the same query at once.
    * ``share=False`` (``hfrl label --each``): queries this annotator has not answered,
      whoever else did (several annotators per query).

    Args:
        store: the open label store (used by this thread only, except :meth:`pair`'s caller
            passes its own store to the prefetcher).
        annotator: the person's name.
        query_ids: only these queries (a training round), else every query.
        share: without ``query_ids``: claim queries nobody answered (``True``), or show every
            query this annotator has not answered (``False``).
        claim_s: seconds a claim lasts without being renewed.
        poll_s: seconds between the window's polls; a window reopened after a crash takes
            over the same person's claims left unrenewed for three polls.

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> from hfrl_gym.answers import Choice
        >>> from hfrl_gym.clips import Clip
        >>> folder = tempfile.TemporaryDirectory()
        >>> def clip() -> Clip:
        ...     return Clip("hfrl/CartPole-v0", np.zeros((6, 4), np.float32),
        ...                 np.zeros(5, np.int64), np.ones(5), states=np.zeros((6, 4)))
        >>> store = LabelStore(f"{folder.name}/labels.db")
        >>> _ = store.add_queries([tuple(store.add_clips([clip(), clip()])) for _ in range(2)])
        >>> source = StoreSource(store, "ana")
        >>> source.fetch(1)
        [1]
        >>> source.add_answer(1, Answer(Choice.LEFT, annotator="ana", seconds=1.0))
        >>> source.progress().text, source.undo().query_id
        ('answered 1 / pending 1 / total 2', 1)
        >>> store.close(); folder.cleanup()
    """

    can_review = True

    def __init__(
        self,
        store: LabelStore,
        annotator: str,
        *,
        query_ids: Sequence[int] | None = None,
        share: bool = True,
        claim_s: float = 60.0,
        poll_s: float = 1.0,
    ) -> None:
        self.store = store
        self.annotator = annotator
        # Claims are this window's, not the person's: two windows of one annotator never
        # show the same query. A window renews its claims at every poll; one reopened after a
        # crash takes over the person's claims left unrenewed for three polls.
        self.claimant = f"{annotator}#{uuid.uuid4().hex[:8]}"
        self.scope = None if query_ids is None else sorted({int(q) for q in query_ids})
        self.share = share
        self.claim_s = claim_s
        self.poll_s = poll_s
        self.claiming = share and self.scope is None

    def fetch(self, limit: int | None) -> list[int]:
        """The pending query ids to show (see the class docstring for which)."""
        who = None if self.share else self.annotator
        if self.scope is not None:
            queries = self.store.pending_queries(annotator=who, query_ids=self.scope, limit=limit)
        elif self.share:
            queries = self.store.claim_pending(
                self.claimant,
                limit=limit or 1,
                lease_s=self.claim_s,
                adopt=f"{self.annotator}#",
                adopt_after_s=3 * self.poll_s,
            )
        else:
            queries = self.store.pending_queries(annotator=who, limit=limit)
        return [query.id for query in queries]

    def peek(self, limit: int) -> list[int]:
        """Queries nobody answered, claimed or not (sharing only; else the fetched ones are
        every pending query already)."""
        if not self.claiming:
            return []
        return [query.id for query in self.store.pending_queries(limit=limit)]

    def pair(self, query_id: int) -> ClipPair:
        """The query's clips from the store."""
        return self.store.pair(query_id)

    def answers(self, query_id: int) -> list[AnswerRecord]:
        """This annotator's answers to the query."""
        return self.store.answers(query_id=query_id, annotator=self.annotator)

    def add_answer(self, query_id: int, answer: Answer) -> None:
        """Commit the answer to the store."""
        self.store.add_answer(query_id, answer)

    def undo(self) -> AnswerRecord | None:
        """Delete this annotator's newest answer (``None`` when it is outside the scope, or
        another window of this annotator undid it first)."""
        mine = self.store.answers(annotator=self.annotator)
        if not mine or (self.scope is not None and mine[-1].query_id not in self.scope):
            return None
        return self.store.undo_last_answer(self.annotator)

    def answered_ids(self) -> list[int]:
        """This annotator's answered queries in the scope, by their newest answer."""
        latest = self.store.latest_answers(annotator=self.annotator)
        ordered = sorted(latest.values(), key=lambda record: record.id)
        return [r.query_id for r in ordered if self.scope is None or r.query_id in self.scope]

    def progress(self) -> Progress:
        """The scope's, the store's, or this annotator's progress (``share=False``)."""
        if self.scope is not None:
            pending = len(self.fetch(None))
            return Progress(len(self.scope) - pending, pending, len(self.scope))
        counts = self.store.counts()
        if self.share:
            return Progress(counts["answered"], counts["pending"], counts["queries"])
        answered = len(self.store.latest_answers(annotator=self.annotator))
        return Progress(answered, counts["queries"] - answered, counts["queries"])

    def release(self) -> None:
        """Give back this window's claims: a window opened next, or another person's, takes
        them at once. A window killed instead lets them lapse after ``claim_s``."""
        self.store.release_claims(self.claimant)

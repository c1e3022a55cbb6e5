"""The label store's leases: who may answer which query now (``LabelStore``'s claims part).

Leases (the ``claims`` table) share the work between answerers without two answering the same
query: a comparison window (claimant ``<annotator>#<window id>``) and a client of the label
server (``<annotator>#<client id>``) use this one mechanism. A query wants one answer, or
``k`` answers of different annotators on every ``n``-th query (``shared_answers`` in the
store's meta), so that agreement between people is defined. :class:`StoreLeases` is mixed
into :class:`hfrl_gym.store.LabelStore`; its SQL is in :mod:`hfrl_gym.store_sqlite`.

Classes:
    StoreLeases: claim, hold, release and answer under a lease; the shared-answers setting.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hfrl_gym.answers import Answer
from hfrl_gym.errors import ConfigError, NotClaimedError, StoreError
from hfrl_gym.store_records import AnswerRecord, Query, answer_record
from hfrl_gym.store_rules import check_answer
from hfrl_gym.store_sqlite import StoreDatabase

SHARED_ANSWERS_KEY = "shared_answers"
"""The meta key of :meth:`StoreLeases.shared_answers`."""


class StoreLeases:
    """The leases part of :class:`~hfrl_gym.store.LabelStore` (which provides the members
    declared here)."""

    _db: StoreDatabase
    path: Path

    if TYPE_CHECKING:  # LabelStore's own

        def get_meta(self, key: str, default: Any = None) -> Any: ...
        def set_meta(self, key: str, value: Any) -> None: ...
        def _unknown_queries(self, query_ids: list[int]) -> list[int]: ...

    def claim_pending(
        self,
        claimant: str,
        *,
        limit: int = 1,
        lease_s: float = 600.0,
        adopt: str | None = None,
        adopt_after_s: float = 5.0,
        annotator: str | None = None,
    ) -> list[Query]:
        """Atomically take up to ``limit`` open queries no other claimant holds.

        Lets several answerers share the work without answering the same query: each gets
        queries that still want an answer and no unexpired claim by another claimant. A
        query wants one answer, or ``k`` answers from different annotators when the store's
        :meth:`shared_answers` asks that of it; such a query is leased to ``k`` claimants of
        different annotators at once. An annotator never gets a query they answered. A
        claimant's own claims are given to it again (after a restart) and renewed for
        ``lease_s`` s. The windows and the label server's clients share this one mechanism.

        Args:
            claimant: a name unique to this answerer (a window: the annotator's name and the
                window's own id, ``"ana#3f2a"``), so two windows of one person never share a
                query.
            limit: most queries to take.
            lease_s: seconds before an unanswered claim lapses and others may take it.
            adopt: a prefix of claimant names (the same person's windows, ``"ana#"``) whose
                claims this claimant takes over once they have gone ``adopt_after_s`` without
                renewal (a window that crashed; its own lease being ``lease_s`` too).
            adopt_after_s: seconds without renewal after which such claims are taken over.
            annotator: who answers through this claimant (default: ``claimant`` up to ``#``).
        """
        if limit < 0:
            raise ConfigError(f"limit must be >= 0, got {limit}")
        now = time.time()
        rows = self._db.claim(
            claimant,
            annotator=claimant.partition("#")[0] if annotator is None else annotator,
            limit=limit,
            now=now,
            expires=now + lease_s,
            adopt_prefix=adopt,
            adopt_before=now + lease_s - adopt_after_s,
            shared=self.shared_answers(),
        )
        return [Query(*row) for row in rows]

    def release_claims(self, claimant: str) -> None:
        """Give back every query ``claimant`` holds (a window that closes); others may take them
        at once instead of after the lease."""
        self._db.release_claims(claimant)

    def hold_claim(
        self, query_id: int, claimant: str, *, lease_s: float, annotator: str | None = None
    ) -> None:
        """Claim one known query for ``claimant`` for ``lease_s`` s (the query of an undone
        answer goes back to whoever undid it)."""
        if self._unknown_queries([query_id]):
            raise StoreError(f"no query {query_id} in {self.path}; claim a posted query id")
        who = claimant.partition("#")[0] if annotator is None else annotator
        self._db.hold(query_id, claimant, who, time.time() + lease_s)

    def held_queries(self, claimant: str) -> list[Query]:
        """The queries ``claimant`` holds (unexpired claims), ordered by id."""
        return [Query(*row) for row in self._db.held_query_rows(claimant, time.time())]

    def shared_answers(self) -> tuple[int, int]:
        """``(every, k)``: every ``every``-th query (by id) wants ``k`` answers from different
        annotators, the others one (meta ``shared_answers``; ``(1, 1)`` when unset)."""
        value = self.get_meta(SHARED_ANSWERS_KEY)
        if not isinstance(value, dict):
            return (1, 1)
        every, k = value.get("every"), value.get("k")
        valid = all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in (every, k))
        return (every, k) if valid else (1, 1)

    def set_shared_answers(self, every: int, k: int) -> None:
        """Ask ``k`` answers of different annotators on every ``every``-th query (so that
        their agreement is defined); ``k = 1``: one answer each."""
        for name, value in (("every", every), ("k", k)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(
                    f"shared answers: {name} must be a whole number >= 1, got {value!r}"
                )
        self.set_meta(SHARED_ANSWERS_KEY, {"every": every, "k": k})

    def add_claimed_answer(
        self, query_id: int, answer: Answer, claimant: str, *, uid: str | None = None
    ) -> tuple[AnswerRecord, bool]:
        """Store the answer of a claimant to a query it holds, and end the claim, in one
        transaction committed before this returns.

        Args:
            query_id: the query answered.
            answer: the answer (its annotator is the claimant's person).
            claimant: who holds the query (``"ana#c0123"``).
            uid: the answer's uid, made by the client (32 hex digits): the same uid sent
                again stores nothing and returns the stored answer (a retried request).

        Returns:
            The stored answer, and whether this call stored it (``False``: a retry).

        Raises:
            NotClaimedError: the claimant does not hold the query (never claimed, lapsed, or
                already answered by this annotator); nothing is stored.
            StoreError: the answer breaks the store's rules.
        """
        fields = check_answer(
            answer.choice,
            answer.annotator,
            answer.seconds,
            "fix the caller",
            confidence=answer.confidence,
        )
        if uid is not None and not (len(uid) == 32 and all(c in "0123456789abcdef" for c in uid)):
            raise StoreError(f"an answer's uid must be 32 lowercase hex digits, got {uid[:40]!r}")
        with self._db.transaction():
            if uid is not None and (row := self._db.answer_row_by_uid(uid)) is not None:
                record = answer_record(row)
                if record.query_id != int(query_id) or record.annotator != answer.annotator:
                    raise NotClaimedError(f"answer uid {uid} was used for another answer")
                return record, False
            now = time.time()
            if not self._db.holds(query_id, claimant, now) or self._db.answer_rows(
                query_id=int(query_id), annotator=answer.annotator
            ):
                raise NotClaimedError(
                    f"query {query_id} is not leased to {claimant}; lease pairs again and "
                    "answer one of those"
                )
            row = (uid or uuid.uuid4().hex, int(query_id), *fields, now)
            (answer_id,) = self._db.insert_answers([row])
            self._db.release_claims(claimant, query_id)
        record = answer_record((answer_id, int(query_id), *fields[:3], now, fields[3]))
        return record, True

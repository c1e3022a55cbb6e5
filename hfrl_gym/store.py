"""LabelStore: the SQLite hub where clips, queries and answers meet.

The trainer posts queries (pairs of clips) and waits; any number of answerers (a scripted
teacher in this process, a labelling window in another, a second window) answer through the
store. One store is one SQLite file in WAL mode; the schema is in ``docs/STORE_FORMAT.md``,
export and import of a versioned folder in :mod:`hfrl_gym.store_io`.

Durability: every write is one transaction, committed with ``synchronous=FULL`` (the WAL is
fsynced at every commit) before the call returns, so killing any process at any moment, or
losing power, loses no answer that was given. Changing an answer appends a new row (history
is kept, the newest counts); :meth:`LabelStore.undo_last_answer` deletes a row (backspace).

Concurrency: any number of processes may open the same file; writers queue (``BEGIN
IMMEDIATE`` and a busy timeout) instead of failing. One ``LabelStore`` may be shared by the
threads of one process (its calls are serialised by a lock); never share one across ``fork``:
open a new one in the child.

Classes:
    LabelStore: open or create a store; clips, queries, claims, answers and metadata.
    Query: a posted pair of clip uids.
    AnswerRecord: a stored answer.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hfrl_gym.answers import Answer, Choice
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.errors import ConfigError, StoreError
from hfrl_gym.store_sqlite import CLIP_COLUMNS, IN_JSON, StoreFile, clip_from_row, clip_row

_QUERY_COLS = "id, left_uid, right_uid, round, created"
_ANSWER_COLS = "id, query_id, choice, annotator, seconds, created"


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

    Example:
        >>> AnswerRecord(7, 1, Choice.LEFT, "ana", 2.5, 0.0).answer.target
        1.0
    """

    id: int
    query_id: int
    choice: Choice
    annotator: str
    seconds: float
    created: float

    @property
    def answer(self) -> Answer:
        """The answer without its storage details."""
        return Answer(self.choice, annotator=self.annotator, seconds=self.seconds)


def _record(row: Sequence[Any]) -> AnswerRecord:
    return AnswerRecord(row[0], row[1], Choice(row[2]), row[3], row[4], row[5])


class LabelStore(StoreFile):
    """Clips, queries and answers in one SQLite file (WAL mode, ``schema_version`` 1).

    Opening, metadata (``set_meta``, ``get_meta``), ``check`` and ``close`` come from
    :class:`~hfrl_gym.store_sqlite.StoreFile`; use it as a context manager.

    Args:
        path: the store's file. A new path makes a new store when ``create`` is true.
        create: create the file when it does not exist.

    Raises:
        StoreError: the path is missing (with ``create=False``), not an hfrl store, corrupt,
            or written by a newer hfrl_gym. The file is left untouched.

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> from hfrl_gym.answers import Answer, Choice
        >>> folder = tempfile.TemporaryDirectory()
        >>> def clip(steps: int) -> Clip:
        ...     obs = np.zeros((steps + 1, 4), np.float32)
        ...     return Clip("hfrl/CartPole-v0", obs, np.zeros(steps, np.int64), np.ones(steps),
        ...                 states=np.zeros((steps + 1, 4)))
        >>> with LabelStore(f"{folder.name}/labels.db") as store:
        ...     (qid,) = store.add_queries([tuple(store.add_clips([clip(5), clip(5)]))])
        ...     store.add_answer(qid, Answer(Choice.LEFT, annotator="ana", seconds=1.5))
        ...     store.counts()["pending"], store.latest_answers()[qid].choice
        1
        (0, <Choice.LEFT: 'left'>)
        >>> folder.cleanup()
    """

    # -- clips ---------------------------------------------------------------------------

    def add_clip(self, clip: Clip) -> str:
        """Store a clip; storing the same uid again does nothing. Returns its uid."""
        return self.add_clips([clip])[0]

    def add_clips(self, clips: Iterable[Clip]) -> list[str]:
        """Store clips in one transaction (all or none). Returns their uids.

        Raises:
            StoreError: a clip's uid is already stored for another env or length, or its
                arrays or provenance cannot be stored without pickle.
        """
        rows = [clip_row(clip) for clip in clips]
        with self._transaction() as conn:
            for row in rows:
                old = conn.execute(
                    "SELECT env_id, num_steps FROM clips WHERE uid = ?", (row[0],)
                ).fetchone()
                if old is None:
                    conn.execute(f"INSERT INTO clips VALUES ({', '.join('?' * 10)})", row)
                elif tuple(old) != (row[1], row[2]):
                    raise StoreError(
                        f"clip uid {row[0]} is already stored for {old[0]!r} with {old[1]} "
                        f"steps, not {row[1]!r} with {row[2]}; give each new clip a new uid"
                    )
        return [row[0] for row in rows]

    def get_clip(self, uid: str) -> Clip:
        """The clip with this uid (``StoreError`` when unknown)."""
        return self.get_clips([uid])[0]

    def get_clips(self, uids: Sequence[str]) -> list[Clip]:
        """The clips with these uids, in the order given (``StoreError`` naming unknown ones)."""
        uids = list(uids)
        sql = f"SELECT {CLIP_COLUMNS} FROM clips WHERE uid {IN_JSON}"
        rows = self._read(sql, [json.dumps(uids)])
        by_uid = {row[0]: row for row in rows}
        missing = [uid for uid in uids if uid not in by_uid]
        if missing:
            raise StoreError(
                f"{len(missing)} unknown clip uid(s) in {self.path}, e.g. {missing[:3]}; "
                "add the clips with add_clip first"
            )
        clips = {uid: clip_from_row(row) for uid, row in by_uid.items()}
        return [clips[uid] for uid in uids]

    def clip_uids(self, env_id: str | None = None) -> list[str]:
        """Uids of all clips (of one env when given), in the order they were stored."""
        where, params = ("", []) if env_id is None else (" WHERE env_id = ?", [env_id])
        return [
            row[0] for row in self._read(f"SELECT uid FROM clips{where} ORDER BY rowid", params)
        ]

    def num_clips(self) -> int:
        """Number of stored clips."""
        return int(self._read("SELECT COUNT(*) FROM clips")[0][0])

    # -- queries -------------------------------------------------------------------------

    def add_query(self, left_uid: str, right_uid: str, *, round: int = 0) -> int:
        """Post one pair of stored clips; returns the query id."""
        return self.add_queries([(left_uid, right_uid)], round=round)[0]

    def add_queries(self, pairs: Sequence[tuple[str, str]], *, round: int = 0) -> list[int]:
        """Post pairs of stored clips as queries in one transaction; returns their ids.

        Raises:
            StoreError: a uid is unknown, a pair mixes envs or repeats one clip; nothing of
                this call is stored.
        """
        pairs = [(str(left), str(right)) for left, right in pairs]
        uids = sorted({uid for pair in pairs for uid in pair})
        now = time.time()
        with self._transaction() as conn:
            sql = f"SELECT uid, env_id FROM clips WHERE uid {IN_JSON}"
            env_of = dict(conn.execute(sql, [json.dumps(uids)]).fetchall())
            missing = [uid for uid in uids if uid not in env_of]
            if missing:
                raise StoreError(
                    f"cannot post queries: {len(missing)} clip uid(s) are not in {self.path}, "
                    f"e.g. {missing[:3]}; add the clips first (nothing was posted)"
                )
            for left, right in pairs:
                if left == right or env_of[left] != env_of[right]:
                    raise StoreError(
                        f"cannot post the pair ({left}, {right}): a query compares two different "
                        f"clips of one env, got {env_of[left]!r} and {env_of[right]!r} (nothing "
                        "was posted)"
                    )
            sql = "INSERT INTO queries (uid, left_uid, right_uid, round, created) VALUES "
            rows = [(uuid.uuid4().hex, left, right, int(round), now) for left, right in pairs]
            return [int(conn.execute(sql + "(?, ?, ?, ?, ?)", row).lastrowid or 0) for row in rows]

    def get_query(self, query_id: int) -> Query:
        """The query with this id (``StoreError`` when unknown)."""
        rows = self._read(f"SELECT {_QUERY_COLS} FROM queries WHERE id = ?", [int(query_id)])
        if not rows:
            raise StoreError(f"no query {query_id} in {self.path}; use an id from queries()")
        return Query(*rows[0])

    def queries(self, round: int | None = None) -> list[Query]:
        """All queries (of one round when given), ordered by id."""
        where, params = ("", []) if round is None else (" WHERE round = ?", [int(round)])
        rows = self._read(f"SELECT {_QUERY_COLS} FROM queries{where} ORDER BY id", params)
        return [Query(*row) for row in rows]

    def pending_queries(
        self,
        *,
        annotator: str | None = None,
        limit: int | None = None,
        query_ids: Sequence[int] | None = None,
    ) -> list[Query]:
        """Queries with no answer at all, or none by ``annotator`` when given; ordered by id.

        Args:
            annotator: count only this annotator's answers.
            limit: return at most this many (``None``: all).
            query_ids: consider only these queries.
        """
        by_annotator = "" if annotator is None else " AND a.annotator = ?"
        sql = f"SELECT {_QUERY_COLS} FROM queries q WHERE NOT EXISTS "
        sql += f"(SELECT 1 FROM answers a WHERE a.query_id = q.id{by_annotator})"
        params: list[Any] = [] if annotator is None else [annotator]
        if query_ids is not None:
            sql += f" AND q.id {IN_JSON}"
            params.append(json.dumps([int(qid) for qid in query_ids]))
        sql += " ORDER BY q.id"
        if limit is not None:
            if limit < 0:
                raise ConfigError(f"limit must be >= 0 or None, got {limit}")
            sql += " LIMIT ?"
            params.append(int(limit))
        return [Query(*row) for row in self._read(sql, params)]

    def claim_pending(
        self, claimant: str, *, limit: int = 1, lease_s: float = 600.0
    ) -> list[Query]:
        """Atomically take up to ``limit`` unanswered queries no other claimant holds.

        Lets several answerers share the work without answering the same query: each gets
        queries that have no answer and no unexpired claim by another claimant. A claimant's
        own claims are given to it again (after a restart) and renewed for ``lease_s`` s.

        Args:
            claimant: a name unique to this answerer (e.g. annotator and window).
            limit: most queries to take.
            lease_s: seconds before an unanswered claim lapses and others may take it.
        """
        if limit < 0:
            raise ConfigError(f"limit must be >= 0, got {limit}")
        now = time.time()
        with self._transaction() as conn:
            conn.execute("DELETE FROM claims WHERE expires <= ?", [now])
            rows = conn.execute(
                f"SELECT {_QUERY_COLS} FROM queries q WHERE NOT EXISTS (SELECT 1 FROM answers a "
                "WHERE a.query_id = q.id) AND NOT EXISTS (SELECT 1 FROM claims c WHERE "
                "c.query_id = q.id AND c.claimant != ?) ORDER BY q.id LIMIT ?",
                [claimant, int(limit)],
            ).fetchall()
            claims = [(row[0], claimant, now + lease_s) for row in rows]
            conn.executemany("INSERT OR REPLACE INTO claims VALUES (?, ?, ?)", claims)
        return [Query(*row) for row in rows]

    def _unknown_queries(self, query_ids: Sequence[int]) -> list[int]:
        ids = sorted({int(qid) for qid in query_ids})
        rows = self._read(f"SELECT id FROM queries WHERE id {IN_JSON}", [json.dumps(ids)])
        known = {row[0] for row in rows}
        return [qid for qid in ids if qid not in known]

    def pair(self, query: Query | int) -> ClipPair:
        """The query's two clips, as a :class:`ClipPair` with ``query_id`` set."""
        query = query if isinstance(query, Query) else self.get_query(query)
        left, right = self.get_clips([query.left_uid, query.right_uid])
        return ClipPair(left, right, query_id=query.id)

    # -- answers -------------------------------------------------------------------------

    def add_answer(self, query_id: int, answer: Answer) -> int:
        """Store an answer; it is committed (fsynced) before this returns. Returns its id.

        Answering a query again appends a new row: the newest answer counts, history is kept.

        Raises:
            StoreError: the query id is unknown, or the answer has no annotator or a
                negative or non-finite ``seconds``.
        """
        valid = isinstance(answer, Answer) and bool(answer.annotator)
        seconds = float(answer.seconds) if valid else math.nan
        if not math.isfinite(seconds) or seconds < 0:
            raise StoreError(
                f"add_answer takes an Answer with a non-empty annotator and seconds >= 0, got "
                f"{answer!r}; fix the caller"
            )
        with self._transaction() as conn:
            if self._unknown_queries([query_id]):
                raise StoreError(f"no query {query_id} in {self.path}; answer a posted query id")
            row = (uuid.uuid4().hex, int(query_id), answer.choice.value, answer.annotator, seconds)
            sql = "INSERT INTO answers (uid, query_id, choice, annotator, seconds, created) VALUES "
            return int(conn.execute(sql + "(?, ?, ?, ?, ?, ?)", (*row, time.time())).lastrowid or 0)

    def answers(
        self, query_id: int | None = None, annotator: str | None = None
    ) -> list[AnswerRecord]:
        """Every stored answer (filtered by query and annotator when given), ordered by id."""
        where = [("query_id = ?", query_id), ("annotator = ?", annotator)]
        where = [(clause, value) for clause, value in where if value is not None]
        sql = f"SELECT {_ANSWER_COLS} FROM answers"
        if where:
            sql += " WHERE " + " AND ".join(clause for clause, _ in where)
        return [_record(row) for row in self._read(sql + " ORDER BY id", [v for _, v in where])]

    def latest_answers(self, annotator: str | None = None) -> dict[int, AnswerRecord]:
        """The newest answer of each answered query (by anyone, or by ``annotator``)."""
        where, params = ("", []) if annotator is None else (" WHERE annotator = ?", [annotator])
        sql = f"SELECT {_ANSWER_COLS} FROM answers WHERE id IN "
        sql += f"(SELECT MAX(id) FROM answers{where} GROUP BY query_id) ORDER BY query_id"
        return {row[1]: _record(row) for row in self._read(sql, params)}

    def undo_last_answer(self, annotator: str) -> AnswerRecord | None:
        """Delete this annotator's most recent answer row and return it (``None``: none left).

        Undo deletes; changing an answer (``add_answer`` again) appends.
        """
        with self._transaction() as conn:
            row = conn.execute(
                f"SELECT {_ANSWER_COLS} FROM answers WHERE annotator = ? ORDER BY id DESC LIMIT 1",
                [annotator],
            ).fetchone()
            if row is not None:
                conn.execute("DELETE FROM answers WHERE id = ?", [row[0]])
        return None if row is None else _record(row)

    def labelled_pairs(
        self, query_ids: Sequence[int] | None = None
    ) -> list[tuple[ClipPair, Answer]]:
        """Fitting data: each annotator's newest answer to each query, with its pair.

        Several annotators of one query give several targets; skips are included (the fitter
        drops them). Ordered by query id, then answer id.
        """
        sql = f"SELECT {_ANSWER_COLS} FROM answers WHERE id IN "
        sql += "(SELECT MAX(id) FROM answers GROUP BY query_id, annotator)"
        params: list[Any] = []
        if query_ids is not None:
            sql += f" AND query_id {IN_JSON}"
            params.append(json.dumps([int(qid) for qid in query_ids]))
        with self._transaction(write=False):
            records = [_record(row) for row in self._read(sql + " ORDER BY query_id, id", params)]
            qids = json.dumps(sorted({record.query_id for record in records}))
            rows = self._read(f"SELECT {_QUERY_COLS} FROM queries WHERE id {IN_JSON}", [qids])
            queries = [Query(*row) for row in rows]
            uids = sorted({uid for q in queries for uid in (q.left_uid, q.right_uid)})
            clips = dict(zip(uids, self.get_clips(uids), strict=True))
        pairs = {q.id: ClipPair(clips[q.left_uid], clips[q.right_uid], q.id) for q in queries}
        return [(pairs[record.query_id], record.answer) for record in records]

    def wait_for_answers(
        self,
        query_ids: Sequence[int],
        *,
        timeout_s: float | None,
        poll_s: float = 0.2,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[int, AnswerRecord]:
        """Block until each query has at least one answer, or until ``timeout_s`` passes.

        Args:
            query_ids: the queries to wait for.
            timeout_s: seconds to wait at most (``None``: no limit).
            poll_s: seconds between looks at the store.
            progress: called as ``progress(num_answered, num_queries)`` when the count changes.

        Returns:
            The newest answer of each answered query (all of them unless timed out).
        """
        ids = sorted({int(qid) for qid in query_ids})
        if poll_s <= 0:
            raise ConfigError(f"poll_s must be > 0 seconds, got {poll_s}")
        unknown = self._unknown_queries(ids)
        if unknown:
            raise StoreError(f"cannot wait for unknown queries {unknown[:3]} in {self.path}")
        sql = f"SELECT {_ANSWER_COLS} FROM answers WHERE id IN (SELECT MAX(id) FROM answers "
        sql += f"WHERE query_id {IN_JSON} GROUP BY query_id) ORDER BY query_id"
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        reported = -1
        while True:
            got = {row[1]: _record(row) for row in self._read(sql, [json.dumps(ids)])}
            if progress is not None and len(got) != reported:
                reported = len(got)
                progress(reported, len(ids))
            left_s = math.inf if deadline is None else deadline - time.monotonic()
            if len(got) == len(ids) or left_s <= 0:
                return got
            time.sleep(min(poll_s, left_s))

    # -- summary -------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """``queries``, ``answered`` (at least one answer), ``pending``, ``answers``, ``clips``."""
        (row,) = self._read(
            "SELECT (SELECT COUNT(*) FROM queries), (SELECT COUNT(DISTINCT query_id) FROM answers),"
            " (SELECT COUNT(*) FROM answers), (SELECT COUNT(*) FROM clips)"
        )
        names = ("queries", "answered", "answers", "clips")
        return {**dict(zip(names, row, strict=True)), "pending": row[0] - row[1]}

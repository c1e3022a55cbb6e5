"""LabelStore: the SQLite hub where clips, queries and answers meet.

The trainer posts queries (pairs of clips) and waits; any number of answerers (a scripted
teacher in this process, a labelling window in another, a second window) answer through the
store. One store is one SQLite file in WAL mode; the schema is in ``docs/STORE_FORMAT.md``,
export and import of a versioned folder in :mod:`hfrl_gym.store_io`. A ``LabelStore`` holds
a :class:`~hfrl_gym.store_sqlite.StoreDatabase`, which owns the file and runs every SQL
statement; this module keeps the rules (what may be stored, what counts as the answer).

Durability: every write is one transaction, committed with ``synchronous=FULL`` (the WAL is
fsynced at every commit) before the call returns, so killing any process at any moment, or
losing power, loses no answer that was given. Changing an answer appends a new row (history
is kept, the newest counts); :meth:`LabelStore.undo_last_answer` deletes a row (backspace).

Concurrency: any number of processes may open the same file; writers queue (``BEGIN
IMMEDIATE`` and a busy timeout) instead of failing. One ``LabelStore`` may be shared by the
threads of one process (its calls are serialised by a lock); never share one across ``fork``:
open a new one in the child.

Classes:
    LabelStore: open or create a store; clips, queries, claims, answers and metadata (its
        leases from :class:`hfrl_gym.store_leases.StoreLeases`).
    Query: a posted pair of clip uids (from :mod:`hfrl_gym.store_records`).
    AnswerRecord: a stored answer (from :mod:`hfrl_gym.store_records`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from hfrl_gym.answers import Answer
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.errors import ConfigError, StoreError
from hfrl_gym.store_codec import clip_from_row, clip_row, to_json
from hfrl_gym.store_leases import StoreLeases
from hfrl_gym.store_records import AnswerRecord, Query, answer_record
from hfrl_gym.store_rules import check_answer, check_clip, check_pairs, check_query
from hfrl_gym.store_sqlite import RESERVED_META, StoreDatabase

_FIX_RECORDS = "the export is damaged or incomplete: export the store again"
_FIX_CLIP = "store clips recorded in the env (hfrl_gym.recording)"


class LabelStore(StoreLeases):
    """Clips, queries and answers in one SQLite file (WAL mode, ``schema_version`` 3).

    It holds a :class:`~hfrl_gym.store_sqlite.StoreDatabase` (the file and its SQL); use it
    as a context manager, or call :meth:`close`.

    Args:
        path: the store's file. A new path makes a new store when ``create`` is true.
        create: create the file when it does not exist.

    Raises:
        StoreError: the path is missing (with ``create=False``), not an hfrl store, corrupt,
            or written by a newer hfrl_gym. The file is left untouched. (A store of an older
            schema version is migrated in place when opened, in one transaction.)

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

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self._db = StoreDatabase(path, create=create)

    @property
    def path(self) -> Path:
        """The store's file."""
        return self._db.path

    def close(self) -> None:
        """Close the file (idempotent). Everything was already committed."""
        self._db.close()

    def __enter__(self) -> LabelStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    def check(self) -> list[str]:
        """SQLite's full integrity check: the problems found (empty when the file is sound)."""
        return self._db.check()

    def snapshot(self) -> contextlib.AbstractContextManager[None]:
        """A context in which every call of this store sees one consistent state of it.

        Other processes may keep writing meanwhile (seen after it ends); other threads of
        this process wait for it. Use it to read (an export): it holds no write lock.
        """
        return self._db.transaction(write=False)

    # -- metadata ------------------------------------------------------------------------

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable run-level value under ``key``, replacing any old one."""
        if key in RESERVED_META:
            raise StoreError(f"meta key {key!r} is reserved for the store itself; use another")
        try:
            text = to_json(value)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"meta {key!r} must be JSON-serialisable ({exc})") from exc
        self._db.put_meta(key, text)

    def get_meta(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key``, or ``default`` when there is none."""
        text = self._db.meta_text(key)
        return default if text is None else json.loads(text)

    def all_meta(self) -> dict[str, Any]:
        """Every metadata value by key, the store's own ``app`` and ``schema_version`` too."""
        return {key: json.loads(text) for key, text in self._db.all_meta().items()}

    # -- clips ---------------------------------------------------------------------------

    def add_clip(self, clip: Clip) -> str:
        """Store a clip; storing the same uid again does nothing. Returns its uid."""
        return self.add_clips([clip])[0]

    def add_clips(self, clips: Iterable[Clip]) -> list[str]:
        """Store clips in one transaction (all or none). Returns their uids.

        Raises:
            StoreError: a clip's uid is already stored for another env or length, its arrays
                do not fit its suite env's spaces (``store_rules``), or its arrays or
                provenance cannot be stored without pickle.
        """
        rows = [clip_row(check_clip(clip, _FIX_CLIP)) for clip in clips]
        with self._db.transaction():
            kinds = self._db.clip_kinds([row[0] for row in rows])
            new = []
            for row in rows:
                old = kinds.get(row[0])
                if old is None:
                    kinds[row[0]] = (row[1], row[2])
                    new.append(row)
                elif old != (row[1], row[2]):
                    raise StoreError(
                        f"clip uid {row[0]} is already stored for {old[0]!r} with {old[1]} "
                        f"steps, not {row[1]!r} with {row[2]}; give each new clip a new uid"
                    )
            self._db.insert_clips(new)
        return [row[0] for row in rows]

    def get_clip(self, uid: str) -> Clip:
        """The clip with this uid (``StoreError`` when unknown)."""
        return self.get_clips([uid])[0]

    def get_clips(self, uids: Sequence[str]) -> list[Clip]:
        """The clips with these uids, in the order given (``StoreError`` naming unknown ones)."""
        uids = list(uids)
        by_uid = {row[0]: row for row in self._db.clip_rows(uids)}
        missing = [uid for uid in uids if uid not in by_uid]
        if missing:
            raise StoreError(
                f"{len(missing)} unknown clip uid(s) in {self.path}, e.g. {missing[:3]}; "
                "check the uid, or add the clip first"
            )
        clips = {uid: clip_from_row(row) for uid, row in by_uid.items()}
        return [clips[uid] for uid in uids]

    def clip_kinds(self, uids: Sequence[str]) -> dict[str, tuple[str, int]]:
        """``uid: (env_id, num_steps)`` of those of ``uids`` that are stored (no arrays read)."""
        return {uid: (kind[0], int(kind[1])) for uid, kind in self._db.clip_kinds(uids).items()}

    def clip_uids(self, env_id: str | None = None) -> list[str]:
        """Uids of all clips (of one env when given), in the order they were stored."""
        return self._db.clip_uids(env_id)

    def num_clips(self) -> int:
        """Number of stored clips."""
        return self._db.num_clips()

    def clip_records(self) -> Iterator[tuple[dict[str, Any], Clip]]:
        """Every clip with its record, in the order stored, read one at a time.

        The record is the clip's stored provenance plus ``created``, when it entered this
        store (a line of an export's ``clips.jsonl``, without ``arrays``). Iterate inside
        :meth:`snapshot` to see the same state as other calls made there.
        """
        for uid, provenance, created in self._db.clip_index():
            yield {**json.loads(provenance), "created": created}, self.get_clip(uid)

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
        round = check_query(round, "number rounds from 0 (nothing was posted)")
        now = time.time()
        with self._db.transaction():
            self._check_pairs(pairs, "add the clips first (nothing was posted)")
            rows = [(uuid.uuid4().hex, left, right, round, now) for left, right in pairs]
            return self._db.insert_queries(rows)

    def _check_pairs(self, pairs: Sequence[tuple[str, str]], fix: str) -> None:
        uids = sorted({uid for pair in pairs for uid in pair})
        kinds = self._db.clip_kinds(uids)
        check_pairs(pairs, {uid: kind[0] for uid, kind in kinds.items()}, f"{self.path}", fix)

    def get_query(self, query_id: int) -> Query:
        """The query with this id (``StoreError`` when unknown)."""
        rows = self._db.query_rows(ids=[int(query_id)])
        if not rows:
            raise StoreError(f"no query {query_id} in {self.path}; give the id of a posted query")
        return Query(*rows[0])

    def queries(self, round: int | None = None) -> list[Query]:
        """All queries (of one round when given), ordered by id."""
        rows = self._db.query_rows(round=None if round is None else int(round))
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
        if limit is not None and limit < 0:
            raise ConfigError(f"limit must be >= 0 or None, got {limit}")
        rows = self._db.pending_query_rows(annotator=annotator, limit=limit, query_ids=query_ids)
        return [Query(*row) for row in rows]

    def _unknown_queries(self, query_ids: Sequence[int]) -> list[int]:
        ids = sorted({int(qid) for qid in query_ids})
        known = {row[0] for row in self._db.query_rows(ids=ids)}
        return [qid for qid in ids if qid not in known]

    def pair(self, query: Query | int) -> ClipPair:
        """The query's two clips, as a :class:`ClipPair` with ``query_id`` set."""
        query = query if isinstance(query, Query) else self.get_query(query)
        left, right = self.get_clips([query.left_uid, query.right_uid])
        return ClipPair(left, right, query_id=query.id)

    def query_records(self) -> list[dict[str, Any]]:
        """Every query named by uid, ordered by id: ``uid``, ``left_uid``, ``right_uid``,
        ``round``, ``created`` and ``id`` (the lines of an export's ``queries.jsonl``)."""
        keys = ("uid", "left_uid", "right_uid", "round", "created", "id")
        return [dict(zip(keys, row, strict=True)) for row in self._db.portable_query_rows()]

    # -- answers -------------------------------------------------------------------------

    def add_answer(self, query_id: int, answer: Answer) -> int:
        """Store an answer; it is committed (fsynced) before this returns. Returns its id.

        Answering a query again appends a new row: the newest answer counts, history is kept.

        Raises:
            StoreError: the query id is unknown, or the answer has no annotator or a
                negative or non-finite ``seconds``.
        """
        if not isinstance(answer, Answer):
            raise StoreError(f"add_answer takes an Answer, got {type(answer).__name__}")
        fields = check_answer(
            answer.choice,
            answer.annotator,
            answer.seconds,
            "fix the caller",
            confidence=answer.confidence,
        )
        with self._db.transaction():
            if self._unknown_queries([query_id]):
                raise StoreError(f"no query {query_id} in {self.path}; answer a posted query id")
            row = (uuid.uuid4().hex, int(query_id), *fields)
            return self._db.insert_answers([(*row, time.time())])[0]

    def answers(
        self, query_id: int | None = None, annotator: str | None = None
    ) -> list[AnswerRecord]:
        """Every stored answer (filtered by query and annotator when given), ordered by id."""
        return [
            answer_record(row)
            for row in self._db.answer_rows(query_id=query_id, annotator=annotator)
        ]

    def latest_answers(self, annotator: str | None = None) -> dict[int, AnswerRecord]:
        """The newest answer of each answered query (by anyone, or by ``annotator``)."""
        return {
            row[1]: answer_record(row) for row in self._db.latest_answer_rows(annotator=annotator)
        }

    def latest_answers_per_annotator(self) -> list[AnswerRecord]:
        """Each annotator's newest answer to each query, by query id then answer id."""
        return [answer_record(row) for row in self._db.latest_answer_rows(per_annotator=True)]

    def undo_last_answer(self, annotator: str) -> AnswerRecord | None:
        """Delete this annotator's most recent answer row and return it (``None``: none left).

        Undo deletes; changing an answer (``add_answer`` again) appends.
        """
        row = self._db.delete_last_answer(annotator)
        return None if row is None else answer_record(row)

    def labelled_pairs(
        self, query_ids: Sequence[int] | None = None
    ) -> list[tuple[ClipPair, Answer]]:
        """Fitting data: each annotator's newest answer to each query, with its pair.

        Several annotators of one query give several targets; skips are included (the fitter
        drops them). Ordered by query id, then answer id.
        """
        with self.snapshot():
            rows = self._db.latest_answer_rows(query_ids=query_ids, per_annotator=True)
            records = [answer_record(row) for row in rows]
            qids = sorted({record.query_id for record in records})
            queries = [Query(*row) for row in self._db.query_rows(ids=qids)]
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
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        reported = -1
        while True:
            got = {row[1]: answer_record(row) for row in self._db.latest_answer_rows(query_ids=ids)}
            if progress is not None and len(got) != reported:
                reported = len(got)
                progress(reported, len(ids))
            left_s = math.inf if deadline is None else deadline - time.monotonic()
            if len(got) == len(ids) or left_s <= 0:
                return got
            time.sleep(min(poll_s, left_s))

    def answer_records(self) -> list[dict[str, Any]]:
        """Every answer named by uid, ordered by id: ``uid``, ``query_uid``, ``choice``,
        ``annotator``, ``seconds``, ``created``, ``confidence`` (``None`` when not given): the
        lines of an export's ``answers.jsonl``."""
        keys = ("uid", "query_uid", "choice", "annotator", "seconds", "created", "confidence")
        return [dict(zip(keys, row, strict=True)) for row in self._db.portable_answer_rows()]

    # -- import and summary --------------------------------------------------------------

    def import_records(
        self,
        clips: Iterable[Clip],
        queries: Sequence[Mapping[str, Any]],
        answers: Sequence[Mapping[str, Any]],
    ) -> dict[str, int]:
        """Merge clips, queries and answers named by uid, in one transaction (all or none).

        Queries and answers are records as :meth:`query_records` and :meth:`answer_records`
        give them (a query's ``id`` is ignored; an answer without ``confidence`` has none).
        Those whose uid is stored already are skipped; new queries and answers get ids after
        the store's own, in the order given.
        ``clips`` may be a generator: it is consumed inside the transaction.

        Returns:
            ``{"clips": n, "queries": n, "answers": n}``, the numbers newly added.

        Raises:
            StoreError: a clip cannot be stored, a query pairs missing clips or two envs, an
                answer is to an unknown query; nothing of this call is stored.
        """
        with self._db.transaction():
            before = self.num_clips()
            for clip in clips:
                self.add_clips([clip])
            added = {"clips": self.num_clips() - before, "queries": 0, "answers": 0}
            query_uids = sorted({q["uid"] for q in queries} | {a["query_uid"] for a in answers})
            query_ids = self._db.query_ids_by_uid(query_uids)
            new = [query for query in queries if query["uid"] not in query_ids]
            for query in new:
                check_query(query["round"], _FIX_RECORDS, created=query["created"])
            self._check_pairs([(q["left_uid"], q["right_uid"]) for q in new], _FIX_RECORDS)
            keys = ("uid", "left_uid", "right_uid", "round", "created")
            ids = self._db.insert_queries([[query[key] for key in keys] for query in new])
            query_ids.update(zip((query["uid"] for query in new), ids, strict=True))
            added["queries"] = len(new)
            known = self._db.stored_answer_uids([answer["uid"] for answer in answers])
            rows = []
            for answer in answers:
                if answer["query_uid"] not in query_ids:
                    raise StoreError(
                        f"answer {answer['uid']} is to an unknown query; {_FIX_RECORDS}"
                    )
                if answer["uid"] not in known:
                    known.add(answer["uid"])
                    fields = check_answer(
                        answer["choice"],
                        answer["annotator"],
                        answer["seconds"],
                        _FIX_RECORDS,
                        created=answer["created"],
                        confidence=answer.get("confidence"),
                    )
                    query_id = query_ids[answer["query_uid"]]
                    rows.append((answer["uid"], query_id, *fields, answer["created"]))
            self._db.insert_answers(rows)
            added["answers"] = len(rows)
        return added

    def counts(self) -> dict[str, int]:
        """``queries``, ``answered`` (at least one answer), ``pending``, ``answers``, ``clips``."""
        row = self._db.counts()
        names = ("queries", "answered", "answers", "clips")
        return {**dict(zip(names, row, strict=True)), "pending": row[0] - row[1]}

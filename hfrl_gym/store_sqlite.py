"""The label store's SQLite file: safe opening, transactions, and every SQL operation.

:class:`StoreDatabase` owns the file: it creates a new store atomically and refuses any file
that is not an hfrl store before SQLite opens it (both through :mod:`hfrl_gym.store_file`),
checks the store's meta and migrates an older schema (:mod:`hfrl_gym.store_schema`, the one
other module holding SQL), runs every write as one ``BEGIN IMMEDIATE`` transaction committed
with ``synchronous=FULL`` in WAL mode, translates SQLite errors into ``StoreError`` with a
fix, and has one method per SQL operation of :class:`hfrl_gym.store.LabelStore` (which holds
one). The schema is documented in ``docs/STORE_FORMAT.md``; clips are encoded to rows by
:mod:`hfrl_gym.store_codec`.

Classes:
    StoreDatabase: an open, validated store file, its transactions and its SQL operations.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from hfrl_gym.errors import StoreError
from hfrl_gym.store_codec import ARRAY_COLUMNS
from hfrl_gym.store_file import APPLICATION_ID, FIX_CORRUPT, check_file, create_file
from hfrl_gym.store_schema import (
    APP_MARKER,
    RESERVED_META,
    SCHEMA,
    SCHEMA_VERSION,
    build,
    check_meta,
    migrate,
)
from hfrl_gym.store_sqlite_claims import IN_JSON as _IN_JSON
from hfrl_gym.store_sqlite_claims import QUERY_COLUMNS, ClaimsSQL
from hfrl_gym.store_sqlite_claims import json_ids as _json_ids

BUSY_TIMEOUT_S = 60.0
ANSWER_COLUMNS = "id, query_id, choice, annotator, seconds, created, confidence"
_CLIP_COLUMNS = "uid, provenance, " + ", ".join(ARRAY_COLUMNS)
__all__ = [  # the schema's names, kept importable from here
    "APPLICATION_ID",
    "APP_MARKER",
    "RESERVED_META",
    "SCHEMA",
    "SCHEMA_VERSION",
    "StoreDatabase",
]


def _translate(exc: sqlite3.Error, path: Path) -> StoreError:
    """A StoreError saying what an SQLite error means for the user, and what to do."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        why = "busy"
        fix = f"another process held its write lock for over {BUSY_TIMEOUT_S:.0f} s; try again"
    elif any(word in text for word in ("malformed", "not a database", "corrupt")):
        why, fix = "corrupt", FIX_CORRUPT
    elif any(word in text for word in ("disk", "readonly", "unable to open", "full")):
        why, fix = "not writable", "check that the disk has space and the file is writable"
    else:
        why, fix = "unusable", "report this error to the hfrl_gym maintainers"
    return StoreError(f"label store {path} is {why} (SQLite: {exc}); {fix}")


def _filtered(sql: str, filters: list[tuple[str, Any]], order: str = "") -> tuple[str, list]:
    """``sql`` with a WHERE of the filters whose value is not ``None``, and its parameters."""
    used = [(clause, value) for clause, value in filters if value is not None]
    if used:
        sql += " WHERE " + " AND ".join(clause for clause, _ in used)
    return sql + (f" ORDER BY {order}" if order else ""), [value for _, value in used]


class StoreDatabase(ClaimsSQL):
    """An open, validated label-store file: its connection, transactions and SQL operations.

    Every method is one transaction (a write commits before it returns) unless it runs inside
    :meth:`transaction`, whose calls all share one. Calls are serialised by a lock, so one
    object may be shared by threads. Rows are plain tuples: a query row is
    :data:`QUERY_COLUMNS`, an answer row :data:`ANSWER_COLUMNS`, a clip row is uid,
    provenance and the array columns (see :mod:`hfrl_gym.store_codec`).

    Args:
        path: the store's file. A new path makes a new store when ``create`` is true.
        create: create the file when it does not exist.

    A store of an older schema version is migrated when it is opened, in one transaction
    (:func:`~hfrl_gym.store_schema.migrate`); :attr:`migrated_from` is then its old version.

    Raises:
        StoreError: the path is missing (with ``create=False``), not an hfrl store, corrupt,
            or written by a newer hfrl_gym (such a file is left byte-identical), or an older
            store could not be migrated (it is left as it was).

    Example:
        >>> import tempfile
        >>> folder = tempfile.TemporaryDirectory()
        >>> with StoreDatabase(f"{folder.name}/labels.db") as db:
        ...     db.put_meta("env_id", '"hfrl/CartPole-v0"')
        ...     db.meta_text("env_id"), db.meta_text("schema_version"), db.check()
        ('"hfrl/CartPole-v0"', '3', [])
        >>> folder.cleanup()
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._depth = 0
        self._conn: sqlite3.Connection | None = None
        self.migrated_from: int | None = None
        if not self.path.exists():
            if not create:
                raise StoreError(
                    f"label store {self.path} does not exist; check the path (`hfrl record "
                    "--store FILE` or `hfrl store import FILE FOLDER` makes a new one)"
                )
            create_file(self.path, build)
        check_file(self.path)
        self._conn = self._connect()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            version = check_meta(conn, self.path)  # reads only: a refused file is left as it was
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = FULL")  # fsync the WAL at every commit
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            if version < SCHEMA_VERSION:
                self.migrated_from = migrate(conn)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, sqlite3.Error):
                raise _translate(exc, self.path) from exc
            raise
        return conn

    def close(self) -> None:
        """Close the connection (idempotent). Everything was already committed."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> StoreDatabase:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    def _live(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"label store {self.path} is closed; open a new LabelStore")
        return self._conn

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list:
        """Run one statement and fetch all its rows (one consistent snapshot)."""
        with self._lock:
            try:
                return self._live().execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from exc

    @contextlib.contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[None]:
        """One transaction for every call made inside it; nested ones join the outer one.

        The calls see one snapshot of the file, and their writes are committed together or,
        on any error, not at all. Other threads wait until it ends. A write transaction
        starts with ``BEGIN IMMEDIATE``: it takes the write lock at once (waiting up to
        :data:`BUSY_TIMEOUT_S` for other writers), so it cannot fail midway because another
        process wrote first.
        """
        with self._transaction(write=write):
            yield

    @contextlib.contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._live()
            if self._depth:
                self._depth += 1
                try:
                    yield conn
                finally:
                    self._depth -= 1
                return
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                self._depth = 1
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise _translate(exc, self.path) from exc
                raise
            finally:
                self._depth = 0

    def check(self) -> list[str]:
        """SQLite's full integrity check: the problems found (empty when the file is sound)."""
        problems = [row[0] for row in self._read("PRAGMA integrity_check")]
        return [] if problems == ["ok"] else problems

    # -- meta (values are JSON text) -----------------------------------------------------

    def put_meta(self, key: str, text: str) -> None:
        """Store ``text`` under ``key``, replacing any old value."""
        with self._transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, text])

    def meta_text(self, key: str) -> str | None:
        """The text stored under ``key`` (``None``: no such key)."""
        rows = self._read("SELECT value FROM meta WHERE key = ?", [key])
        return rows[0][0] if rows else None

    def all_meta(self) -> dict[str, str]:
        """Every meta key and its text, the store's own (``app``, ``schema_version``) too."""
        return dict(self._read("SELECT key, value FROM meta"))

    # -- clips ---------------------------------------------------------------------------

    def insert_clips(self, rows: Iterable[Sequence[Any]]) -> None:
        """Insert full ``clips`` rows (:func:`~hfrl_gym.store_codec.clip_row`)."""
        with self._transaction() as conn:
            conn.executemany(f"INSERT INTO clips VALUES ({', '.join('?' * 10)})", rows)

    def clip_kinds(self, uids: Sequence[str]) -> dict[str, tuple[str, int]]:
        """``uid: (env_id, num_steps)`` of those of ``uids`` that are stored."""
        sql = f"SELECT uid, env_id, num_steps FROM clips WHERE uid {_IN_JSON}"
        return {row[0]: (row[1], row[2]) for row in self._read(sql, [json.dumps(list(uids))])}

    def clip_rows(self, uids: Sequence[str]) -> list:
        """The rows (uid, provenance, arrays) of those of ``uids`` that are stored."""
        sql = f"SELECT {_CLIP_COLUMNS} FROM clips WHERE uid {_IN_JSON}"
        return self._read(sql, [json.dumps(list(uids))])

    def clip_uids(self, env_id: str | None = None) -> list[str]:
        """Uids of all clips (of one env when given), in the order they were stored."""
        where, params = ("", []) if env_id is None else (" WHERE env_id = ?", [env_id])
        return [
            row[0] for row in self._read(f"SELECT uid FROM clips{where} ORDER BY rowid", params)
        ]

    def clip_index(self) -> list[tuple[str, str, float]]:
        """(uid, provenance JSON, created) of every clip, in the order they were stored."""
        return self._read("SELECT uid, provenance, created FROM clips ORDER BY rowid")

    def num_clips(self) -> int:
        """Number of stored clips."""
        return int(self._read("SELECT COUNT(*) FROM clips")[0][0])

    # -- queries -------------------------------------------------------------------------

    def insert_queries(self, rows: Iterable[Sequence[Any]]) -> list[int]:
        """Insert queries as (uid, left_uid, right_uid, round, created); returns their ids."""
        sql = "INSERT INTO queries (uid, left_uid, right_uid, round, created) VALUES "
        with self._transaction() as conn:
            return [int(conn.execute(sql + "(?, ?, ?, ?, ?)", row).lastrowid or 0) for row in rows]

    def query_rows(self, *, ids: Sequence[int] | None = None, round: int | None = None) -> list:
        """Query rows (all, or of these ids, or of one round), ordered by id."""
        filters = [(f"id {_IN_JSON}", _json_ids(ids)), ("round = ?", round)]
        return self._read(*_filtered(f"SELECT {QUERY_COLUMNS} FROM queries", filters, "id"))

    def pending_query_rows(
        self,
        *,
        annotator: str | None = None,
        limit: int | None = None,
        query_ids: Sequence[int] | None = None,
    ) -> list:
        """Rows of queries with no answer (by ``annotator`` when given), ordered by id."""
        by_annotator = "" if annotator is None else " AND a.annotator = ?"
        sql = f"SELECT {QUERY_COLUMNS} FROM queries q WHERE NOT EXISTS "
        sql += f"(SELECT 1 FROM answers a WHERE a.query_id = q.id{by_annotator})"
        params: list[Any] = [] if annotator is None else [annotator]
        if query_ids is not None:
            sql += f" AND q.id {_IN_JSON}"
            params.append(_json_ids(query_ids))
        sql += " ORDER BY q.id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return self._read(sql, params)

    def query_ids_by_uid(self, uids: Sequence[str]) -> dict[str, int]:
        """``uid: id`` of those of the query ``uids`` that are stored."""
        sql = f"SELECT uid, id FROM queries WHERE uid {_IN_JSON}"
        return dict(self._read(sql, [json.dumps(list(uids))]))

    def portable_query_rows(self) -> list:
        """Every query as (uid, left_uid, right_uid, round, created, id), ordered by id."""
        return self._read(
            "SELECT uid, left_uid, right_uid, round, created, id FROM queries ORDER BY id"
        )

    # -- answers -------------------------------------------------------------------------

    def insert_answers(self, rows: Iterable[Sequence[Any]]) -> list[int]:
        """Insert (uid, query_id, choice, annotator, seconds, confidence, created) rows;
        returns their ids."""
        sql = "INSERT INTO answers (uid, query_id, choice, annotator, seconds, confidence, "
        sql += "created) VALUES (?, ?, ?, ?, ?, ?, ?)"
        with self._transaction() as conn:
            return [int(conn.execute(sql, row).lastrowid or 0) for row in rows]

    def answer_rows(self, *, query_id: int | None = None, annotator: str | None = None) -> list:
        """Answer rows (filtered by query and annotator when given), ordered by id."""
        filters = [("query_id = ?", query_id), ("annotator = ?", annotator)]
        return self._read(*_filtered(f"SELECT {ANSWER_COLUMNS} FROM answers", filters, "id"))

    def latest_answer_rows(
        self,
        *,
        annotator: str | None = None,
        query_ids: Sequence[int] | None = None,
        per_annotator: bool = False,
    ) -> list:
        """The newest answer row of each query (of each annotator, with ``per_annotator``).

        Only ``annotator``'s answers and these ``query_ids`` when given; ordered by query id,
        then answer id.
        """
        filters = [("annotator = ?", annotator), (f"query_id {_IN_JSON}", _json_ids(query_ids))]
        newest, params = _filtered("SELECT MAX(id) FROM answers", filters)
        newest += " GROUP BY query_id" + (", annotator" if per_annotator else "")
        sql = f"SELECT {ANSWER_COLUMNS} FROM answers WHERE id IN ({newest}) ORDER BY query_id, id"
        return self._read(sql, params)

    def delete_last_answer(self, annotator: str) -> Any:
        """Delete ``annotator``'s newest answer row and return it (``None``: it has none)."""
        with self._transaction() as conn:
            row = conn.execute(
                f"SELECT {ANSWER_COLUMNS} FROM answers WHERE annotator = ? "
                "ORDER BY id DESC LIMIT 1",
                [annotator],
            ).fetchone()
            if row is not None:
                conn.execute("DELETE FROM answers WHERE id = ?", [row[0]])
        return row

    def answer_row_by_uid(self, uid: str) -> Any:
        """The answer row of this uid, or ``None``."""
        rows = self._read(f"SELECT {ANSWER_COLUMNS} FROM answers WHERE uid = ?", [uid])
        return rows[0] if rows else None

    def stored_answer_uids(self, uids: Sequence[str]) -> set[str]:
        """Those of the answer ``uids`` that are stored."""
        sql = f"SELECT uid FROM answers WHERE uid {_IN_JSON}"
        return {row[0] for row in self._read(sql, [json.dumps(list(uids))])}

    def portable_answer_rows(self) -> list:
        """Every answer as (uid, query uid, choice, annotator, seconds, created, confidence),
        by id."""
        return self._read(
            "SELECT a.uid, q.uid, a.choice, a.annotator, a.seconds, a.created, a.confidence "
            "FROM answers a JOIN queries q ON q.id = a.query_id ORDER BY a.id"
        )

    def counts(self) -> tuple[int, int, int, int]:
        """Numbers of queries, answered queries, answers and clips."""
        (row,) = self._read(
            "SELECT (SELECT COUNT(*) FROM queries), (SELECT COUNT(DISTINCT query_id) FROM answers),"
            " (SELECT COUNT(*) FROM answers), (SELECT COUNT(*) FROM clips)"
        )
        return tuple(row)

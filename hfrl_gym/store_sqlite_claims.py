"""The SQL of the label store's leases (the ``claims`` table), mixed into ``StoreDatabase``.

One method per SQL operation of :class:`hfrl_gym.store_leases.StoreLeases`; the transactions,
the connection and the error translation are :class:`hfrl_gym.store_sqlite.StoreDatabase`'s
(which inherits this class). The rules are in ``docs/STORE_FORMAT.md`` (``claims``).

Classes:
    ClaimsSQL: claim, hold, look up and release leases.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

QUERY_COLUMNS = "id, left_uid, right_uid, round, created"
IN_JSON = "IN (SELECT value FROM json_each(?))"  # bind a JSON list: no limit on its length


def json_ids(ids: Sequence[int] | None) -> str | None:
    """A JSON list of integer ids to bind to :data:`IN_JSON` (``None`` stays ``None``)."""
    return None if ids is None else json.dumps([int(i) for i in ids])


def like_prefix(prefix: str) -> str:
    """A ``LIKE`` pattern (escape ``\\``) matching strings that start with ``prefix``."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


class ClaimsSQL:
    """The leases' SQL (``StoreDatabase`` provides the connection and transactions)."""

    if TYPE_CHECKING:

        def _read(self, sql: str, params: Sequence[Any] = ()) -> list: ...
        def _transaction(
            self, *, write: bool = True
        ) -> contextlib.AbstractContextManager[sqlite3.Connection]: ...

    def claim(
        self,
        claimant: str,
        *,
        annotator: str,
        limit: int,
        now: float,
        expires: float,
        adopt_prefix: str | None = None,
        adopt_before: float = 0.0,
        shared: tuple[int, int] = (1, 1),
    ) -> list:
        """Drop lapsed claims, then claim up to ``limit`` open queries until ``expires``.

        A query is open to ``claimant`` (of ``annotator``) while ``annotator`` has not
        answered it, no other claimant of ``annotator`` holds it, and its answers (by
        distinct annotators) plus the other claimants' claims are fewer than the answers it
        wants: ``k`` for every ``every``-th query id with ``shared = (every, k)``, else 1.
        This claimant's own claims come first and are renewed (a pair on screen never
        lapses while its window keeps claiming). Claims of claimants named
        ``adopt_prefix...`` that expire before ``adopt_before`` count as its own (taken
        over). Returns their rows: its own claims, then new ones, each by id.
        """
        prefix = None if adopt_prefix is None else like_prefix(adopt_prefix)
        mine = "(c.claimant = ? OR (c.claimant LIKE ? ESCAPE '\\' AND c.expires < ?))"
        mine_params = [claimant, prefix or "", adopt_before]
        every, wanted = shared
        open_to_me = (
            "NOT EXISTS (SELECT 1 FROM answers a WHERE a.query_id = q.id AND a.annotator = ?) "
            f"AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.query_id = q.id AND c.annotator = ? "
            f"AND NOT {mine}) AND (SELECT COUNT(DISTINCT a.annotator) FROM answers a WHERE "
            "a.query_id = q.id) + (SELECT COUNT(*) FROM claims c WHERE c.query_id = q.id AND "
            f"NOT {mine} AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.query_id = q.id AND "
            "a.annotator = c.annotator)) < (CASE WHEN q.id % ? = 0 THEN ? ELSE 1 END)"
        )
        open_params = [annotator, annotator, *mine_params, *mine_params, max(1, every)]
        open_params.append(max(1, wanted))
        # Own claims first (found from the few claims), then new ones by id: the scan of the
        # queries stops at the first ``limit`` open ones.
        own_sql = f"SELECT {QUERY_COLUMNS} FROM queries q WHERE q.id IN (SELECT c.query_id "
        own_sql += f"FROM claims c WHERE {mine}) AND {open_to_me} ORDER BY q.id LIMIT ?"
        new_sql = f"SELECT {QUERY_COLUMNS} FROM queries q WHERE {open_to_me} AND NOT EXISTS "
        new_sql += f"(SELECT 1 FROM claims c WHERE c.query_id = q.id AND {mine}) "
        new_sql += "ORDER BY q.id LIMIT ?"
        with self._transaction() as conn:
            conn.execute("DELETE FROM claims WHERE expires <= ?", [now])
            rows = conn.execute(own_sql, [*mine_params, *open_params, int(limit)]).fetchall()
            if len(rows) < limit:
                more = [*open_params, *mine_params, int(limit) - len(rows)]
                rows += conn.execute(new_sql, more).fetchall()
            if prefix is not None:  # claims taken over are this claimant's now
                conn.execute(
                    f"DELETE FROM claims WHERE query_id {IN_JSON} AND claimant != ? AND "
                    "claimant LIKE ? ESCAPE '\\' AND expires < ?",
                    [json_ids([row[0] for row in rows]), claimant, prefix, adopt_before],
                )
            claims = [(row[0], claimant, annotator, expires) for row in rows]
            conn.executemany("INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?)", claims)
        return rows

    def hold(self, query_id: int, claimant: str, annotator: str, expires: float) -> None:
        """Claim one query for ``claimant`` until ``expires`` (an undone answer's query)."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?)",
                [int(query_id), claimant, annotator, expires],
            )

    def holds(self, query_id: int, claimant: str, now: float) -> bool:
        """Whether ``claimant`` holds an unexpired claim on the query."""
        sql = "SELECT 1 FROM claims WHERE query_id = ? AND claimant = ? AND expires > ?"
        return bool(self._read(sql, [int(query_id), claimant, now]))

    def held_query_rows(self, claimant: str, now: float) -> list:
        """Rows of the queries ``claimant`` holds unexpired claims on, ordered by id."""
        sql = f"SELECT {QUERY_COLUMNS} FROM queries q WHERE q.id IN (SELECT query_id FROM "
        sql += "claims WHERE claimant = ? AND expires > ?) ORDER BY q.id"
        return self._read(sql, [claimant, now])

    def release_claims(self, claimant: str, query_id: int | None = None) -> None:
        """Drop every claim of ``claimant`` (an answerer that closes), or its claim on one
        query."""
        sql, params = "DELETE FROM claims WHERE claimant = ?", [claimant]
        if query_id is not None:
            sql, params = sql + " AND query_id = ?", [claimant, int(query_id)]
        with self._transaction() as conn:
            conn.execute(sql, params)

"""The label store's schema: its tables, its version, and the migration of older stores.

:mod:`hfrl_gym.store_sqlite` opens a store through these functions: :func:`build` writes an
empty store of the current schema, :func:`check_meta` refuses a file that is not an hfrl
store or was written by a newer hfrl_gym (reading only), and :func:`migrate` brings an older
store to the current version in one ``BEGIN IMMEDIATE`` transaction. Only this module and
``store_sqlite`` hold SQL. The schema is documented in ``docs/STORE_FORMAT.md``.

Versions:
    1: clips, queries, answers (choice, annotator, seconds), claims.
    2: ``answers.confidence`` (``much``/``slightly`` on a ``left``/``right`` answer, else
       NULL). Migrating 1 -> 2 adds the column (``ALTER TABLE ... ADD COLUMN``: no row is
       rewritten, every old answer reads as "no confidence given").
    3: ``claims`` keyed by ``(query_id, claimant)`` with the claimant's ``annotator``, so a
       query asked of several annotators (``shared_answers`` in meta) is leased to as many
       claimants at once. Migrating 2 -> 3 copies every claim into the new table (the
       annotator is the claimant's name up to its ``#``).

Functions:
    build: write an empty store of the current schema to a new file.
    check_meta: the schema version of an open file, if it is an hfrl store this code reads.
    migrate: bring a store of an older schema version to the current one.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from hfrl_gym.errors import StoreError
from hfrl_gym.store_file import APPLICATION_ID, FIX_FOREIGN

SCHEMA_VERSION = 3
APP_MARKER = "hfrl_gym.label_store"
RESERVED_META = ("app", "schema_version")
CONFIDENCE_COLUMN = (
    "confidence TEXT CHECK (confidence IS NULL OR "
    "(confidence IN ('much', 'slightly') AND choice IN ('left', 'right')))"
)
CLAIMS_TABLE = """CREATE TABLE {name} (
    query_id INTEGER NOT NULL REFERENCES queries (id), claimant TEXT NOT NULL,
    annotator TEXT NOT NULL, expires REAL NOT NULL, PRIMARY KEY (query_id, claimant));"""
SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE clips (
    uid TEXT PRIMARY KEY, env_id TEXT NOT NULL, num_steps INTEGER NOT NULL,
    provenance TEXT NOT NULL, created REAL NOT NULL,
    observations BLOB NOT NULL, actions BLOB NOT NULL, true_rewards BLOB NOT NULL,
    states BLOB, frames BLOB);
CREATE INDEX clips_env ON clips (env_id);
CREATE TABLE queries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL UNIQUE,
    left_uid TEXT NOT NULL REFERENCES clips (uid),
    right_uid TEXT NOT NULL REFERENCES clips (uid),
    round INTEGER NOT NULL, created REAL NOT NULL);
CREATE INDEX queries_round ON queries (round);
CREATE TABLE answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL UNIQUE,
    query_id INTEGER NOT NULL REFERENCES queries (id),
    choice TEXT NOT NULL CHECK (choice IN ('left', 'right', 'equal', 'skip')),
    annotator TEXT NOT NULL, seconds REAL NOT NULL, created REAL NOT NULL,
    {CONFIDENCE_COLUMN});
CREATE INDEX answers_query ON answers (query_id, annotator);
CREATE INDEX answers_annotator ON answers (annotator, id);
{CLAIMS_TABLE.format(name="claims")}
CREATE INDEX claims_claimant ON claims (claimant);
INSERT INTO meta VALUES ('app', '"{APP_MARKER}"'), ('schema_version', '{SCHEMA_VERSION}');
"""
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (f"ALTER TABLE answers ADD COLUMN {CONFIDENCE_COLUMN}",),
    2: (
        CLAIMS_TABLE.format(name="claims_v3"),
        "INSERT INTO claims_v3 SELECT query_id, claimant, CASE WHEN instr(claimant, '#') > 0 "
        "THEN substr(claimant, 1, instr(claimant, '#') - 1) ELSE claimant END, expires "
        "FROM claims",
        "DROP TABLE claims",
        "ALTER TABLE claims_v3 RENAME TO claims",
        "CREATE INDEX claims_claimant ON claims (claimant)",
    ),
}
"""The statements that take a store from version ``v`` to ``v + 1``, for each older ``v``."""


def build(temp: Path) -> None:
    """Write an empty store of the current schema to ``temp`` (WAL mode, checkpointed)."""
    conn = sqlite3.connect(temp, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(f"BEGIN; PRAGMA application_id = {APPLICATION_ID};{SCHEMA}COMMIT;")
    finally:
        conn.close()  # checkpoints the WAL into the file and deletes it


def _version(conn: sqlite3.Connection) -> str:
    rows = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    return rows[0][0] if rows else ""


def check_meta(conn: sqlite3.Connection, path: Path) -> int:
    """The schema version of the store open in ``conn``; reads only, changes nothing.

    Raises:
        StoreError: the file holds triggers or views, has no hfrl meta, or has a schema
            version newer than :data:`SCHEMA_VERSION` (upgrade hfrl_gym).
    """
    conn.execute("PRAGMA trusted_schema = OFF")  # a store's schema runs no side effects
    kinds = dict(conn.execute("SELECT name, type FROM sqlite_master"))
    if {"trigger", "view"} & set(kinds.values()):  # SQL that would run on our writes
        raise StoreError(
            f"{path} is not an hfrl label store (it holds triggers or views); {FIX_FOREIGN}"
        )
    meta = dict(conn.execute("SELECT key, value FROM meta")) if "meta" in kinds else {}
    version = meta.get("schema_version", "")
    if meta.get("app") != json.dumps(APP_MARKER) or not version.isdigit() or version == "0":
        raise StoreError(f"{path} is not an hfrl label store (no hfrl meta); {FIX_FOREIGN}")
    if int(version) > SCHEMA_VERSION:
        raise StoreError(
            f"label store {path} has schema_version {version}, newer than this hfrl_gym reads "
            f"({SCHEMA_VERSION}); upgrade hfrl_gym to open it"
        )
    return int(version)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the store open in ``conn`` to :data:`SCHEMA_VERSION`; return the version it had.

    One ``BEGIN IMMEDIATE`` transaction: the version is read again once the write lock is
    held (another process may have migrated the store meanwhile), every step of
    :data:`MIGRATIONS` runs, then ``schema_version`` is set. Any error rolls all of it back,
    leaving the store as it was. A store of the current version is left untouched.

    Raises:
        sqlite3.Error: the file could not be written (the caller translates it).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = int(_version(conn))
        for version in range(found, SCHEMA_VERSION):
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
        if found < SCHEMA_VERSION:
            conn.execute(
                "UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)]
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return found

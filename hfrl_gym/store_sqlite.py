"""The SQLite file under a label store: schema, safe opening, transactions, row codecs.

:class:`hfrl_gym.store.LabelStore` builds its API on :class:`StoreFile`, which owns the file:
it creates a new store atomically (complete under a temporary name, then linked into place),
refuses any file that is not an hfrl store without opening it in SQLite (so a foreign file is
never modified and gets no ``-wal``/``-shm`` files beside it), and runs every write as one
``BEGIN IMMEDIATE`` transaction committed with ``synchronous=FULL``. The schema is documented
in ``docs/STORE_FORMAT.md``.

Classes:
    StoreFile: an open, validated store file with its metadata and transactions.

Functions:
    check_uid: refuse a clip uid that could not name a file.
    to_json: JSON text of metadata (numpy scalars allowed, NaN refused).
    clip_row, clip_from_row: a :class:`~hfrl_gym.clips.Clip` to and from a ``clips`` row
        (arrays as ``.npy`` bytes, never pickle).
"""

from __future__ import annotations

import ast
import contextlib
import functools
import io
import json
import math
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hfrl_gym.clips import Clip
from hfrl_gym.errors import HfrlError, StoreError

SCHEMA_VERSION = 1
APPLICATION_ID = 0x4846524C  # "HFRL", in the SQLite header at offset 68
APP_MARKER = "hfrl_gym.label_store"
BUSY_TIMEOUT_S = 60.0
ARRAY_COLUMNS = ("observations", "actions", "true_rewards", "states", "frames")
CLIP_COLUMNS = "uid, provenance, " + ", ".join(ARRAY_COLUMNS)
IN_JSON = "IN (SELECT value FROM json_each(?))"  # bind a JSON list: no limit on its length
RESERVED_META = ("app", "schema_version")
_MAGIC = b"SQLite format 3\x00"
_FIX_FOREIGN = "pass a path to a store made by hfrl, or a new path to create one"
_FIX_CORRUPT = (
    "restore it from a backup or an export (import_store into a new store), or salvage it "
    "with `sqlite3 FILE .recover`"
)
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
    annotator TEXT NOT NULL, seconds REAL NOT NULL, created REAL NOT NULL);
CREATE INDEX answers_query ON answers (query_id, annotator);
CREATE INDEX answers_annotator ON answers (annotator, id);
CREATE TABLE claims (
    query_id INTEGER PRIMARY KEY REFERENCES queries (id),
    claimant TEXT NOT NULL, expires REAL NOT NULL);
INSERT INTO meta VALUES ('app', '"{APP_MARKER}"'), ('schema_version', '{SCHEMA_VERSION}');
"""


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json(value: Any) -> str:
    """JSON text of ``value`` (numpy scalars become numbers; NaN is refused)."""
    return json.dumps(value, default=_json_default, allow_nan=False)


def _npy(array: np.ndarray | None) -> bytes | None:
    if array is None:
        return None
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


@functools.lru_cache(maxsize=512)
def _npy_layout(header: bytes) -> tuple[np.dtype, tuple[int, ...], bool]:
    fields = ast.literal_eval(header.decode("latin1"))
    dtype = np.lib.format.descr_to_dtype(fields["descr"])
    return dtype, tuple(fields["shape"]), bool(fields["fortran_order"])


def _from_npy(blob: bytes) -> np.ndarray:
    """Read ``.npy`` bytes: like ``np.load(allow_pickle=False)``, with the header cached.

    Clips of one env share a few headers, and parsing them was most of ``np.load``'s time.
    """
    version = blob[6] if blob[:6] == b"\x93NUMPY" else 0
    if version not in (1, 2, 3):
        return np.load(io.BytesIO(blob), allow_pickle=False)
    width = 2 if version == 1 else 4
    start = 8 + width + int.from_bytes(blob[8 : 8 + width], "little")
    dtype, shape, fortran = _npy_layout(blob[8 + width : start])
    if dtype.hasobject:
        return np.load(io.BytesIO(blob), allow_pickle=False)  # raises: no pickle here
    flat = np.frombuffer(blob, dtype, count=math.prod(shape), offset=start)
    return flat.reshape(shape, order="F" if fortran else "C").copy()


def check_uid(uid: object) -> str:
    """``uid`` when it is a safe id (1-64 of ``A-Z a-z 0-9 _ -``: it names export files)."""
    if not isinstance(uid, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", uid):
        raise StoreError(
            f"clip uid {uid!r} is not 1-64 letters, digits, '_' or '-'; keep Clip's default uid"
        )
    return uid


def clip_row(clip: Clip) -> tuple[Any, ...]:
    """The ``clips`` row of a clip: uid, env_id, num_steps, provenance, created, arrays.

    Raises:
        StoreError: not a Clip, an unsafe uid, or arrays (object dtype) or provenance that
            would need pickle.
    """
    if not isinstance(clip, Clip):
        raise StoreError(f"the store takes hfrl_gym.clips.Clip objects, got {type(clip).__name__}")
    check_uid(clip.uid)
    try:
        provenance = to_json(clip.provenance())
        blobs = [_npy(getattr(clip, name)) for name in ARRAY_COLUMNS]
    except (TypeError, ValueError) as exc:
        raise StoreError(
            f"clip {clip.uid} cannot be stored ({exc}); give numeric arrays and "
            "JSON-serialisable provenance (int seed, str policy)"
        ) from exc
    return (clip.uid, clip.env_id, clip.num_steps, provenance, time.time(), *blobs)


def clip_from_row(row: Sequence[Any]) -> Clip:
    """Rebuild a clip from a row selected as :data:`CLIP_COLUMNS`.

    Raises:
        StoreError: the row's bytes are damaged (SQLite keeps no checksums of its data).
    """
    try:
        arrays = {
            name: _from_npy(blob)
            for name, blob in zip(ARRAY_COLUMNS, row[2:], strict=True)
            if blob is not None
        }
        return Clip.from_parts(json.loads(row[1]), arrays)
    except (ValueError, SyntaxError, KeyError, TypeError, HfrlError) as exc:
        raise StoreError(f"stored clip {row[0]} is damaged ({exc}); {_FIX_CORRUPT}") from exc


def _translate(exc: sqlite3.Error, path: Path) -> StoreError:
    """A StoreError saying what an SQLite error means for the user, and what to do."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        why = "busy"
        fix = f"another process held its write lock for over {BUSY_TIMEOUT_S:.0f} s; try again"
    elif any(word in text for word in ("malformed", "not a database", "corrupt")):
        why, fix = "corrupt", _FIX_CORRUPT
    elif any(word in text for word in ("disk", "readonly", "unable to open", "full")):
        why, fix = "not writable", "check that the disk has space and the file is writable"
    else:
        why, fix = "unusable", "report this error to the hfrl_gym maintainers"
    return StoreError(f"label store {path} is {why} (SQLite: {exc}); {fix}")


def _logs_present(path: Path) -> bool:
    """Whether a WAL or rollback journal that SQLite must still replay lies beside ``path``."""
    logs = (Path(f"{path}-wal"), Path(f"{path}-journal"))
    return any(log.exists() and log.stat().st_size > 0 for log in logs)


def _check_file(path: Path, *, retry: bool = True) -> None:
    """Refuse a file that is not an hfrl store, reading its header only (never SQLite)."""
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not an hfrl label store; {_FIX_FOREIGN}")
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except OSError as exc:
        raise StoreError(f"cannot read label store {path} ({exc}); check its permissions") from exc
    if not header:
        raise StoreError(f"{path} is not an hfrl label store (an empty file); {_FIX_FOREIGN}")
    if len(header) < 100 or not header.startswith(_MAGIC):
        raise StoreError(f"{path} is not an hfrl label store (not SQLite); {_FIX_FOREIGN}")
    app_id = int.from_bytes(header[68:72], "big")
    if app_id != APPLICATION_ID:
        raise StoreError(
            f"{path} is not an hfrl label store (an SQLite database of another application, "
            f"application_id {app_id:#x}); {_FIX_FOREIGN}"
        )
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise StoreError(f"{path} is corrupt (page size {page_size} in its header); {_FIX_CORRUPT}")
    # With no log to replay, the file must be exactly the pages its header counts. After a
    # mismatch, look once more: another process may have written it since we read the header.
    expected = int.from_bytes(header[28:32], "big") * page_size
    size = path.stat().st_size
    header_size_current = header[24:28] == header[92:96]
    if header_size_current and size != expected and not _logs_present(path):
        if retry:
            _check_file(path, retry=False)
            return
        raise StoreError(
            f"{path} is corrupt (it has {size} bytes, its header says {expected}); {_FIX_CORRUPT}"
        )


def _create(path: Path) -> None:
    """Make a new store: complete under a temporary name, then hard-linked into place."""
    if not path.parent.is_dir():
        raise StoreError(f"cannot create {path}: folder {path.parent} does not exist; create it")
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.creating")
    try:
        conn = sqlite3.connect(temp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(f"BEGIN; PRAGMA application_id = {APPLICATION_ID};{SCHEMA}COMMIT;")
        finally:
            conn.close()  # checkpoints the WAL into the file and deletes it
        with temp.open("rb+") as file:
            os.fsync(file.fileno())
        try:
            os.link(temp, path)  # unlike a rename, never replaces a store made meanwhile
        except FileExistsError:
            pass  # another process created it first: open theirs
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(temp, path)
        with contextlib.suppress(OSError):
            folder = os.open(path.parent, os.O_RDONLY)
            os.fsync(folder)
            os.close(folder)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot create label store {path} ({exc}); check the folder") from exc
    finally:
        temp.unlink(missing_ok=True)


class StoreFile:
    """An open, validated label-store file: connection, lock, transactions and metadata.

    Args:
        path: the store's file. A new path makes a new store when ``create`` is true.
        create: create the file when it does not exist.

    Raises:
        StoreError: the path is missing (with ``create=False``), not an hfrl store, corrupt,
            or written by a newer hfrl_gym. Such a file is left byte-identical.

    Example:
        >>> import tempfile
        >>> folder = tempfile.TemporaryDirectory()
        >>> with StoreFile(f"{folder.name}/labels.db") as file:
        ...     file.set_meta("env_id", "hfrl/CartPole-v0")
        ...     file.get_meta("env_id"), file.get_meta("schema_version"), file.check()
        ('hfrl/CartPole-v0', 1, [])
        >>> folder.cleanup()
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._depth = 0
        self._conn: sqlite3.Connection | None = None
        if not self.path.exists():
            if not create:
                raise StoreError(
                    f"label store {self.path} does not exist; check the path, or pass "
                    "create=True to make a new store"
                )
            _create(self.path)
        _check_file(self.path)
        self._conn = self._connect()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            self._check_meta(conn)  # reads only: a refused file is left as it was
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = FULL")  # fsync the WAL at every commit
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
        except BaseException as exc:
            conn.close()
            if isinstance(exc, sqlite3.Error):
                raise _translate(exc, self.path) from exc
            raise
        return conn

    def _check_meta(self, conn: sqlite3.Connection) -> None:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        meta = dict(conn.execute("SELECT key, value FROM meta")) if "meta" in tables else {}
        version = meta.get("schema_version", "")
        if meta.get("app") != json.dumps(APP_MARKER) or not version.isdigit() or version == "0":
            raise StoreError(
                f"{self.path} is not an hfrl label store (no hfrl meta); {_FIX_FOREIGN}"
            )
        if int(version) > SCHEMA_VERSION:
            raise StoreError(
                f"label store {self.path} has schema_version {version}, newer than this "
                f"hfrl_gym reads ({SCHEMA_VERSION}); upgrade hfrl_gym to open it"
            )

    def close(self) -> None:
        """Close the connection (idempotent). Everything was already committed."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> StoreFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    def _live(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"label store {self.path} is closed; open a new LabelStore")
        return self._conn

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run one statement and fetch all its rows (one consistent snapshot)."""
        with self._lock:
            try:
                return self._live().execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from exc

    @contextlib.contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction, rolled back on any error; nested calls join the outer one.

        A write transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock at once
        (waiting up to :data:`BUSY_TIMEOUT_S` for other writers), so it cannot fail midway
        because another process wrote first. Also used by :mod:`hfrl_gym.store_io`.
        """
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

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable run-level value under ``key``, replacing any old one."""
        if key in RESERVED_META:
            raise StoreError(f"meta key {key!r} is reserved for the store itself; use another")
        try:
            text = to_json(value)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"meta {key!r} must be JSON-serialisable ({exc})") from exc
        with self._transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, text])

    def get_meta(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key``, or ``default`` when there is none."""
        rows = self._read("SELECT value FROM meta WHERE key = ?", [key])
        return json.loads(rows[0][0]) if rows else default

    def check(self) -> list[str]:
        """SQLite's full integrity check: the problems found (empty when the file is sound)."""
        problems = [row[0] for row in self._read("PRAGMA integrity_check")]
        return [] if problems == ["ok"] else problems

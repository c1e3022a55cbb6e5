"""The class's own database: the join code, the settings, and the tokens (hashed).

A label server keeps who may label in ``server.sqlite`` beside the store (in the run folder,
or ``<store>.server.sqlite`` next to a bare store), not in the label store itself: tokens are
credentials, not labels, so a store that is copied, exported or shared carries none of them,
and the store's schema stays about clips, queries and answers. Only the server opens this
file. It is SQLite in WAL mode with ``synchronous=FULL``, so a token given out survives a
``SIGKILL`` of the server; only the SHA-256 of each token is stored.

Classes:
    Role: teacher or student.
    Member: who a token belongs to.
    ClassSettings: the join code and whether the class is open.
    ClassDatabase: the file and its operations.

Functions:
    hash_token: the stored form of a token.
    normalise_code: a join code as typed, in its stored form.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from hfrl_gym.errors import ConfigError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS members (
    client_id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('teacher', 'student')),
    name TEXT NOT NULL, joined REAL NOT NULL, expires REAL);
CREATE UNIQUE INDEX IF NOT EXISTS members_name ON members (role, name);
"""
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
TEACHER_NAME = "teacher"


class Role(enum.Enum):
    """Who a token belongs to."""

    TEACHER = "teacher"
    STUDENT = "student"


@dataclass(frozen=True)
class Member:
    """A token's owner.

    Attributes:
        client_id: the token's public id (``c`` + 12 hex), the client part of its leases.
        role: teacher or student.
        name: the student's name (their annotator name in the store); ``teacher``.
        joined: when the token was made (Unix seconds).
        expires: when it stops working (``None``: never).
    """

    client_id: str
    role: Role
    name: str
    joined: float
    expires: float | None

    @property
    def claimant(self) -> str:
        """The name of this member's leases in the store: ``<annotator>#<client id>``."""
        return f"{self.name}#{self.client_id}"


@dataclass(frozen=True)
class ClassSettings:
    """The class's join code, whether it takes new students, and its lease length."""

    join_code: str
    open: bool
    lease_s: float


def hash_token(token: str) -> str:
    """The stored form of a token (SHA-256, hex).

    Example:
        >>> len(hash_token("abc"))
        64
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalise_code(code: str) -> str:
    """A join code as typed (any case, with or without its dash) in its stored form.

    Example:
        >>> normalise_code(" k7qh2m9x ")
        'K7QH-2M9X'
    """
    letters = "".join(ch for ch in code.upper() if ch.isalnum())
    return f"{letters[:4]}-{letters[4:]}" if len(letters) == 8 else letters


def _new_code() -> str:
    letters = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    return f"{letters[:4]}-{letters[4:]}"


class ClassDatabase:
    """The class's file: settings and members (tokens stored hashed).

    Args:
        path: the file (created when missing).
        lease_s: the lease length of a new class.

    Example:
        >>> import tempfile
        >>> folder = tempfile.TemporaryDirectory()
        >>> db = ClassDatabase(f"{folder.name}/server.sqlite")
        >>> token = db.new_teacher_token()
        >>> db.member(token).role
        <Role.TEACHER: 'teacher'>
        >>> db.close(); folder.cleanup()
    """

    def __init__(self, path: str | Path, *, lease_s: float = 300.0) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.execute("PRAGMA busy_timeout = 10000")
        self._conn.executescript(_SCHEMA)
        self._cache: dict[str, Member] = {}
        with self._lock:
            if self._get("join_code") is None:
                self._put("join_code", _new_code())
                self._put("open", "1")
                self._put("lease_s", repr(float(lease_s)))

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._conn.close()

    def _get(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return None if row is None else row[0]

    def _put(self, key: str, value: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", [key, value])

    # -- the class -------------------------------------------------------------------------

    def settings(self) -> ClassSettings:
        """The class's settings."""
        with self._lock:
            return ClassSettings(
                join_code=self._get("join_code") or "",
                open=self._get("open") == "1",
                lease_s=float(self._get("lease_s") or 300.0),
            )

    def change(
        self, *, open: bool | None = None, lease_s: float | None = None, new_code: bool = False
    ) -> ClassSettings:
        """Open or close the class, change the lease length, or make a new join code."""
        with self._lock:
            if open is not None:
                self._put("open", "1" if open else "0")
            if lease_s is not None:
                self._put("lease_s", repr(float(lease_s)))
            if new_code:
                self._put("join_code", _new_code())
        return self.settings()

    # -- members ---------------------------------------------------------------------------

    def new_teacher_token(self) -> str:
        """Make the teacher's token (a previous teacher token stops working); returns it."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._conn.execute("DELETE FROM members WHERE role = 'teacher'")
            self._insert(token, Role.TEACHER, TEACHER_NAME, None)
            self._cache.clear()
        return token

    def has_teacher(self) -> bool:
        """Whether a teacher token was made."""
        with self._lock:
            sql = "SELECT 1 FROM members WHERE role = 'teacher'"
            return self._conn.execute(sql).fetchone() is not None

    def join(self, code: str, name: str, *, valid_s: float) -> tuple[str, Member]:
        """A new student token for ``name``, if ``code`` is the class's join code.

        Raises:
            PermissionError: a wrong code, or the class is closed.
            ConfigError: the name is taken in this class.
        """
        settings = self.settings()
        if not secrets.compare_digest(normalise_code(code), settings.join_code):
            raise PermissionError("wrong join code; ask the teacher for the class's code")
        if not settings.open:
            raise PermissionError("the class is closed to new students; ask the teacher")
        token = secrets.token_urlsafe(32)
        with self._lock:
            sql = "SELECT 1 FROM members WHERE role = 'student' AND name = ?"
            if self._conn.execute(sql, [name]).fetchone() is not None:
                raise ConfigError(f"the name {name!r} is taken in this class; choose another")
            member = self._insert(token, Role.STUDENT, name, time.time() + valid_s)
        return token, member

    def _insert(self, token: str, role: Role, name: str, expires: float | None) -> Member:
        member = Member(f"c{secrets.token_hex(6)}", role, name, time.time(), expires)
        self._conn.execute(
            "INSERT INTO members VALUES (?, ?, ?, ?, ?, ?)",
            [member.client_id, hash_token(token), role.value, name, member.joined, expires],
        )
        return member

    def member(self, token: str) -> Member | None:
        """Who holds ``token`` (``None``: unknown or expired)."""
        digest = hash_token(token)
        found = self._cache.get(digest)
        if found is None:
            with self._lock:
                row = self._conn.execute(
                    "SELECT client_id, role, name, joined, expires FROM members "
                    "WHERE token_hash = ?",
                    [digest],
                ).fetchone()
            if row is None:
                return None
            found = Member(row[0], Role(row[1]), row[2], row[3], row[4])
            self._cache[digest] = found
        if found.expires is not None and found.expires <= time.time():
            return None
        return found

    def students(self) -> list[Member]:
        """Every student, in the order they joined."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT client_id, role, name, joined, expires FROM members "
                "WHERE role = 'student' ORDER BY joined"
            ).fetchall()
        return [Member(row[0], Role(row[1]), row[2], row[3], row[4]) for row in rows]


def class_database_path(store_path: Path) -> Path:
    """Where the class's file of a store lives: ``server.sqlite`` in a run folder (a folder
    with ``config.json``), else ``<store>.server.sqlite``."""
    if (store_path.parent / "config.json").exists():
        return store_path.parent / "server.sqlite"
    return store_path.with_name(store_path.name + ".server.sqlite")


def check_name(name: str) -> str:
    """A student's name as stored, else ``ConfigError``.

    Example:
        >>> check_name("  Ana B. ")
        'Ana B.'
    """
    name = name.strip()
    allowed = all(ch.isalnum() or ch in " ._-" for ch in name)
    if not 1 <= len(name) <= 40 or not allowed:
        raise ConfigError(
            "a name is 1-40 letters, digits, spaces, '.', '_' or '-'; choose another name"
        )
    return name

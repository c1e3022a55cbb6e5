"""The label store's file on disk, before SQLite touches it: identification and placement.

:func:`check_file` refuses any file that is not an hfrl store by reading its 100-byte header,
never opening it in SQLite (which would modify a foreign file and put ``-wal``/``-shm`` files
beside it). :func:`create_file` places a new store atomically: built under a temporary name,
fsynced, then hard-linked into place. What the file holds (schema, SQL) is
:mod:`hfrl_gym.store_sqlite`'s.

Functions:
    check_file: refuse a file that is not an hfrl label store, from its header bytes.
    create_file: make a new store file atomically, with a function that builds it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path

from hfrl_gym.errors import StoreError

APPLICATION_ID = 0x4846524C  # "HFRL", in the SQLite header at offset 68
FIX_FOREIGN = "pass a path to a store made by hfrl, or a new path to create one"
FIX_CORRUPT = (
    "restore it from a backup or an export (import_store into a new store), or salvage it "
    "with `sqlite3 FILE .recover`"
)
_MAGIC = b"SQLite format 3\x00"


def _logs_present(path: Path) -> bool:
    """Whether a WAL or rollback journal that SQLite must still replay lies beside ``path``."""
    logs = (Path(f"{path}-wal"), Path(f"{path}-journal"))
    return any(log.exists() and log.stat().st_size > 0 for log in logs)


def check_file(path: Path, *, retry: bool = True) -> None:
    """Refuse a file that is not an hfrl store, reading its header only (never SQLite).

    Raises:
        StoreError: a folder, an unreadable or empty file, not SQLite, another application's
            database (``application_id``), an invalid page size, or bytes appended.
    """
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not an hfrl label store; {FIX_FOREIGN}")
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except OSError as exc:
        raise StoreError(f"cannot read label store {path} ({exc}); check its permissions") from exc
    if not header:
        raise StoreError(f"{path} is not an hfrl label store (an empty file); {FIX_FOREIGN}")
    if len(header) < 100 or not header.startswith(_MAGIC):
        raise StoreError(f"{path} is not an hfrl label store (not SQLite); {FIX_FOREIGN}")
    app_id = int.from_bytes(header[68:72], "big")
    if app_id != APPLICATION_ID:
        raise StoreError(
            f"{path} is not an hfrl label store (an SQLite database of another application, "
            f"application_id {app_id:#x}); {FIX_FOREIGN}"
        )
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise StoreError(f"{path} is corrupt (page size {page_size} in its header); {FIX_CORRUPT}")
    # With no log to replay, the file must be exactly the pages its header counts. After a
    # mismatch, look once more: another process may have written it since we read the header.
    expected = int.from_bytes(header[28:32], "big") * page_size
    size = path.stat().st_size
    header_size_current = header[24:28] == header[92:96]
    if header_size_current and size != expected and not _logs_present(path):
        if retry:
            check_file(path, retry=False)
            return
        raise StoreError(
            f"{path} is corrupt (it has {size} bytes, its header says {expected}); {FIX_CORRUPT}"
        )


def create_file(path: Path, build: Callable[[Path], None]) -> None:
    """Make a new store atomically: a path holds either nothing or a complete store.

    ``build(temp)`` completes the store under a temporary name; it is then fsynced and
    hard-linked into place. When another process created ``path`` meanwhile, theirs is kept.

    Raises:
        StoreError: the folder is missing or not writable, or ``build`` failed in SQLite.
    """
    if not path.parent.is_dir():
        raise StoreError(f"cannot create {path}: folder {path.parent} does not exist; create it")
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.creating")
    try:
        build(temp)
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

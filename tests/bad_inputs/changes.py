"""Ways to make a bad input from a good one, and the table's row type.

Each case of the table gets its own folder; a ``Prepare`` makes its bad files there, often
as a damaged copy of the shared store, export or run folder (``tests/test_bad_inputs.py``).
"""

from __future__ import annotations

import json
import os
import pickle
import shlex
import shutil
import sqlite3
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Prepare = Callable[[Path, dict[str, Path]], None]
MARKER = "/tmp/hfrl-bad-input-marker"
"""Written if a hostile pickle in a case ever ran."""


@dataclass(frozen=True)
class Case:
    """``hfrl ARGV`` (``{name}`` replaced by paths), and what its error line must name."""

    argv: str
    names: str
    prepare: Prepare | None = None


def copy_of(name: str, *changes: Callable[[Path], object]) -> Prepare:
    """Copy the shared ``name`` (store, export, run) into the case's folder, then change it."""

    def prepare(tmp: Path, shared: dict[str, Path]) -> None:
        source, target = shared[name], tmp / name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
        for change in changes:
            change(target)

    return prepare


def make(relative: str, content: str | bytes | None = None) -> Prepare:
    """Make a file (or, with ``None``, a folder) in the case's folder."""

    def prepare(tmp: Path, shared: dict[str, Path]) -> None:
        path = tmp / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.mkdir()
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)

    return prepare


def both(*prepares: Prepare) -> Prepare:
    def prepare(tmp: Path, shared: dict[str, Path]) -> None:
        for one in prepares:
            one(tmp, shared)

    return prepare


def write(name: str, content: str | bytes) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)

    return change


def remove(name: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        path = folder / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()

    return change


def truncate(name: str, keep: float = 0.5) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        path = folder / name
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])

    return change


def edit_json(name: str, **fields: object) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        path = folder / name
        path.write_text(json.dumps({**json.loads(path.read_text()), **fields}))

    return change


def edit_jsonl(name: str, **fields: object) -> Callable[[Path], None]:
    """Change fields of the first record of an export's JSONL file."""

    def change(folder: Path) -> None:
        path = folder / name
        records = [json.loads(line) for line in path.read_text().splitlines()]
        records[0].update(fields)
        path.write_text("".join(json.dumps(record) + "\n" for record in records))

    return change


def first_clip(change: Callable[[dict[str, np.ndarray]], object]) -> Callable[[Path], None]:
    """Rewrite the arrays of the first clip file of an export."""

    def apply(folder: Path) -> None:
        uid = json.loads((folder / "clips.jsonl").read_text().splitlines()[0])["uid"]
        path = folder / "clips" / f"{uid}.npz"
        with np.load(path) as npz:
            arrays = dict(npz)
        change(arrays)
        np.savez(path, **arrays)

    return apply


def sql(statement: str) -> Callable[[Path], None]:
    """Run SQL on a store file (a store written by something else than hfrl)."""

    def change(path: Path) -> None:
        with sqlite3.connect(path) as conn:
            conn.execute(statement)
        conn.close()

    return change


class _RunsCommand:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {shlex.quote(self.marker)}",))


def hostile_pickle() -> bytes:
    return pickle.dumps(_RunsCommand(MARKER))


def hostile_zip(name: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        with zipfile.ZipFile(folder / name, "w") as archive:
            archive.writestr("data", "{}")
            archive.writestr("policy.pth", hostile_pickle())

    return change


def policy_pt(env_id: str) -> Callable[[Path], None]:
    """A run folder's policy saved as tensors for ``env_id`` (maybe not the run's env)."""

    def change(folder: Path) -> None:
        from agents.policy_file import save_policy
        from agents.ppo import untrained_ppo

        save_policy(untrained_ppo(env_id, seed=0), folder / "policy.pt", env_id=env_id)

    return change


def first_npz(folder: Path) -> Path:
    uid = json.loads((folder / "clips.jsonl").read_text().splitlines()[0])["uid"]
    return folder / "clips" / f"{uid}.npz"


def tear_first_npz(folder: Path) -> None:
    path = first_npz(folder)
    path.write_bytes(path.read_bytes()[:300])


def replace_first_npz(folder: Path, data: bytes) -> None:
    first_npz(folder).write_bytes(data)


def object_npz() -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, observations=np.array([{"a": 1}] * 7, dtype=object))
    return buffer.getvalue()


def self_pair(folder: Path) -> None:
    path = folder / "queries.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    records[0]["right_uid"] = records[0]["left_uid"]
    path.write_text("".join(json.dumps(record) + "\n" for record in records))


def state_text(wall: str) -> str:
    return '{"next_round": 1, "env_steps": 1520, "ppo_steps": 1024, "wall_seconds": ' + wall + "}"


def zip_without_policy(path: Path) -> None:
    path.unlink()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data", "{}")

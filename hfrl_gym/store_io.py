"""Export and import of a label store as a documented, versioned folder.

The folder (format ``hfrl-label-store``, version 1; see ``docs/STORE_FORMAT.md``)::

    manifest.json    format, format_version, hfrl_version, counts, the store's meta
    clips.jsonl      one clip's provenance per line (plus ``created`` and ``arrays``)
    clips/<uid>.npz  the clip's arrays (``np.savez``, loaded with ``allow_pickle=False``)
    queries.jsonl    one query per line, named by its ``uid``
    answers.jsonl    one answer per line, named by its ``uid``, pointing at ``query_uid``

Import is idempotent (clips, queries and answers already present, by uid, are skipped) and
atomic (one transaction: a damaged folder stores nothing). An unknown format or version is
refused before anything is written.

Functions:
    export_store: write a store to a new folder.
    import_store: merge a folder into a store.
    measure_clip_rates: clip write and read rates, for the store benchmark.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from hfrl_gym import __version__
from hfrl_gym.answers import Choice
from hfrl_gym.clips import Clip
from hfrl_gym.errors import ClipShapeError, StoreError
from hfrl_gym.store import LabelStore
from hfrl_gym.store_sqlite import IN_JSON, SCHEMA_VERSION, check_uid

FORMAT_NAME = "hfrl-label-store"
FORMAT_VERSION = 1
_NUMBER = (int, float)
_CLIP_TYPES: dict[str, Any] = {"uid": str, "env_id": str}
_QUERY_TYPES = {"uid": str, "left_uid": str, "right_uid": str, "round": int, "created": _NUMBER}
_ANSWER_TYPES = {
    "uid": str,
    "query_uid": str,
    "choice": str,
    "annotator": str,
    "seconds": _NUMBER,
    "created": _NUMBER,
}
_QUERY_KEYS = tuple(_QUERY_TYPES)
_ANSWER_KEYS = tuple(_ANSWER_TYPES)
_FIX_EXPORT = "the export is damaged or incomplete: export the store again"


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as file:
        for record in records:
            file.write(json.dumps(record, allow_nan=False) + "\n")


def export_store(store: LabelStore, folder: str | os.PathLike[str]) -> dict[str, int]:
    """Write every clip, query and answer of ``store`` to a new folder.

    The folder is written under a temporary name and renamed when complete, from one
    consistent snapshot of the store (other processes may keep answering meanwhile).

    Args:
        store: the store to export.
        folder: a folder that does not exist yet (or is empty).

    Returns:
        ``{"clips": n, "queries": n, "answers": n}``, the numbers written.

    Example:
        >>> import tempfile
        >>> folder = tempfile.TemporaryDirectory()
        >>> with LabelStore(f"{folder.name}/labels.db") as store:
        ...     export_store(store, f"{folder.name}/export")
        {'clips': 0, 'queries': 0, 'answers': 0}
        >>> sorted(path.name for path in Path(folder.name, "export").iterdir())
        ['answers.jsonl', 'clips', 'clips.jsonl', 'manifest.json', 'queries.jsonl']
        >>> folder.cleanup()
    """
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise StoreError(f"cannot export to {folder}: it exists and is not empty; pick a new one")
    if not folder.parent.is_dir():
        raise StoreError(f"cannot export to {folder}: {folder.parent} does not exist; create it")
    temp = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}.exporting")
    (temp / "clips").mkdir(parents=True)
    try:
        clip_records = []
        with store._transaction(write=False) as conn:
            rows = conn.execute("SELECT uid, provenance, created FROM clips ORDER BY rowid")
            for uid, provenance, created in rows.fetchall():
                arrays = store.get_clip(uid).arrays()
                np.savez(temp / "clips" / f"{uid}.npz", allow_pickle=False, **arrays)
                record = {**json.loads(provenance), "created": created, "arrays": sorted(arrays)}
                clip_records.append(record)
            sql = f"SELECT {', '.join(_QUERY_KEYS)}, id FROM queries ORDER BY id"
            query_rows = conn.execute(sql).fetchall()
            answer_rows = conn.execute(
                "SELECT a.uid, q.uid, a.choice, a.annotator, a.seconds, a.created FROM answers a "
                "JOIN queries q ON q.id = a.query_id ORDER BY a.id"
            ).fetchall()
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        queries = [dict(zip((*_QUERY_KEYS, "id"), row, strict=True)) for row in query_rows]
        answers = [dict(zip(_ANSWER_KEYS, row, strict=True)) for row in answer_rows]
        _write_jsonl(temp / "clips.jsonl", clip_records)
        _write_jsonl(temp / "queries.jsonl", queries)
        _write_jsonl(temp / "answers.jsonl", answers)
        counts = {"clips": len(clip_records), "queries": len(queries), "answers": len(answers)}
        manifest = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "hfrl_version": __version__,
            "schema_version": SCHEMA_VERSION,
            "exported": time.time(),
            "counts": counts,
            "meta": {key: json.loads(value) for key, value in meta.items()},
        }
        (temp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
        if folder.exists():
            folder.rmdir()  # empty, checked above
        temp.rename(folder)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return counts


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        raise StoreError(
            f"{folder} is not an hfrl store export (no manifest.json); pass a folder written "
            "by export_store"
        )
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(f"{path} is unreadable ({exc}); {_FIX_EXPORT}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise StoreError(f"{folder} is not an hfrl store export (format is not {FORMAT_NAME!r})")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise StoreError(
            f"{folder} has export format_version {version!r}, but this hfrl_gym reads only "
            f"version {FORMAT_VERSION}; upgrade hfrl_gym (or export again with this version)"
        )
    return manifest


def _read_jsonl(path: Path, types: dict[str, Any], expected: int | None) -> list[dict[str, Any]]:
    """The records of a JSONL file, checked: keys and their types, number of records."""
    try:
        lines = path.read_text("utf-8").splitlines()
        records = [json.loads(line) for line in lines if line.strip()]
    except (OSError, ValueError) as exc:
        raise StoreError(f"{path} is unreadable ({exc}); {_FIX_EXPORT}") from exc
    for number, record in enumerate(records, start=1):
        bad = [
            key
            for key, kind in types.items()
            if not isinstance(record, dict) or not isinstance(record.get(key), kind)
        ]
        if bad:
            raise StoreError(f"{path} line {number}: {bad} missing or mistyped; {_FIX_EXPORT}")
    if len(records) != expected:
        raise StoreError(
            f"{path} has {len(records)} records, the manifest says {expected}; {_FIX_EXPORT}"
        )
    return records


def _load_clip(folder: Path, record: dict[str, Any]) -> Clip:
    path = folder / "clips" / f"{check_uid(record['uid'])}.npz"
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in record.get("arrays", npz.files)}
        return Clip.from_parts(record, arrays)
    except (OSError, ValueError, KeyError, ClipShapeError) as exc:
        raise StoreError(f"clip file {path} is unusable ({exc}); {_FIX_EXPORT}") from exc


def import_store(store: LabelStore, folder: str | os.PathLike[str]) -> dict[str, int]:
    """Merge an exported folder into ``store``, in one transaction.

    Clips, queries and answers are matched by uid: those already in the store are skipped,
    so importing twice changes nothing. Imported answers take new row ids after the store's
    own, in their exported order (which decides the "newest" answer).

    Args:
        store: the store to import into.
        folder: a folder written by :func:`export_store`.

    Returns:
        ``{"clips": n, "queries": n, "answers": n}``, the numbers newly added.

    Raises:
        StoreError: an unknown format or version (refused before anything is written), or a
            damaged folder, or a clip uid stored with other data (nothing is stored).
    """
    folder = Path(folder)
    counts = _read_manifest(folder).get("counts", {})
    clips = _read_jsonl(folder / "clips.jsonl", _CLIP_TYPES, counts.get("clips"))
    queries = _read_jsonl(folder / "queries.jsonl", _QUERY_TYPES, counts.get("queries"))
    answers = _read_jsonl(folder / "answers.jsonl", _ANSWER_TYPES, counts.get("answers"))
    choices = {choice.value for choice in Choice}
    if any(answer["choice"] not in choices for answer in answers):
        raise StoreError(f"{folder}/answers.jsonl holds a choice not in {choices}; {_FIX_EXPORT}")
    with store._transaction() as conn:
        before = store.num_clips()
        for record in clips:
            store.add_clips([_load_clip(folder, record)])
        added = {"clips": store.num_clips() - before, "queries": 0, "answers": 0}
        query_uids = sorted({q["uid"] for q in queries} | {a["query_uid"] for a in answers})
        sql = f"SELECT uid, id FROM queries WHERE uid {IN_JSON}"
        query_ids = dict(conn.execute(sql, [json.dumps(query_uids)]).fetchall())
        new = [query for query in queries if query["uid"] not in query_ids]
        uids = sorted({q[side] for q in new for side in ("left_uid", "right_uid")})
        sql = f"SELECT uid, env_id FROM clips WHERE uid {IN_JSON}"
        env_of = dict(conn.execute(sql, [json.dumps(uids)]).fetchall())
        for query in new:
            left, right = env_of.get(query["left_uid"]), env_of.get(query["right_uid"])
            if left is None or right is None or left != right:
                raise StoreError(
                    f"query {query['uid']} pairs clips that are missing or of different envs "
                    f"({left!r}, {right!r}); {_FIX_EXPORT}"
                )
            cursor = conn.execute(
                "INSERT INTO queries (uid, left_uid, right_uid, round, created) "
                "VALUES (?, ?, ?, ?, ?)",
                [query[key] for key in _QUERY_KEYS],
            )
            query_ids[query["uid"]] = cursor.lastrowid
        added["queries"] = len(new)
        sql = f"SELECT uid FROM answers WHERE uid {IN_JSON}"
        known = {row[0] for row in conn.execute(sql, [json.dumps([a["uid"] for a in answers])])}
        for answer in answers:
            if answer["query_uid"] not in query_ids:
                raise StoreError(f"answer {answer['uid']} is to an unknown query; {_FIX_EXPORT}")
            if answer["uid"] in known:
                continue
            row = {**answer, "query_uid": query_ids[answer["query_uid"]]}
            conn.execute(
                "INSERT INTO answers (uid, query_id, choice, annotator, seconds, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [row[key] for key in _ANSWER_KEYS],
            )
            known.add(answer["uid"])
            added["answers"] += 1
    return added


def measure_clip_rates(
    folder: str | os.PathLike[str], *, num_clips: int = 500, num_steps: int = 50, seed: int = 0
) -> dict[str, float]:
    """Clip write and read rates of a fresh store, for CartPole-shaped clips.

    Clips have ``num_steps`` steps, observations ``(T+1, 4)`` float32, states ``(T+1, 4)``
    float64. ``num_clips`` are written one call (one fsynced transaction) each, ``num_clips``
    more in one ``add_clips`` call; then ``num_clips`` are read one by one, and all in one
    ``get_clips`` call. The store is made in ``folder`` and deleted afterwards.

    Returns:
        Rates in clips per second (``write_single``, ``write_batch``, ``read_single``,
        ``read_batch``) and ``bytes_per_clip`` of the store file.
    """
    rng = np.random.default_rng(seed)
    clips = [
        Clip(
            env_id="hfrl/CartPole-v0",
            observations=rng.normal(size=(num_steps + 1, 4)).astype(np.float32),
            actions=rng.integers(0, 2, size=num_steps),
            true_rewards=np.ones(num_steps),
            states=rng.normal(size=(num_steps + 1, 4)),
            policy="benchmark",
        )
        for _ in range(2 * num_clips)
    ]
    path = Path(folder) / f"bench-{uuid.uuid4().hex[:8]}.db"
    rates: dict[str, float] = {}
    try:
        with LabelStore(path) as store:
            start = time.perf_counter()
            for clip in clips[:num_clips]:
                store.add_clip(clip)
            rates["write_single"] = num_clips / (time.perf_counter() - start)
            start = time.perf_counter()
            store.add_clips(clips[num_clips:])
            rates["write_batch"] = num_clips / (time.perf_counter() - start)
            uids = store.clip_uids()
            start = time.perf_counter()
            for uid in uids[:num_clips]:
                store.get_clip(uid)
            rates["read_single"] = num_clips / (time.perf_counter() - start)
            start = time.perf_counter()
            store.get_clips(uids)
            rates["read_batch"] = len(uids) / (time.perf_counter() - start)
        rates["bytes_per_clip"] = path.stat().st_size / len(clips)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return rates

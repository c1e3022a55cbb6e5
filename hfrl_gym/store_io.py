"""Export and import of a label store as a documented, versioned folder.

The folder (format ``hfrl-label-store``, version 2; see ``docs/STORE_FORMAT.md``)::

    manifest.json    format, format_version, hfrl_version, counts, the store's meta
    clips.jsonl      one clip's provenance per line (plus ``created`` and ``arrays``)
    clips/<uid>.npz  the clip's arrays (``np.savez``, loaded with ``allow_pickle=False``)
    queries.jsonl    one query per line, named by its ``uid``
    answers.jsonl    one answer per line, named by its ``uid``, pointing at ``query_uid``
                     (version 2 adds its ``confidence``: ``much``, ``slightly`` or null)

Import is idempotent (clips, queries and answers already present, by uid, are skipped) and
atomic (one transaction: a damaged folder stores nothing). It reads versions 1 and 2 (a
version 1 answer has no confidence); an unknown format or a newer version is refused before
anything is written.

Functions:
    export_store: write a store to a new folder.
    import_store: merge a folder into a store.

Both use only the public API of :class:`~hfrl_gym.store.LabelStore`: export reads in one
:meth:`~hfrl_gym.store.LabelStore.snapshot`, import writes with
:meth:`~hfrl_gym.store.LabelStore.import_records` (one transaction).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from hfrl_gym import __version__
from hfrl_gym.answers import Choice
from hfrl_gym.clips import Clip
from hfrl_gym.errors import StoreError
from hfrl_gym.store import LabelStore
from hfrl_gym.store_codec import check_uid
from hfrl_gym.store_rules import check_answer, check_clip, check_query
from hfrl_gym.store_sqlite import SCHEMA_VERSION

FORMAT_NAME = "hfrl-label-store"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
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
    "confidence": (str, type(None)),  # version 2; absent in version 1 (None: not given)
}
_FIX_EXPORT = "the export is damaged or incomplete: export the store again"


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as file:
        for record in records:
            file.write(json.dumps(record, allow_nan=False) + "\n")


def _safe_uid(uid: object, store: LabelStore) -> str:
    """A stored clip's uid, if it can name a file inside the export (else ``StoreError``)."""
    try:
        return check_uid(uid)
    except StoreError:
        raise StoreError(
            f"cannot export {store.path}: it holds a clip uid {uid!r} that is not a safe file "
            "name (1-64 letters, digits, '_' or '-'); the store was not written by hfrl: "
            "remove that clip with sqlite3, or export another store"
        ) from None


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
        with store.snapshot():
            for record, clip in store.clip_records():
                arrays = clip.arrays()
                name = f"{_safe_uid(record.get('uid'), store)}.npz"  # as import checks it
                np.savez(temp / "clips" / name, allow_pickle=False, **arrays)
                clip_records.append({**record, "arrays": sorted(arrays)})
            queries = store.query_records()
            answers = store.answer_records()
            meta = store.all_meta()
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
            "meta": meta,
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
    if (
        version not in READABLE_VERSIONS
        or not isinstance(version, int)
        or isinstance(version, bool)
    ):
        raise StoreError(
            f"{folder} has export format_version {version!r}, but this hfrl_gym reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}; upgrade hfrl_gym (or export again with "
            "this version)"
        )
    if not isinstance(manifest.get("counts", {}), dict):
        raise StoreError(f"{path}: counts is not an object of numbers; {_FIX_EXPORT}")
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
    path = folder / "clips" / f"{record['uid']}.npz"  # a safe name: _check_records
    try:
        with np.load(path, allow_pickle=False) as npz:
            names = record.get("arrays", npz.files)
            if not isinstance(names, list):
                raise ValueError(f"its record's arrays is {names!r}, not a list of names")
            arrays = {name: npz[name] for name in names}
        clip = Clip.from_parts(record, arrays)
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise StoreError(f"clip file {path} is unusable ({exc}); {_FIX_EXPORT}") from None
    return check_clip(clip, f"in {path}; {_FIX_EXPORT}")


def _check_records(
    folder: Path,
    clips: list[dict[str, Any]],
    queries: list[dict[str, Any]],
    answers: list[dict[str, Any]],
) -> None:
    """The store's rules (``store_rules``), and an export's own: every uid it names is in it.

    Refused with the file and line, before the store is touched.
    """
    for number, clip in enumerate(clips, start=1):
        try:
            check_uid(clip["uid"])
        except StoreError as exc:
            raise StoreError(f"{folder / 'clips.jsonl'} line {number}: {exc}") from None
    clip_uids = {clip["uid"] for clip in clips}
    where = folder / "queries.jsonl"
    for number, query in enumerate(queries, start=1):
        fix = f"{where} line {number}: {_FIX_EXPORT}"
        check_query(query["round"], fix, created=query["created"])
        if query["left_uid"] == query["right_uid"]:
            raise StoreError(f"a query pairs clip {query['left_uid']} with itself; {fix}")
        missing = {query["left_uid"], query["right_uid"]} - clip_uids
        if missing:
            raise StoreError(f"a query names clips {sorted(missing)} not in clips.jsonl; {fix}")
    query_uids = {query["uid"] for query in queries}
    where = folder / "answers.jsonl"
    for number, answer in enumerate(answers, start=1):
        fix = f"{where} line {number}: {_FIX_EXPORT}"
        check_answer(
            answer["choice"],
            answer["annotator"],
            answer["seconds"],
            fix,
            created=answer["created"],
            confidence=answer.get("confidence"),
        )
        if answer["query_uid"] not in query_uids:
            raise StoreError(f"an answer to query {answer['query_uid']!r}, not in queries; {fix}")


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
    _check_records(folder, clips, queries, answers)
    return store.import_records((_load_clip(folder, record) for record in clips), queries, answers)

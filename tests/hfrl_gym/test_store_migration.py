"""Schema version 2 (answers with a confidence): old stores migrate, old exports import.

The old files are real ones made by earlier hfrl_gym versions, in ``tests/data/legacy``:

- ``store_v1.sqlite``: a store of schema version 1 (see ``test_store_legacy.py``);
- ``export_v1/``: an export of format version 1, written by ``export_store`` of commit
  860b068 from a copy of ``store_v1.sqlite`` after ``bo`` answered query 3 ``equal`` (3 s) and
  query 1 ``skip`` (0.5 s): four answers, ``left``, ``right``, ``equal`` and ``skip``.

Every test works on copies, so the committed files never change.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from hfrl_gym.answers import Answer, Choice, Confidence
from hfrl_gym.errors import StoreError
from hfrl_gym.store import LabelStore
from hfrl_gym.store_io import FORMAT_VERSION, export_store, import_store
from hfrl_gym.store_schema import MIGRATIONS, SCHEMA_VERSION
from hfrl_gym.store_sqlite import StoreDatabase
from tests.conftest import make_clip

LEGACY = Path(__file__).parents[1] / "data" / "legacy"
V1_TABLES = {
    "meta": "key, value",
    "clips": "uid, env_id, num_steps, provenance, created, observations, actions, "
    "true_rewards, states, frames",
    "queries": "id, uid, left_uid, right_uid, round, created",
    "answers": "id, uid, query_id, choice, annotator, seconds, created",
    "claims": "query_id, claimant, expires",
}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows_of(path: Path, columns: dict[str, str]) -> dict[str, list]:
    """Every row of each table (these columns), read without writing anything."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {
            table: conn.execute(f"SELECT {cols} FROM {table} ORDER BY rowid").fetchall()
            for table, cols in columns.items()
        }
    finally:
        conn.close()


def table_info(path: Path, table: str) -> list:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(f"PRAGMA table_info({table})").fetchall()
    finally:
        conn.close()


def schema_version(path: Path) -> str:
    return rows_of(path, {"meta": "key, value"})["meta"][1][1]


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    """A copy of the schema-version-1 store, alone in its folder."""
    copy = tmp_path / "old" / "labels.sqlite"
    copy.parent.mkdir()
    shutil.copyfile(LEGACY / "store_v1.sqlite", copy)
    return copy


def test_opening_a_version_1_store_migrates_it_and_keeps_every_row(
    old_store: Path, tmp_path: Path
) -> None:
    committed = digest(LEGACY / "store_v1.sqlite")
    before = rows_of(old_store, V1_TABLES)
    assert schema_version(old_store) == "1"
    assert "confidence" not in [column[1] for column in table_info(old_store, "answers")]
    with StoreDatabase(old_store, create=False) as db:
        assert db.migrated_from == 1
        assert db.check() == []
    assert schema_version(old_store) == str(SCHEMA_VERSION) == "3"
    after = rows_of(old_store, V1_TABLES)
    assert after["meta"] == [
        ("app", before["meta"][0][1]),
        ("schema_version", "3"),
        *before["meta"][2:],
    ]
    for table in ("clips", "queries", "answers", "claims"):
        assert after[table] == before[table]  # nothing stored was changed or lost
    assert rows_of(old_store, {"answers": "confidence"})["answers"] == [(None,), (None,)]
    LabelStore(tmp_path / "fresh.sqlite").close()
    assert table_info(old_store, "answers") == table_info(tmp_path / "fresh.sqlite", "answers")
    with StoreDatabase(old_store, create=False) as again:
        assert again.migrated_from is None  # migrated once
    assert digest(LEGACY / "store_v1.sqlite") == committed


def test_a_migrated_store_takes_and_gives_back_confidences(old_store: Path) -> None:
    with LabelStore(old_store, create=False) as store:
        store.add_answer(3, Answer(Choice.RIGHT, annotator="bo", confidence="slightly"))
        store.add_answer(1, Answer(Choice.LEFT, annotator="bo", confidence=Confidence.MUCH))
        assert [(a.query_id, a.choice, a.confidence) for a in store.answers()] == [
            (1, Choice.LEFT, None),
            (2, Choice.RIGHT, None),
            (3, Choice.RIGHT, Confidence.SLIGHTLY),
            (1, Choice.LEFT, Confidence.MUCH),
        ]
        assert [answer.target for _, answer in store.labelled_pairs()] == [1.0, 1.0, 0.0, 0.25]
    with LabelStore(old_store, create=False) as again:
        assert again.latest_answers()[3].confidence is Confidence.SLIGHTLY


def test_a_failed_migration_leaves_the_old_store_as_it_was(
    old_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = rows_of(old_store, V1_TABLES)
    broken = (*MIGRATIONS[1], "ALTER TABLE no_such_table ADD COLUMN x TEXT")
    monkeypatch.setitem(MIGRATIONS, 1, broken)
    with pytest.raises(StoreError, match=r"label store .*labels.sqlite is unusable \(SQLite"):
        LabelStore(old_store, create=False)
    assert schema_version(old_store) == "1"
    assert "confidence" not in [column[1] for column in table_info(old_store, "answers")]
    assert rows_of(old_store, V1_TABLES) == before
    monkeypatch.undo()
    with LabelStore(old_store, create=False) as store:  # a later opening migrates it
        assert store.get_meta("schema_version") == 3
        assert store.counts()["answers"] == 2


def test_two_openings_at_once_migrate_the_store_once(old_store: Path) -> None:
    start = threading.Barrier(4)
    migrated: list[int | None] = []
    errors: list[BaseException] = []

    def open_store() -> None:
        start.wait()
        try:
            with StoreDatabase(old_store, create=False) as db:
                migrated.append(db.migrated_from)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert migrated.count(1) == 1  # the others found it migrated (or waited and did nothing)
    assert set(migrated) <= {1, 3, None}
    assert schema_version(old_store) == "3"
    assert [column[1] for column in table_info(old_store, "answers")].count("confidence") == 1


def test_a_store_of_a_newer_version_is_refused_unchanged(old_store: Path) -> None:
    conn = sqlite3.connect(old_store)
    conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    before = digest(old_store)
    with pytest.raises(StoreError, match=r"schema_version 4, newer than .* \(3\); upgrade"):
        LabelStore(old_store, create=False)
    assert digest(old_store) == before


def test_a_version_1_export_still_imports(tmp_path: Path) -> None:
    export = LEGACY / "export_v1"
    assert json.loads((export / "manifest.json").read_text())["format_version"] == 1
    assert all("confidence" not in line for line in (export / "answers.jsonl").open())
    with LabelStore(tmp_path / "new.sqlite") as store:
        assert import_store(store, export) == {"clips": 6, "queries": 3, "answers": 4}
        answers = store.answers()
        assert [(a.query_id, a.choice, a.annotator, a.seconds) for a in answers] == [
            (1, Choice.LEFT, "ana", 2.5),
            (2, Choice.RIGHT, "ana", 1.25),
            (3, Choice.EQUAL, "bo", 3.0),
            (1, Choice.SKIP, "bo", 0.5),
        ]
        assert [a.confidence for a in answers] == [None] * 4
        assert import_store(store, export) == {"clips": 0, "queries": 0, "answers": 0}


def test_export_and_import_round_trip_confidences(tmp_path: Path, rng: np.random.Generator) -> None:
    with LabelStore(tmp_path / "a.sqlite") as source:
        uids = source.add_clips([make_clip(rng, num_steps=4) for _ in range(4)])
        first, second = source.add_queries([(uids[0], uids[1]), (uids[2], uids[3])])
        source.add_answer(first, Answer(Choice.LEFT, annotator="ana", confidence="much"))
        source.add_answer(second, Answer(Choice.RIGHT, annotator="ana", confidence="slightly"))
        source.add_answer(second, Answer(Choice.EQUAL, annotator="bo"))
        source.add_answer(first, Answer(Choice.RIGHT, annotator="bo"))
        export_store(source, tmp_path / "export")
        expected = [(a.choice, a.annotator, a.confidence, a.created) for a in source.answers()]
    manifest = json.loads((tmp_path / "export" / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION == 2
    assert manifest["schema_version"] == 3
    lines = [json.loads(line) for line in (tmp_path / "export" / "answers.jsonl").open()]
    assert [line["confidence"] for line in lines] == ["much", "slightly", None, None]
    with LabelStore(tmp_path / "b.sqlite") as target:
        assert import_store(target, tmp_path / "export")["answers"] == 4
        got = [(a.choice, a.annotator, a.confidence, a.created) for a in target.answers()]
        assert got == expected
        assert [a.target for _, a in target.labelled_pairs()] == [1.0, 0.0, 0.25, 0.5]


def rewrite_answer(export: Path, line: int, **fields: object) -> None:
    path = export / "answers.jsonl"
    records = [json.loads(text) for text in path.read_text().splitlines()]
    records[line].update(fields)
    path.write_text("".join(json.dumps(record) + "\n" for record in records))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"confidence": "very"}, r"confidence must be 'much', 'slightly' or None .* got 'very'"),
        ({"confidence": "Much"}, r"confidence must be .* got 'Much'"),
        ({"confidence": 2}, r"\['confidence'\] missing or mistyped"),
        ({"choice": "equal", "confidence": "much"}, r"only a 'left' or 'right' answer has a"),
    ],
)
def test_an_export_with_a_bad_confidence_is_refused_whole(
    tmp_path: Path, fields: dict[str, object], message: str
) -> None:
    export = tmp_path / "export"
    shutil.copytree(LEGACY / "export_v1", export)
    rewrite_answer(export, 1, **fields)
    with LabelStore(tmp_path / "new.sqlite") as store:
        with pytest.raises(StoreError, match=message) as refused:
            import_store(store, export)
        assert "answers.jsonl line 2" in str(refused.value)
        assert "\n" not in str(refused.value)
        assert store.counts()["clips"] == 0  # nothing of the folder was stored


def test_the_schema_refuses_a_bad_confidence_written_by_other_means(old_store: Path) -> None:
    LabelStore(old_store, create=False).close()
    conn = sqlite3.connect(old_store)
    try:
        for choice, confidence in (("left", "very"), ("skip", "much")):
            with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
                conn.execute(
                    "INSERT INTO answers (uid, query_id, choice, annotator, seconds, created, "
                    "confidence) VALUES ('x', 1, ?, 'ana', 1.0, 0.0, ?)",
                    [choice, confidence],
                )
    finally:
        conn.close()

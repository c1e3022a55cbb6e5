"""A store made before the store's code was split by concept still opens and behaves.

``tests/data/legacy/store_v1.sqlite`` was made by hfrl_gym as it was before the split (one
``StoreFile`` base class, SQL in three modules):
``hfrl record --env hfrl/CartPole-v0 --clips 6 --clip-steps 10 --queries 3 --seed 0``, then
two answers by ``ana`` (``left`` to query 1, ``right`` to query 2) and a ``note`` in meta. It
has schema version 1: opening it migrates it to version 2 (answers gain a ``confidence``
column, ``test_store_migration.py``). The test works on a copy, so the committed file never
changes.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from hfrl_gym.answers import Answer, Choice
from hfrl_gym.store import LabelStore
from hfrl_gym.store_io import export_store, import_store
from hfrl_gym.store_schema import APPLICATION_ID, CLAIMS_TABLE, CONFIDENCE_COLUMN, SCHEMA

V1_CLAIMS = """CREATE TABLE claims (
    query_id INTEGER PRIMARY KEY REFERENCES queries (id),
    claimant TEXT NOT NULL, expires REAL NOT NULL);"""

LEGACY = Path(__file__).parents[1] / "data" / "legacy" / "store_v1.sqlite"
CLIP_UIDS = [
    "38c1bf4d3753475fa9196cb8dea89dff",
    "193c6a2e731244fdbdf54a37900a3ef5",
    "e296de79ab0441aba56a221da8315d50",
    "36c331613ea741b79fac6c88a3ab5e5f",
    "2f0e2b3a8f074df8af6eff644fc50875",
    "e505d86290ad4591aaba8c080c4d869e",
]
PAIRS = [(CLIP_UIDS[5], CLIP_UIDS[1]), (CLIP_UIDS[1], CLIP_UIDS[4]), (CLIP_UIDS[2], CLIP_UIDS[5])]
ANSWER_UIDS = ["8fbc35b233d54020a985b8151c6cdcff", "eaef5bda305d49ffbca74c98e10e8cae"]


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    """A copy of the legacy store, alone in its folder."""
    assert sorted(p.name for p in LEGACY.parent.glob("store_v1.sqlite*")) == ["store_v1.sqlite"]
    copy = tmp_path / "old" / "labels.sqlite"
    copy.parent.mkdir()
    shutil.copyfile(LEGACY, copy)
    return copy


def test_legacy_file_has_the_v1_schema_and_identity(legacy: Path) -> None:
    conn = sqlite3.connect(f"file:{legacy}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        stored = sorted(sql for (sql,) in conn.execute("SELECT sql FROM sqlite_master") if sql)
        fresh = sqlite3.connect(":memory:")
        claims = (
            CLAIMS_TABLE.format(name="claims")
            + "\nCREATE INDEX claims_claimant ON claims (claimant);"
        )
        version_1 = SCHEMA.replace(f",\n    {CONFIDENCE_COLUMN}", "").replace(claims, V1_CLAIMS)
        fresh.executescript(version_1)
        expected = sorted(sql for (sql,) in fresh.execute("SELECT sql FROM sqlite_master") if sql)
        fresh.close()
        assert stored == expected  # version 1: without the confidence, one claim per query
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
            "1",
        )
    finally:
        conn.close()


def test_legacy_store_reads_as_it_was_written(legacy: Path) -> None:
    with LabelStore(legacy, create=False) as store:
        assert store.check() == []
        assert store.get_meta("schema_version") == 3  # migrated when opened
        assert store.get_meta("app") == "hfrl_gym.label_store"
        assert store.get_meta("note") == "legacy store made before the store split (issue 10)"
        assert store.counts() == {
            "queries": 3,
            "answered": 2,
            "answers": 2,
            "clips": 6,
            "pending": 1,
        }
        assert store.clip_uids() == store.clip_uids("hfrl/CartPole-v0") == CLIP_UIDS
        clips = store.get_clips(CLIP_UIDS)
        assert [clip.start_step for clip in clips] == [0, 10, 20, 30, 40, 50]
        for clip in clips:
            assert (clip.num_steps, clip.seed, clip.episode, clip.policy) == (10, 0, 0, "random")
            assert clip.observations.shape == clip.states.shape == (11, 4)
            assert clip.observations.dtype == np.float32
            assert clip.frames is None
        assert clips[0].actions.tolist() == [1, 1, 1, 0, 0, 0, 0, 0, 0, 1]
        assert clips[0].true_rewards.tolist() == [1.0] * 10
        assert clips[2].true_rewards.tolist() == [0.0] * 10  # recorded after the pole fell
        queries = store.queries()
        assert [(q.id, q.left_uid, q.right_uid, q.round) for q in queries] == [
            (i + 1, left, right, 0) for i, (left, right) in enumerate(PAIRS)
        ]
        assert store.get_query(2) == queries[1]
        assert [q.id for q in store.pending_queries()] == [3]
        assert [q.id for q in store.pending_queries(annotator="bo")] == [1, 2, 3]
        answers = store.answers()
        assert [(a.id, a.query_id, a.choice, a.annotator, a.seconds) for a in answers] == [
            (1, 1, Choice.LEFT, "ana", 2.5),
            (2, 2, Choice.RIGHT, "ana", 1.25),
        ]
        assert [a.confidence for a in answers] == [None, None]  # not given before version 2
        assert store.latest_answers() == {1: answers[0], 2: answers[1]}
        labelled = store.labelled_pairs()
        assert [(pair.query_id, pair.left.uid, pair.right.uid) for pair, _ in labelled] == [
            (1, *PAIRS[0]),
            (2, *PAIRS[1]),
        ]
        assert [answer for _, answer in labelled] == [a.answer for a in answers]
        assert store.wait_for_answers([1, 2], timeout_s=0) == store.latest_answers()
    assert sorted(p.name for p in legacy.parent.iterdir()) == ["labels.sqlite"]


def test_legacy_store_takes_new_answers_claims_and_undo(legacy: Path) -> None:
    with LabelStore(legacy, create=False) as store:
        (claimed,) = store.claim_pending("window-1", limit=5)
        assert claimed.id == 3
        answer_id = store.add_answer(3, Answer(Choice.EQUAL, annotator="bo", seconds=4.0))
        assert answer_id == 3  # after the legacy rows (AUTOINCREMENT kept its counter)
        store.add_answer(1, Answer(Choice.RIGHT, annotator="ana", seconds=1.0))  # a change
        assert store.latest_answers()[1].choice == Choice.RIGHT
        assert store.undo_last_answer("ana").query_id == 1
        assert store.latest_answers()[1].choice == Choice.LEFT
        qid = store.add_query(CLIP_UIDS[0], CLIP_UIDS[3], round=1)
        assert qid == 4
        assert store.check() == []
    with LabelStore(legacy, create=False) as again:  # everything was committed
        assert again.counts() == {
            "queries": 4,
            "answered": 3,
            "answers": 3,
            "clips": 6,
            "pending": 1,
        }


def test_legacy_store_exports_and_imports_round_trip(legacy: Path, tmp_path: Path) -> None:
    with LabelStore(legacy, create=False) as store:
        assert export_store(store, tmp_path / "export") == {
            "clips": 6,
            "queries": 3,
            "answers": 2,
        }
        expected_pairs = store.labelled_pairs()
        expected_queries = [(q.left_uid, q.right_uid, q.round, q.created) for q in store.queries()]
        expected_clips = store.get_clips(CLIP_UIDS)
    export = tmp_path / "export"
    lines = (export / "answers.jsonl").read_text().splitlines()
    assert [json.loads(line)["uid"] for line in lines] == ANSWER_UIDS
    assert json.loads((export / "manifest.json").read_text())["meta"]["schema_version"] == 3
    assert [json.loads(line)["confidence"] for line in lines] == [None, None]
    with LabelStore(tmp_path / "new.sqlite") as target:
        assert import_store(target, export) == {"clips": 6, "queries": 3, "answers": 2}
        assert import_store(target, export) == {"clips": 0, "queries": 0, "answers": 0}
        assert [(q.left_uid, q.right_uid, q.round, q.created) for q in target.queries()] == (
            expected_queries
        )
        assert [a for _, a in target.labelled_pairs()] == [a for _, a in expected_pairs]
        for old, new in zip(expected_clips, target.get_clips(CLIP_UIDS), strict=True):
            assert new.provenance() == old.provenance()
            for name, array in old.arrays().items():
                np.testing.assert_array_equal(new.arrays()[name], array)
        export_store(target, tmp_path / "again")
    for name in ("clips.jsonl", "queries.jsonl", "answers.jsonl"):
        first = [json.loads(line) for line in (export / name).read_text().splitlines()]
        second = [json.loads(line) for line in (tmp_path / "again" / name).read_text().splitlines()]
        for record in first + second:
            record.pop("created" if name == "clips.jsonl" else "", None)  # when it arrived
        assert first == second
    for uid in CLIP_UIDS:
        with (
            np.load(export / "clips" / f"{uid}.npz") as first,
            np.load(tmp_path / "again" / "clips" / f"{uid}.npz") as second,
        ):
            assert sorted(first.files) == sorted(second.files)
            for name in first.files:
                np.testing.assert_array_equal(first[name], second[name])

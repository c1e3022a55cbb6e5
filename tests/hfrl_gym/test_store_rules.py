"""One set of rules for the store's API and import; an export never writes outside its folder."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from hfrl_gym.answers import Answer, Choice
from hfrl_gym.clips import Clip
from hfrl_gym.errors import StoreError
from hfrl_gym.store import LabelStore
from hfrl_gym.store_io import export_store, import_store
from tests.conftest import make_clip

EMPTY = {"queries": 0, "answered": 0, "answers": 0, "clips": 0, "pending": 0}


def _filled(path: Path, rng: np.random.Generator) -> LabelStore:
    store = LabelStore(path)
    uids = store.add_clips([make_clip(rng, num_steps=4) for _ in range(3)])
    (qid,) = store.add_queries([(uids[0], uids[1])])
    store.add_answer(qid, Answer(Choice.LEFT, annotator="ana", seconds=1.0))
    return store


def test_export_refuses_a_clip_uid_that_would_leave_its_folder(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    (tmp_path / "deep" / "er").mkdir(parents=True)
    path = tmp_path / "deep" / "er" / "s.sqlite"
    _filled(path, rng).close()
    with sqlite3.connect(path) as conn:  # a store not written by hfrl
        uid, provenance = conn.execute("SELECT uid, provenance FROM clips LIMIT 1").fetchone()
        evil = json.dumps({**json.loads(provenance), "uid": "../../../escaped"})
        conn.execute("UPDATE clips SET provenance = ? WHERE uid = ?", (evil, uid))
    with LabelStore(path) as store, pytest.raises(StoreError, match="not a safe file name"):
        export_store(store, tmp_path / "deep" / "er" / "export")
    assert not list(tmp_path.rglob("escaped*"))
    assert sorted(p.name for p in (tmp_path / "deep" / "er").iterdir())[0] == "s.sqlite"
    assert not (tmp_path / "deep" / "er" / "export").exists()


def _bad_clip(rng: np.random.Generator, **change: object) -> Clip:
    parts = {
        "env_id": "hfrl/CartPole-v0",
        "observations": np.zeros((5, 4), np.float32),
        "actions": np.zeros(4, np.int64),
        "true_rewards": np.ones(4),
        "states": np.zeros((5, 4)),
    }
    return Clip(**{**parts, **change})


BAD_CLIPS: dict[str, dict[str, object]] = {
    "observations of another shape": {"observations": np.zeros((5, 3), np.float32)},
    "observations of another rank": {"observations": np.zeros((5, 4, 1), np.float32)},
    "actions of another shape": {"actions": np.zeros((4, 3))},
    "snapshots of another size": {"states": np.zeros((5, 7))},
    "NaN in the observations": {"observations": np.full((5, 4), np.nan, np.float32)},
    "infinite actions": {"actions": np.full(4, np.inf)},
    "text observations": {"observations": np.full((5, 4), "x")},
}


@pytest.mark.parametrize("change", BAD_CLIPS.values(), ids=BAD_CLIPS.keys())
def test_the_api_and_import_refuse_the_same_clips(
    tmp_path: Path, rng: np.random.Generator, change: dict[str, object]
) -> None:
    clip = _bad_clip(rng, **change)
    with LabelStore(tmp_path / "api.sqlite") as store:
        with pytest.raises(StoreError, match=r"clip .* has"):
            store.add_clips([make_clip(rng), clip])
        assert store.counts() == EMPTY
        with pytest.raises(StoreError, match=r"clip .* has"):
            store.import_records([make_clip(rng), clip], [], [])
        assert store.counts() == EMPTY


def test_an_exported_clip_of_the_wrong_shape_is_refused_by_import(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    _filled(tmp_path / "a.sqlite", rng).close()
    with LabelStore(tmp_path / "a.sqlite") as store:
        export_store(store, tmp_path / "export")
    path = next((tmp_path / "export" / "clips").iterdir())
    with np.load(path) as npz:
        arrays = dict(npz)
    arrays["observations"] = arrays["observations"][:, :3]
    np.savez(path, **arrays)
    with LabelStore(tmp_path / "b.sqlite") as target:
        with pytest.raises(StoreError, match=r"observations of shape \(3,\) per step"):
            import_store(target, tmp_path / "export")
        assert target.counts() == EMPTY


def _edit_jsonl(name: str, key: str, value: object) -> Callable[[Path], None]:
    """Set ``key`` of the first record of ``name`` (``value`` "=left_uid": that field's)."""

    def edit(folder: Path) -> None:
        path = folder / name
        records = [json.loads(line) for line in path.read_text().splitlines()]
        records[0][key] = records[0]["left_uid"] if value == "=left_uid" else value
        path.write_text("".join(json.dumps(record) + "\n" for record in records))

    return edit


BAD_RECORDS = {
    "negative seconds": (_edit_jsonl("answers.jsonl", "seconds", -1.0), "seconds"),
    "huge seconds": (_edit_jsonl("answers.jsonl", "seconds", 1e309), "seconds"),
    "empty annotator": (_edit_jsonl("answers.jsonl", "annotator", ""), "annotator"),
    "blank annotator": (_edit_jsonl("answers.jsonl", "annotator", "  "), "annotator"),
    "control characters": (_edit_jsonl("answers.jsonl", "annotator", "a\nb"), "annotator"),
    "boolean seconds": (_edit_jsonl("answers.jsonl", "seconds", True), "seconds"),
    "negative round": (_edit_jsonl("queries.jsonl", "round", -2), "round"),
    "a clip with itself": (_edit_jsonl("queries.jsonl", "right_uid", "=left_uid"), "itself"),
}


@pytest.mark.parametrize(("damage", "word"), BAD_RECORDS.values(), ids=BAD_RECORDS.keys())
def test_import_refuses_answers_and_queries_the_api_refuses(
    tmp_path: Path, rng: np.random.Generator, damage: Callable[[Path], None], word: str
) -> None:
    with _filled(tmp_path / "a.sqlite", rng) as store:
        export_store(store, tmp_path / "export")
    damage(tmp_path / "export")
    with LabelStore(tmp_path / "b.sqlite") as target:
        with pytest.raises(StoreError, match=word):
            import_store(target, tmp_path / "export")
        assert target.counts() == EMPTY


@pytest.mark.parametrize(
    "answer",
    [
        Answer(Choice.LEFT, annotator="", seconds=1.0),
        Answer(Choice.LEFT, annotator=" ", seconds=1.0),
        Answer(Choice.LEFT, annotator="ana", seconds=-0.5),
        Answer(Choice.LEFT, annotator="ana", seconds=float("inf")),
        Answer(Choice.LEFT, annotator="ana", seconds=float("nan")),
    ],
)
def test_the_api_refuses_the_same_answers(
    tmp_path: Path, rng: np.random.Generator, answer: Answer
) -> None:
    with _filled(tmp_path / "a.sqlite", rng) as store:
        (query,) = store.queries()
        with pytest.raises(StoreError):
            store.add_answer(query.id, answer)
        assert len(store.answers()) == 1


def test_the_api_refuses_a_negative_round(tmp_path: Path, rng: np.random.Generator) -> None:
    with _filled(tmp_path / "a.sqlite", rng) as store:
        uids = store.clip_uids()
        with pytest.raises(StoreError, match="round"):
            store.add_queries([(uids[0], uids[2])], round=-1)
        assert len(store.queries()) == 1

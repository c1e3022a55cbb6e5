"""The store's code split by concept, and the public API that export and import use.

Three modules hold SQL: ``hfrl_gym/store_schema.py`` (the schema and its migrations),
``hfrl_gym/store_sqlite_claims.py`` (the leases' statements) and
``hfrl_gym/store_sqlite.py`` (every other statement);
``LabelStore`` holds its database instead of inheriting it; ``store_io`` uses only the public
API of ``LabelStore``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from hfrl_gym.answers import Answer, Choice
from hfrl_gym.clips import Clip
from hfrl_gym.errors import StoreError
from hfrl_gym.store import LabelStore
from hfrl_gym.store_leases import StoreLeases
from hfrl_gym.store_sqlite import StoreDatabase
from tests.conftest import make_clip

PACKAGE = Path(__file__).parents[2] / "hfrl_gym"
SQL_TEXT = re.compile(
    r"\b(SELECT|INSERT INTO|INSERT OR|DELETE FROM|UPDATE \w+ SET|CREATE (TABLE|INDEX)|PRAGMA|"
    r"BEGIN IMMEDIATE|COMMIT|ROLLBACK)\b"
)
SQL_CALLS = {"execute", "executemany", "executescript"}


def sql_in(source: str) -> list[str]:
    """Calls that run SQL, and string constants holding SQL (docstrings aside), by line."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        if call and node.func.attr in SQL_CALLS:
            found.append(f"line {node.lineno}: .{node.func.attr}(")
        text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if text and id(node) not in docstrings and SQL_TEXT.search(node.value):
            found.append(f"line {node.lineno}: {node.value[:60]!r}")
    return found


def test_only_store_sqlite_and_store_schema_hold_sql() -> None:
    assert sql_in('conn.execute(f"SELECT {COLS} FROM clips")') != []  # the check itself works
    found = {
        str(path.relative_to(PACKAGE)): sql_in(path.read_text("utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name not in ("store_sqlite.py", "store_sqlite_claims.py", "store_schema.py")
    }
    assert {name: lines for name, lines in found.items() if lines} == {}
    assert len(sql_in((PACKAGE / "store_sqlite.py").read_text("utf-8"))) > 20
    assert len(sql_in((PACKAGE / "store_schema.py").read_text("utf-8"))) > 5


def test_label_store_holds_its_database_and_store_io_uses_the_public_api(
    tmp_path: Path,
) -> None:
    assert LabelStore.__mro__ == (LabelStore, StoreLeases, object)  # holds, not is, its db
    with LabelStore(tmp_path / "labels.db") as store:
        assert isinstance(store._db, StoreDatabase)
        assert repr(store) == f"LabelStore({str(tmp_path / 'labels.db')!r})"
    source = (PACKAGE / "store_io.py").read_text("utf-8")
    assert re.findall(r"\bstore\._\w+", source) == []
    assert "store_sqlite import SCHEMA_VERSION\n" in source  # its only use of the SQL module


def filled(store: LabelStore, rng: np.random.Generator) -> list[str]:
    uids = store.add_clips([make_clip(rng, num_steps=4) for _ in range(4)])
    first, second = store.add_queries([(uids[0], uids[1]), (uids[2], uids[3])], round=2)
    store.add_answer(first, Answer(Choice.LEFT, annotator="ana", seconds=1.0))
    store.add_answer(second, Answer(Choice.SKIP, annotator="bo", seconds=0.5))
    store.set_meta("run", {"seed": 1})
    return uids


def test_records_name_everything_by_uid(tmp_path: Path, rng: np.random.Generator) -> None:
    with LabelStore(tmp_path / "labels.db") as store:
        uids = filled(store, rng)
        with store.snapshot():
            clips = list(store.clip_records())
            queries = store.query_records()
            answers = store.answer_records()
        assert [record["uid"] for record, _ in clips] == [clip.uid for _, clip in clips] == uids
        record, clip = clips[0]
        assert record == {**clip.provenance(), "created": record["created"]}
        assert [(q["left_uid"], q["right_uid"], q["round"], q["id"]) for q in queries] == [
            (uids[0], uids[1], 2, 1),
            (uids[2], uids[3], 2, 2),
        ]
        assert [(a["query_uid"], a["choice"], a["annotator"]) for a in answers] == [
            (queries[0]["uid"], "left", "ana"),
            (queries[1]["uid"], "skip", "bo"),
        ]
        assert store.all_meta() == {
            "app": "hfrl_gym.label_store",
            "schema_version": 3,
            "run": {"seed": 1},
        }
        with LabelStore(tmp_path / "copy.db") as copy:
            clip_list = [clip for _, clip in clips]
            assert copy.import_records(iter(clip_list), queries, answers) == {
                "clips": 4,
                "queries": 2,
                "answers": 2,
            }
            assert copy.import_records(clip_list, queries, answers) == dict.fromkeys(
                ("clips", "queries", "answers"), 0
            )
            assert [a.answer for a in copy.answers()] == [a.answer for a in store.answers()]


def test_snapshot_sees_one_state_while_others_write(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    with LabelStore(tmp_path / "labels.db") as store, LabelStore(store.path) as other:
        filled(store, rng)
        with store.snapshot():
            before = store.counts()
            other.add_answer(1, Answer(Choice.RIGHT, annotator="cy"))
            assert store.counts() == before
            assert len(store.answer_records()) == 2
        assert store.counts()["answers"] == 3


def test_import_records_stores_nothing_of_a_failed_call(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    with LabelStore(tmp_path / "a.db") as source:
        filled(source, rng)
        clips = [clip for _, clip in source.clip_records()]
        queries, answers = source.query_records(), source.answer_records()

    def failing() -> Iterator[Clip]:
        yield clips[0]
        raise StoreError("clip file gone")

    with LabelStore(tmp_path / "b.db") as target:
        with pytest.raises(StoreError, match="clip file gone"):
            target.import_records(failing(), queries, answers)
        with pytest.raises(StoreError, match=r"not in .*|two different"):
            target.import_records(clips[:3], queries, answers)
        orphan = [{**answers[0], "query_uid": "nope"}]
        with pytest.raises(StoreError, match="is to an unknown query"):
            target.import_records(clips, queries, orphan)
        assert target.counts() == dict.fromkeys(
            ("queries", "answered", "answers", "clips", "pending"), 0
        )

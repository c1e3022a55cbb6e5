"""Export and import of a label store: round trip, idempotence, merging, refusals."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from hfrl_gym import __version__
from hfrl_gym.answers import Answer, Choice
from hfrl_gym.clips import Clip
from hfrl_gym.errors import StoreError
from hfrl_gym.store import LabelStore
from hfrl_gym.store_io import FORMAT_VERSION, export_store, import_store
from tests.conftest import make_clip


def filled_store(path: Path, rng: np.random.Generator) -> LabelStore:
    """A store with two envs, two rounds, two annotators, a changed answer and a skip."""
    store = LabelStore(path)
    cart = store.add_clips([make_clip(rng, num_steps=6) for _ in range(4)])
    framed = Clip(
        env_id="hfrl/Custom-v0",
        observations=rng.normal(size=(4, 2)),
        actions=rng.integers(0, 3, size=3),
        true_rewards=rng.normal(size=3),
        frames=rng.integers(0, 256, size=(4, 5, 6, 3), dtype=np.uint8),
        seed=5,
    )
    other = make_clip(rng, num_steps=3, env_id="hfrl/Custom-v0", obs_dim=2)
    store.add_clips([framed, other])
    ids = store.add_queries([(cart[0], cart[1]), (cart[2], cart[3])], round=0)
    ids.append(store.add_query(framed.uid, other.uid, round=1))
    store.add_answer(ids[0], Answer(Choice.LEFT, annotator="ana", seconds=3.0))
    store.add_answer(ids[0], Answer(Choice.RIGHT, annotator="ana", seconds=1.0))
    store.add_answer(ids[0], Answer(Choice.EQUAL, annotator="bo", seconds=2.0))
    store.add_answer(ids[2], Answer(Choice.SKIP, annotator="bo", seconds=0.5))
    store.set_meta("run", {"seed": 3})
    return store


def content(store: LabelStore) -> dict[str, list]:
    """Everything a store holds, without its store-local row ids."""
    queries = {q.id: (q.left_uid, q.right_uid, q.round, q.created) for q in store.queries()}
    answers = [
        (queries[r.query_id], r.choice, r.annotator, r.seconds, r.created) for r in store.answers()
    ]
    clips = [
        (clip.provenance(), {name: a.tolist() for name, a in clip.arrays().items()})
        for clip in store.get_clips(store.clip_uids())
    ]
    return {"queries": sorted(queries.values()), "answers": answers, "clips": clips}


def test_round_trip_restores_everything(tmp_path: Path, rng: np.random.Generator) -> None:
    with filled_store(tmp_path / "a.db", rng) as source:
        written = export_store(source, tmp_path / "export")
        expected = content(source)
        expected_pairs = [(p.query_id, a) for p, a in source.labelled_pairs()]
    assert written == {"clips": 6, "queries": 3, "answers": 4}
    manifest = json.loads((tmp_path / "export" / "manifest.json").read_text())
    assert manifest["format"] == "hfrl-label-store"
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["hfrl_version"] == __version__
    assert manifest["counts"] == written
    assert manifest["meta"]["run"] == {"seed": 3}
    assert len(list((tmp_path / "export" / "clips").glob("*.npz"))) == 6
    with LabelStore(tmp_path / "b.db") as target:
        assert import_store(target, tmp_path / "export") == written
        assert content(target) == expected
        assert [a for _, a in target.labelled_pairs()] == [a for _, a in expected_pairs]
        assert import_store(target, tmp_path / "export") == {"clips": 0, "queries": 0, "answers": 0}
        assert content(target) == expected
        assert target.check() == []


def test_import_merges_only_what_is_new(tmp_path: Path, rng: np.random.Generator) -> None:
    with filled_store(tmp_path / "a.db", rng) as source:
        export_store(source, tmp_path / "first")
        with LabelStore(tmp_path / "b.db") as copy:
            import_store(copy, tmp_path / "first")
            (pending,) = copy.pending_queries()
            copy.add_answer(pending.id, Answer(Choice.LEFT, annotator="cy"))
            export_store(copy, tmp_path / "second")
        assert import_store(source, tmp_path / "second") == {
            "clips": 0,
            "queries": 0,
            "answers": 1,
        }
        assert source.counts()["pending"] == 0
        assert source.latest_answers(annotator="cy")[pending.id].choice == Choice.LEFT


def rewrite_manifest(folder: Path, **changes: object) -> None:
    path = folder / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: rewrite_manifest(f, format_version=99), r"format_version 99.*upgrade"),
        (lambda f: rewrite_manifest(f, format="zip"), "not an hfrl store export"),
        (lambda f: (f / "manifest.json").unlink(), r"no manifest\.json"),
        (lambda f: next((f / "clips").iterdir()).unlink(), r"clip file .* is unusable"),
        (lambda f: rewrite_manifest(f, counts={"clips": 6, "queries": 3, "answers": 5}), "has 4"),
        (
            lambda f: (f / "answers.jsonl").write_text(
                (f / "answers.jsonl").read_text().replace('"skip"', '"maybe"')
            ),
            "a choice not in",
        ),
        (
            lambda f: (f / "queries.jsonl").write_text(
                (f / "queries.jsonl").read_text().replace('"round": 1', '"round": "one"')
            ),
            r"line 3: \['round'\] missing or mistyped",
        ),
    ],
)
def test_bad_exports_are_refused_and_store_nothing(
    tmp_path: Path, rng: np.random.Generator, damage: Callable[[Path], object], message: str
) -> None:
    with filled_store(tmp_path / "a.db", rng) as source:
        export_store(source, tmp_path / "export")
    damage(tmp_path / "export")
    with LabelStore(tmp_path / "b.db") as target:
        with pytest.raises(StoreError, match=message):
            import_store(target, tmp_path / "export")
        assert target.counts() == {
            "queries": 0,
            "answered": 0,
            "answers": 0,
            "clips": 0,
            "pending": 0,
        }


def test_export_refuses_a_used_folder(tmp_path: Path, rng: np.random.Generator) -> None:
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "notes.txt").write_text("mine")
    with filled_store(tmp_path / "a.db", rng) as store:
        with pytest.raises(StoreError, match="not empty"):
            export_store(store, tmp_path / "export")
        export_store(store, tmp_path / "empty")  # a new folder is fine
    assert [p.name for p in (tmp_path / "export").iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.db", "empty", "export"]

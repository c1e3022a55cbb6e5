"""LabelStore: opening and refusing files, clips, queries, answers, claims, waiting."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from hfrl_gym.answers import Answer, Choice
from hfrl_gym.clips import Clip
from hfrl_gym.errors import ClipShapeError, StoreError
from hfrl_gym.store import LabelStore, Query
from hfrl_gym.store_sqlite import APPLICATION_ID, SCHEMA_VERSION
from tests.conftest import make_clip


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LabelStore]:
    with LabelStore(tmp_path / "labels.db") as opened:
        yield opened


def posted(store: LabelStore, rng: np.random.Generator, num_queries: int) -> list[int]:
    """Post ``num_queries`` queries on fresh clips; returns their ids."""
    uids = store.add_clips([make_clip(rng) for _ in range(2 * num_queries)])
    return store.add_queries(list(zip(uids[::2], uids[1::2], strict=True)))


def side_files(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name)


# -- opening, and refusing what is not a store ------------------------------------------------


def test_new_store_is_wal_sqlite_with_marker_and_version(tmp_path: Path) -> None:
    path = tmp_path / "labels.db"
    LabelStore(path).close()
    assert side_files(path) == []  # created atomically, nothing left beside it
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    assert meta["schema_version"] == str(SCHEMA_VERSION) == "3"
    conn.close()
    with LabelStore(path, create=False) as again:
        assert again.get_meta("schema_version") == SCHEMA_VERSION
        assert again.check() == []


def test_missing_file_without_create_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nope.db"
    with pytest.raises(StoreError, match=r"does not exist; check the path \(`hfrl record"):
        LabelStore(path, create=False)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(StoreError, match=r"folder .* does not exist"):
        LabelStore(tmp_path / "missing" / "labels.db")


def _text_file(path: Path, rng: np.random.Generator) -> None:
    path.write_text("these are my notes, not a database\n" * 20)


def _empty_file(path: Path, rng: np.random.Generator) -> None:
    path.write_bytes(b"")


def _foreign_sqlite(path: Path, rng: np.random.Generator) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.commit()
    conn.close()


FileMaker = Callable[[Path, np.random.Generator], None]


def _sqlite_with_our_id(path: Path, rng: np.random.Generator) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.commit()
    conn.close()


def _store_then(damage: str) -> FileMaker:
    def make(path: Path, rng: np.random.Generator) -> None:
        with LabelStore(path) as store:
            posted(store, rng, 3)
        data = bytearray(path.read_bytes())
        if damage == "magic":
            data[0:16] = rng.integers(0, 256, 16, dtype=np.uint8).tobytes()
        elif damage == "page_size":
            data[16:18] = b"\x03\x00"  # 768: not a power of two
        elif damage == "application_id":
            data[68:72] = rng.integers(0, 256, 4, dtype=np.uint8).tobytes()
        else:  # appended
            data += rng.integers(0, 256, 1000, dtype=np.uint8).tobytes()
        path.write_bytes(bytes(data))

    return make


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_text_file, r"not an hfrl label store \(not SQLite\)"),
        (_empty_file, r"not an hfrl label store \(an empty file\)"),
        (_foreign_sqlite, r"not an hfrl label store \(an SQLite database of another"),
        (_sqlite_with_our_id, r"not an hfrl label store \(no hfrl meta\)"),
        (_store_then("magic"), r"not an hfrl label store \(not SQLite\)"),
        (_store_then("application_id"), "another application"),
        (_store_then("page_size"), r"is corrupt \(page size 768"),
        (_store_then("appended"), r"is corrupt \(it has .* bytes, its header says"),
    ],
)
def test_bad_files_are_refused_and_left_byte_identical(
    tmp_path: Path, rng: np.random.Generator, make: FileMaker, message: str
) -> None:
    path = tmp_path / "labels.db"
    make(path, rng)
    before = path.read_bytes()
    for create in (True, False):
        with pytest.raises(StoreError, match=message) as caught:
            LabelStore(path, create=create)
        assert "pass a path to a store made by hfrl" in str(caught.value) or (
            "restore it from a backup" in str(caught.value)
        )
    assert path.read_bytes() == before
    assert side_files(path) == []  # SQLite never opened it: no -wal or -shm beside it


def test_newer_schema_is_refused_with_upgrade_hint(tmp_path: Path) -> None:
    path = tmp_path / "labels.db"
    LabelStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"schema_version 4, newer .* \(3\); upgrade hfrl_gym"):
        LabelStore(path)
    assert path.read_bytes() == before


def test_closed_store_refuses_calls(tmp_path: Path) -> None:
    store = LabelStore(tmp_path / "labels.db")
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match="is closed"):
        store.num_clips()


# -- clips -----------------------------------------------------------------------------------


def test_clips_round_trip_with_dtypes_and_provenance(
    store: LabelStore, rng: np.random.Generator
) -> None:
    with_states = make_clip(rng, num_steps=7)
    with_frames = Clip(
        env_id="hfrl/Custom-v0",  # the store does not validate env ids: callers do
        observations=rng.normal(size=(4, 3, 2)),
        actions=rng.normal(size=(3, 2)).astype(np.float32),
        true_rewards=rng.normal(size=3),
        frames=rng.integers(0, 256, size=(4, 6, 5, 3), dtype=np.uint8),
        seed=np.int64(12),
        episode=3,
        start_step=40,
        policy="ppo-round-2",
    )
    assert store.add_clips([with_states, with_frames]) == [with_states.uid, with_frames.uid]
    for clip in (with_states, with_frames):
        again = store.get_clip(clip.uid)
        assert again.provenance() == {**clip.provenance(), "seed": clip.seed}
        assert set(again.arrays()) == set(clip.arrays())
        for name, array in clip.arrays().items():
            stored = getattr(again, name)
            assert stored.dtype == array.dtype
            np.testing.assert_array_equal(stored, array)
    assert store.get_clip(with_frames.uid).states is None
    assert store.get_clip(with_frames.uid).seed == 12


def test_add_clip_is_idempotent_and_uid_conflicts_are_refused(
    store: LabelStore, rng: np.random.Generator
) -> None:
    clip = make_clip(rng)
    assert store.add_clip(clip) == store.add_clip(clip) == clip.uid
    assert store.num_clips() == 1
    impostor = make_clip(rng, num_steps=5)
    impostor = Clip.from_parts({**impostor.provenance(), "uid": clip.uid}, impostor.arrays())
    fresh = make_clip(rng)
    with pytest.raises(StoreError, match=r"already stored .* new uid"):
        store.add_clips([fresh, impostor])
    assert store.clip_uids() == [clip.uid]  # the whole call was refused
    twice = make_clip(rng)
    assert store.add_clips([twice, twice]) == [twice.uid, twice.uid]  # repeated in one call
    assert store.clip_uids() == [clip.uid, twice.uid]
    newcomer = make_clip(rng)
    clash = Clip.from_parts({**impostor.provenance(), "uid": newcomer.uid}, impostor.arrays())
    with pytest.raises(StoreError, match=r"already stored .* new uid"):
        store.add_clips([newcomer, clash])  # a clash within one call is refused too
    assert store.num_clips() == 2


def test_clip_queries_by_uid_and_env(store: LabelStore, rng: np.random.Generator) -> None:
    cart = [make_clip(rng) for _ in range(3)]
    pend = [make_clip(rng, env_id="hfrl/Pendulum-v0", obs_dim=3) for _ in range(2)]
    store.add_clips([cart[0], pend[0], cart[1], pend[1], cart[2]])
    assert store.clip_uids("hfrl/Pendulum-v0") == [clip.uid for clip in pend]
    assert store.clip_uids("hfrl/CartPole-v0") == [clip.uid for clip in cart]
    assert len(store.clip_uids()) == store.num_clips() == 5
    order = [pend[1].uid, cart[0].uid, pend[1].uid]
    assert [clip.uid for clip in store.get_clips(order)] == order
    with pytest.raises(StoreError, match="unknown clip uid"):
        store.get_clip("0123abcd")


def test_bad_clips_are_refused_before_storing(store: LabelStore, rng: np.random.Generator) -> None:
    parts = make_clip(rng, num_steps=6).arrays()
    parts["actions"] = np.zeros(5)
    with pytest.raises(ClipShapeError):  # the Clip itself refuses inconsistent shapes
        Clip(env_id="hfrl/CartPole-v0", **parts)
    clip = make_clip(rng)
    objects = Clip(
        **{**clip.arrays(), "observations": clip.observations.astype(object)}, env_id=clip.env_id
    )
    with pytest.raises(StoreError, match="cannot be stored"):
        store.add_clips([make_clip(rng), objects])
    unsafe = Clip.from_parts({**clip.provenance(), "uid": "../x"}, clip.arrays())
    with pytest.raises(StoreError, match=r"uid '\.\./x'"):
        store.add_clip(unsafe)
    assert store.num_clips() == 0


# -- queries ---------------------------------------------------------------------------------


def test_queries_are_posted_in_order_with_rounds(
    store: LabelStore, rng: np.random.Generator
) -> None:
    uids = store.add_clips([make_clip(rng) for _ in range(4)])
    first = store.add_queries([(uids[0], uids[1]), (uids[2], uids[3])], round=0)
    second = store.add_query(uids[1], uids[2], round=1)
    assert first[0] < first[1] < second
    assert [q.id for q in store.queries(round=0)] == first
    assert [q.id for q in store.queries()] == [*first, second]
    query = store.get_query(second)
    assert (query.left_uid, query.right_uid, query.round) == (uids[1], uids[2], 1)
    pair = store.pair(second)
    assert (pair.left.uid, pair.right.uid, pair.query_id) == (uids[1], uids[2], second)
    assert store.pair(query).query_id == second
    with pytest.raises(StoreError, match="no query 999"):
        store.get_query(999)


def test_bad_pairs_store_nothing_of_the_call(store: LabelStore, rng: np.random.Generator) -> None:
    cart = store.add_clips([make_clip(rng) for _ in range(2)])
    pend = store.add_clip(make_clip(rng, env_id="hfrl/Pendulum-v0", obs_dim=3))
    good = (cart[0], cart[1])
    for bad, message in [
        ((cart[0], "f00d"), "not in .* add the clips first"),
        ((cart[0], pend), "two different clips of one env"),
        ((cart[0], cart[0]), "two different clips"),
    ]:
        with pytest.raises(StoreError, match=message):
            store.add_queries([good, bad])
    assert store.queries() == []


def test_pending_queries_by_annotator_limit_and_ids(
    store: LabelStore, rng: np.random.Generator
) -> None:
    ids = posted(store, rng, 5)
    store.add_answer(ids[1], Answer(Choice.LEFT, annotator="ana"))
    store.add_answer(ids[3], Answer(Choice.SKIP, annotator="bo"))
    assert [q.id for q in store.pending_queries()] == [ids[0], ids[2], ids[4]]
    assert [q.id for q in store.pending_queries(annotator="ana")] == [ids[0], *ids[2:]]
    assert [q.id for q in store.pending_queries(annotator="cy")] == ids
    assert [q.id for q in store.pending_queries(limit=2)] == [ids[0], ids[2]]
    assert [q.id for q in store.pending_queries(query_ids=[ids[4], ids[1]])] == [ids[4]]
    assert all(isinstance(q, Query) for q in store.pending_queries())


def test_claims_split_work_between_answerers(store: LabelStore, rng: np.random.Generator) -> None:
    ids = posted(store, rng, 5)
    first = store.claim_pending("window-1", limit=2)
    second = store.claim_pending("window-2", limit=2)
    assert [q.id for q in first] == ids[:2]
    assert [q.id for q in second] == ids[2:4]
    assert [q.id for q in store.claim_pending("window-1", limit=3)] == [*ids[:2], ids[4]]
    store.add_answer(ids[0], Answer(Choice.RIGHT, annotator="ana"))
    assert [q.id for q in store.claim_pending("window-1", limit=5)] == [ids[1], ids[4]]
    assert store.claim_pending("window-3", limit=5) == []
    assert store.claim_pending("window-4", limit=5) == []
    store.claim_pending("window-2", limit=5, lease_s=-1.0)  # window-2's claims lapse at once
    assert [q.id for q in store.claim_pending("window-3", limit=5)] == ids[2:4]


# -- answers ---------------------------------------------------------------------------------


def test_answers_are_appended_and_latest_wins(store: LabelStore, rng: np.random.Generator) -> None:
    ids = posted(store, rng, 2)
    first = store.add_answer(ids[0], Answer(Choice.LEFT, annotator="ana", seconds=2.5))
    changed = store.add_answer(ids[0], Answer(Choice.RIGHT, annotator="ana", seconds=1.0))
    other = store.add_answer(ids[0], Answer(Choice.EQUAL, annotator="bo"))
    assert first < changed < other
    history = store.answers(query_id=ids[0], annotator="ana")
    assert [(r.id, r.choice, r.seconds) for r in history] == [
        (first, Choice.LEFT, 2.5),
        (changed, Choice.RIGHT, 1.0),
    ]
    assert store.latest_answers(annotator="ana")[ids[0]].id == changed
    assert store.latest_answers()[ids[0]].id == other
    assert ids[1] not in store.latest_answers()
    assert store.counts() == {"queries": 2, "answered": 1, "pending": 1, "answers": 3, "clips": 4}


def test_bad_answers_are_refused(store: LabelStore, rng: np.random.Generator) -> None:
    (qid,) = posted(store, rng, 1)
    with pytest.raises(StoreError, match="no query 77"):
        store.add_answer(77, Answer(Choice.LEFT, annotator="ana"))
    bad_answers = {
        "annotator's name": Answer(Choice.LEFT, annotator=""),
        "seconds must be a finite number >= 0": Answer(Choice.LEFT, seconds=-1.0),
        "takes an Answer": "left",
    }
    for message, bad in bad_answers.items():
        with pytest.raises(StoreError, match=message):
            store.add_answer(qid, bad)
    assert store.answers() == []


def test_undo_deletes_the_annotators_last_answer(
    store: LabelStore, rng: np.random.Generator
) -> None:
    ids = posted(store, rng, 2)
    store.add_answer(ids[0], Answer(Choice.LEFT, annotator="ana"))
    store.add_answer(ids[1], Answer(Choice.RIGHT, annotator="ana"))
    kept = store.add_answer(ids[1], Answer(Choice.SKIP, annotator="bo"))
    undone = store.undo_last_answer("ana")
    assert undone is not None
    assert (undone.query_id, undone.choice, undone.annotator) == (ids[1], Choice.RIGHT, "ana")
    assert [r.query_id for r in store.answers(annotator="ana")] == [ids[0]]
    assert [r.id for r in store.answers(annotator="bo")] == [kept]
    assert store.undo_last_answer("ana").query_id == ids[0]
    assert store.undo_last_answer("ana") is None


def test_labelled_pairs_give_each_annotators_latest_answer(
    store: LabelStore, rng: np.random.Generator
) -> None:
    ids = posted(store, rng, 3)
    store.add_answer(ids[0], Answer(Choice.LEFT, annotator="ana"))
    store.add_answer(ids[0], Answer(Choice.EQUAL, annotator="ana"))  # changed: this one counts
    store.add_answer(ids[0], Answer(Choice.RIGHT, annotator="bo"))
    store.add_answer(ids[2], Answer(Choice.SKIP, annotator="ana"))
    labelled = store.labelled_pairs()
    got = [(pair.query_id, answer.annotator, answer.target) for pair, answer in labelled]
    assert got == [(ids[0], "ana", 0.5), (ids[0], "bo", 0.0), (ids[2], "ana", None)]
    query = store.get_query(ids[2])
    pair = labelled[2][0]
    assert (pair.left.uid, pair.right.uid) == (query.left_uid, query.right_uid)
    assert [p.query_id for p, _ in store.labelled_pairs(query_ids=[ids[2], ids[1]])] == [ids[2]]


def test_meta_values_round_trip_and_reserved_keys_are_kept(store: LabelStore) -> None:
    store.set_meta("config", {"env_id": "hfrl/CartPole-v0", "num_labels": np.int64(40)})
    assert store.get_meta("config") == {"env_id": "hfrl/CartPole-v0", "num_labels": 40}
    assert store.get_meta("absent", default=3) == 3
    with pytest.raises(StoreError, match="reserved"):
        store.set_meta("schema_version", 9)
    with pytest.raises(StoreError, match="JSON"):
        store.set_meta("bad", object())
    assert store.get_meta("schema_version") == SCHEMA_VERSION


# -- waiting, threads ------------------------------------------------------------------------


def test_wait_for_answers_returns_when_all_are_answered(
    store: LabelStore, rng: np.random.Generator
) -> None:
    ids = posted(store, rng, 3)
    progress: list[tuple[int, int]] = []

    def answer_later() -> None:
        for qid in ids:
            time.sleep(0.05)
            store.add_answer(qid, Answer(Choice.LEFT, annotator="thread"))

    worker = threading.Thread(target=answer_later)
    worker.start()
    got = store.wait_for_answers(
        ids, timeout_s=30.0, poll_s=0.01, progress=lambda *p: progress.append(p)
    )
    worker.join()
    assert sorted(got) == ids
    assert all(record.annotator == "thread" for record in got.values())
    assert progress[0][1] == 3
    assert progress[-1] == (3, 3)
    assert [done for done, _ in progress] == sorted({done for done, _ in progress})


def test_wait_for_answers_times_out_with_what_it_has(
    store: LabelStore, rng: np.random.Generator
) -> None:
    ids = posted(store, rng, 2)
    store.add_answer(ids[1], Answer(Choice.RIGHT, annotator="ana"))
    assert list(store.wait_for_answers(ids, timeout_s=0.05, poll_s=0.01)) == [ids[1]]
    assert store.wait_for_answers([], timeout_s=None) == {}
    with pytest.raises(StoreError, match=r"unknown queries \[99\]"):
        store.wait_for_answers([ids[0], 99], timeout_s=None)


def test_one_store_shared_by_threads_loses_nothing(
    store: LabelStore, rng: np.random.Generator
) -> None:
    ids = posted(store, rng, 20)
    errors: list[BaseException] = []

    def answer_all(name: str) -> None:
        try:
            for qid in ids:
                store.add_answer(qid, Answer(Choice.LEFT, annotator=name))
                store.pending_queries(annotator=name, limit=1)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=answer_all, args=(f"t{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    answers = store.answers()
    assert len(answers) == 80
    assert len({(r.query_id, r.annotator) for r in answers}) == 80


def test_damaged_clip_bytes_raise_store_error(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "labels.db"
    with LabelStore(path) as store:
        uid = store.add_clip(make_clip(rng))
    conn = sqlite3.connect(path)
    blob = bytearray(conn.execute("SELECT observations FROM clips").fetchone()[0])
    blob[10:40] = b"garbage" * 4 + b"!!"  # the .npy header
    conn.execute("UPDATE clips SET observations = ?", [bytes(blob)])
    conn.commit()
    conn.close()
    with LabelStore(path) as store, pytest.raises(StoreError, match=f"clip {uid} is damaged"):
        store.get_clip(uid)


def test_a_claimants_own_claims_come_first_so_a_shown_pair_never_lapses(
    store: LabelStore, rng: np.random.Generator
) -> None:
    ids = posted(store, rng, 2)
    store.claim_pending("other", limit=1)  # holds the first query
    assert [q.id for q in store.claim_pending("window", limit=1)] == [ids[1]]  # on screen
    store.claim_pending("other", limit=1, lease_s=-1.0)  # the other's claim lapses
    # Renewing with room for one, the window keeps its pair instead of the lower, free id.
    assert [q.id for q in store.claim_pending("window", limit=1)] == [ids[1]]
    assert [q.id for q in store.claim_pending("third", limit=2)] == [ids[0]]


def test_a_persons_new_window_takes_over_the_claims_of_one_that_crashed(
    store: LabelStore, rng: np.random.Generator
) -> None:
    ids = posted(store, rng, 3)
    store.claim_pending("ana#old", limit=1, lease_s=60.0)  # then the window is killed
    # Renewed just now: a second window of the same person does not take it ...
    got = store.claim_pending("ana#new", limit=1, lease_s=60.0, adopt="ana#", adopt_after_s=3)
    assert [q.id for q in got] == [ids[1]]
    # ... but once it has gone unrenewed for longer than adopt_after_s, it does.
    got = store.claim_pending("ana#new", limit=2, lease_s=60.0, adopt="ana#", adopt_after_s=-1)
    assert [q.id for q in got] == [ids[0], ids[1]]
    # Another person's claims are never taken over, however old.
    assert [q.id for q in store.claim_pending("bo#1", limit=3, lease_s=60.0)] == [ids[2]]
    got = store.claim_pending("ana#x", limit=3, adopt="ana#", adopt_after_s=-1)
    assert [q.id for q in got] == ids[:2]

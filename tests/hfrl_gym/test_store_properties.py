"""Property tests (hypothesis) of the store API and the export/import format.

Random stores survive an export and import unchanged; a randomly corrupted export is either
imported whole and by the rules, or refused with a ``StoreError`` that stores nothing; the
store API accepts exactly the answers and queries its rules allow.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hfrl_gym.answers import Answer, Choice
from hfrl_gym.clips import Clip
from hfrl_gym.errors import StoreError
from hfrl_gym.store import LabelStore
from hfrl_gym.store_io import export_store, import_store
from hfrl_gym.store_rules import MAX_ANNOTATOR_CHARS

FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHOICES = st.sampled_from(list(Choice))
NAMES = st.text(min_size=1, max_size=12).filter(lambda s: s.strip() and s.isprintable())


@contextmanager
def folder() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="hfrl-prop-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _clip(seed: int, num_steps: int) -> Clip:
    rng = np.random.default_rng(seed)
    return Clip(
        env_id="hfrl/CartPole-v0",
        observations=rng.normal(size=(num_steps + 1, 4)).astype(np.float32),
        actions=rng.integers(0, 2, size=num_steps),
        true_rewards=rng.normal(size=num_steps),
        states=rng.normal(size=(num_steps + 1, 4)),
        seed=seed,
        policy="random",
    )


@st.composite
def stores(draw: st.DrawFn) -> dict:
    """A store's content: clips (by seed and length), queries and their answers."""
    num_clips = draw(st.integers(2, 5))
    clips = [(draw(st.integers(0, 10**6)), draw(st.integers(1, 8))) for _ in range(num_clips)]
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, num_clips - 1), st.integers(0, num_clips - 1)).filter(
                lambda p: p[0] != p[1]
            ),
            max_size=6,
        )
    )
    rounds = draw(st.lists(st.integers(0, 5), min_size=len(pairs), max_size=len(pairs)))
    answers = draw(
        st.lists(
            st.tuples(
                st.integers(0, max(len(pairs) - 1, 0)),
                CHOICES,
                NAMES,
                st.floats(0, 1e6, allow_nan=False),
            ),
            max_size=8 if pairs else 0,
        )
    )
    return {"clips": clips, "pairs": pairs, "rounds": rounds, "answers": answers}


def _fill(path: Path, content: dict) -> LabelStore:
    store = LabelStore(path)
    uids = store.add_clips([_clip(seed, steps) for seed, steps in content["clips"]])
    ids = [
        store.add_query(uids[i], uids[j], round=r)
        for (i, j), r in zip(content["pairs"], content["rounds"], strict=True)
    ]
    for index, choice, annotator, seconds in content["answers"]:
        store.add_answer(ids[index], Answer(choice, annotator=annotator, seconds=seconds))
    return store


def _content(store: LabelStore) -> dict:
    queries = {q.id: (q.left_uid, q.right_uid, q.round, q.created) for q in store.queries()}
    answers = [
        (queries[a.query_id], a.choice, a.annotator, a.seconds, a.created) for a in store.answers()
    ]
    clips = {
        clip.uid: {name: array.tolist() for name, array in clip.arrays().items()}
        for clip in store.get_clips(store.clip_uids())
    }
    return {"queries": sorted(queries.values()), "answers": answers, "clips": clips}


@FAST
@given(content=stores())
def test_any_store_survives_export_and_import(content: dict) -> None:
    with folder() as tmp:
        with _fill(tmp / "a.sqlite", content) as source:
            export_store(source, tmp / "export")
            expected = _content(source)
        with LabelStore(tmp / "b.sqlite") as target:
            import_store(target, tmp / "export")
            assert _content(target) == expected
            again = import_store(target, tmp / "export")
            assert again == {"clips": 0, "queries": 0, "answers": 0}
            assert target.check() == []


# -- a corrupted export ------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**400), 10**400)
    | st.floats()
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=5,
)
JSONL_FILES = ("clips.jsonl", "queries.jsonl", "answers.jsonl")
KEYS = ("uid", "env_id", "left_uid", "right_uid", "round", "created", "query_uid", "choice")
KEYS += ("annotator", "seconds", "arrays", "episode", "seed", "num_steps")


@st.composite
def corruptions(draw: st.DrawFn) -> tuple:
    kind = draw(st.sampled_from(["value", "bytes", "cut", "manifest"]))
    if kind == "value":
        return (
            kind,
            draw(st.sampled_from(JSONL_FILES)),
            draw(st.sampled_from(KEYS)),
            draw(JSON_VALUES),
        )
    if kind == "manifest":
        key = draw(st.sampled_from(["format", "format_version", "counts", "meta"]))
        return kind, "manifest.json", key, draw(JSON_VALUES)
    return kind, draw(st.integers(0, 10**6)), draw(st.integers(0, 255)), None


def _corrupt(export: Path, corruption: tuple) -> None:
    kind, where, what, value = corruption
    if kind in ("value", "manifest"):
        path = export / where
        lines = path.read_text().splitlines()
        if not lines:
            return
        records = (
            [json.loads(line) for line in lines]
            if kind == "value"
            else [json.loads(path.read_text())]
        )
        records[0][what] = value
        text = "\n".join(json.dumps(r) for r in records) + "\n"
        path.write_text(text)
        return
    files = sorted(p for p in export.rglob("*") if p.is_file())
    path = files[where % len(files)]
    data = bytearray(path.read_bytes())
    if not data:
        return
    if kind == "bytes":
        data[what * 7919 % len(data)] ^= what or 1
        path.write_bytes(bytes(data))
    else:
        path.write_bytes(bytes(data[: what * len(data) // 256]))


@FAST
@given(corruption=corruptions())
@example(corruption=("value", "answers.jsonl", "created", 10**400))
@example(corruption=("value", "queries.jsonl", "round", 2**70))
@example(corruption=("value", "answers.jsonl", "seconds", -(10**400)))
def test_a_corrupted_export_is_imported_by_the_rules_or_refused_whole(corruption: tuple) -> None:
    content = {
        "clips": [(1, 4), (2, 4), (3, 5)],
        "pairs": [(0, 1), (1, 2)],
        "rounds": [0, 1],
        "answers": [(0, Choice.LEFT, "ana", 1.5), (1, Choice.SKIP, "bo", 0.2)],
    }
    with folder() as tmp:
        with _fill(tmp / "a.sqlite", content) as source:
            export_store(source, tmp / "export")
        _corrupt(tmp / "export", corruption)
        with _fill(tmp / "b.sqlite", {**content, "answers": []}) as target:
            before = _content(target)
            try:
                import_store(target, tmp / "export")
            except StoreError as error:
                refusal = str(error)
            else:
                refusal = None
            if refusal is not None:
                assert "\n" not in refusal
                assert _content(target) == before
                return
            assert target.check() == []
            for answer in target.answers():
                assert answer.annotator.strip()
                assert answer.annotator.isprintable()
                assert len(answer.annotator) <= MAX_ANNOTATOR_CHARS
                assert math.isfinite(answer.seconds)
                assert answer.seconds >= 0
            for query in target.queries():
                assert query.round >= 0
                assert query.left_uid != query.right_uid
                target.pair(query)  # both clips are there and readable


# -- the store API -------------------------------------------------------------------------------

SECONDS = st.floats() | st.integers(-5, 5)
ANNOTATORS = st.text(max_size=MAX_ANNOTATOR_CHARS + 5)


@FAST
@given(
    answers=st.lists(st.tuples(CHOICES, ANNOTATORS, SECONDS), min_size=1, max_size=6),
    rounds=st.lists(st.integers(-3, 3), min_size=1, max_size=3),
)
def test_the_api_takes_exactly_what_its_rules_allow(
    answers: list[tuple[Choice, str, float]], rounds: list[int]
) -> None:
    with folder() as tmp, LabelStore(tmp / "s.sqlite") as store:
        uids = store.add_clips([_clip(seed, 3) for seed in range(3)])
        posted = []
        for round_index in rounds:
            try:
                posted.append(store.add_query(uids[0], uids[1], round=round_index))
            except StoreError:
                assert round_index < 0
            else:
                assert round_index >= 0
        if not posted:
            return
        kept = 0
        for choice, annotator, seconds in answers:
            valid = (
                bool(annotator.strip())
                and annotator.isprintable()
                and len(annotator) <= MAX_ANNOTATOR_CHARS
                and math.isfinite(seconds)
                and seconds >= 0
            )
            try:
                store.add_answer(posted[0], Answer(choice, annotator=annotator, seconds=seconds))
            except StoreError:
                assert not valid
            else:
                assert valid
                kept += 1
        assert len(store.answers()) == kept
        assert store.check() == []

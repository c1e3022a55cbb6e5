"""Leases (claims) of schema 3: several answers wanted on a share of the queries, answers
only from the claimant that holds the query, retried answers stored once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hfrl_gym.answers import Answer, Choice
from hfrl_gym.errors import ConfigError, NotClaimedError
from hfrl_gym.store import LabelStore
from tests.conftest import make_clip


@pytest.fixture
def store(tmp_path: Path) -> LabelStore:
    with LabelStore(tmp_path / "labels.sqlite") as opened:
        yield opened


def posted(store: LabelStore, rng: np.random.Generator, count: int) -> list[int]:
    uids = store.add_clips([make_clip(rng, num_steps=3) for _ in range(2 * count)])
    return store.add_queries(list(zip(uids[::2], uids[1::2], strict=True)))


def ids(queries: list) -> list[int]:
    return [query.id for query in queries]


def test_every_kth_query_is_leased_to_k_annotators_and_no_other_twice(
    store: LabelStore, rng: np.random.Generator
) -> None:
    qids = posted(store, rng, 4)  # ids 1..4: query 2 and 4 want two answers
    store.set_shared_answers(every=2, k=2)
    assert store.shared_answers() == (2, 2)
    ana = ids(store.claim_pending("ana#c1", limit=4))
    bo = ids(store.claim_pending("bo#c2", limit=4))
    cy = ids(store.claim_pending("cy#c3", limit=4))
    assert ana == qids
    assert bo == [qids[1], qids[3]]  # only the shared ones are left for a second person
    assert cy == []
    # A second window of ana gets nothing ana's first one holds.
    assert ids(store.claim_pending("ana#c9", limit=4)) == []


def test_answers_free_a_slot_only_for_other_annotators(
    store: LabelStore, rng: np.random.Generator
) -> None:
    qids = posted(store, rng, 2)
    store.set_shared_answers(every=1, k=2)
    assert ids(store.claim_pending("ana#c1", limit=1)) == [qids[0]]
    store.add_claimed_answer(qids[0], Answer(Choice.LEFT, annotator="ana"), "ana#c1")
    assert ids(store.claim_pending("ana#c1", limit=2)) == [qids[1]]  # never her answered one
    assert ids(store.claim_pending("bo#c2", limit=2)) == qids  # her lease ended, answer counted
    store.add_claimed_answer(qids[0], Answer(Choice.RIGHT, annotator="bo"), "bo#c2")
    assert ids(store.claim_pending("cy#c3", limit=2)) == []  # query 1 has its two answers


def test_one_answer_per_query_by_default_as_before(
    store: LabelStore, rng: np.random.Generator
) -> None:
    qids = posted(store, rng, 2)
    assert store.shared_answers() == (1, 1)
    assert ids(store.claim_pending("ana#c1", limit=1)) == [qids[0]]
    assert ids(store.claim_pending("bo#c2", limit=2)) == [qids[1]]
    with pytest.raises(ConfigError, match="k must be a whole number >= 1"):
        store.set_shared_answers(every=5, k=0)


def test_an_answer_needs_the_lease_and_nothing_is_stored_without_it(
    store: LabelStore, rng: np.random.Generator
) -> None:
    qids = posted(store, rng, 2)
    store.claim_pending("ana#c1", limit=1)
    with pytest.raises(NotClaimedError, match="not leased to bo#c2"):
        store.add_claimed_answer(qids[0], Answer(Choice.LEFT, annotator="bo"), "bo#c2")
    with pytest.raises(NotClaimedError, match="not leased"):
        store.add_claimed_answer(qids[1], Answer(Choice.LEFT, annotator="ana"), "ana#c1")
    store.claim_pending("ana#c1", limit=2, lease_s=-1.0)  # her leases lapse
    with pytest.raises(NotClaimedError):
        store.add_claimed_answer(qids[0], Answer(Choice.LEFT, annotator="ana"), "ana#c1")
    assert store.counts()["answers"] == 0


def test_a_retried_answer_is_stored_once(store: LabelStore, rng: np.random.Generator) -> None:
    (qid,) = posted(store, rng, 1)
    store.claim_pending("ana#c1", limit=1)
    uid = "ab" * 16
    first, stored = store.add_claimed_answer(
        qid, Answer(Choice.LEFT, annotator="ana", seconds=2.0), "ana#c1", uid=uid
    )
    again, stored_again = store.add_claimed_answer(
        qid, Answer(Choice.LEFT, annotator="ana", seconds=2.0), "ana#c1", uid=uid
    )
    assert (stored, stored_again) == (True, False)
    assert again == first == store.answers()[0]
    assert store.counts()["answers"] == 1
    with pytest.raises(NotClaimedError, match="used for another answer"):
        store.add_claimed_answer(qid, Answer(Choice.LEFT, annotator="bo"), "bo#c2", uid=uid)


def test_an_undone_answer_is_held_again_by_its_claimant(
    store: LabelStore, rng: np.random.Generator
) -> None:
    qids = posted(store, rng, 2)
    store.claim_pending("ana#c1", limit=1)
    store.add_claimed_answer(qids[0], Answer(Choice.LEFT, annotator="ana"), "ana#c1")
    undone = store.undo_last_answer("ana")
    assert undone is not None
    store.hold_claim(undone.query_id, "ana#c1", lease_s=60.0)
    assert ids(store.claim_pending("bo#c2", limit=2)) == [qids[1]]
    assert ids(store.claim_pending("ana#c1", limit=1)) == [qids[0]]

"""The loop with fake parts: the order of calls, the label split, and resume (no real PPO)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from agents.evaluate import Evaluation
from agents.pair_selector import PairSelector
from agents.plan import RunPlan
from agents.rlhf_loop import PERTURB_LEVELS, LoopParts, run_rounds
from hfrl_gym.answers import Answer, Choice
from hfrl_gym.clips import Clip
from hfrl_gym.store import LabelStore, Query
from tests.conftest import make_clip

PLAN = RunPlan.create(
    num_labels=10,
    num_env_steps=1_000,
    num_rounds=3,
    label_decay=0.5,
    initial_env_steps=100,
    rollout_env_steps=100,
)


class Log(list):
    """Calls of every fake part, in order."""


class FakeAgent:
    def __init__(self, log: Log, rng: np.random.Generator) -> None:
        self.log, self.rng = log, rng

    def _clips(self, count: int) -> list[Clip]:
        return [make_clip(self.rng, num_steps=5) for _ in range(count)]

    def record(
        self,
        num_env_steps: int,
        *,
        round_index: int,
        clip_num_steps: int,
        random_actions: Sequence[float] = (),
    ) -> list[Clip]:
        entry = ("record", round_index, num_env_steps)
        self.log.append((*entry, tuple(random_actions)) if random_actions else entry)
        return self._clips(num_env_steps // clip_num_steps)

    def train(self, num_env_steps: int, *, round_index: int) -> None:
        self.log.append(("train", round_index, num_env_steps))

    def harvested_clips(self) -> list[Clip]:
        return self._clips(12)

    def evaluate(self) -> Evaluation:
        return Evaluation(np.array([1.0]), np.array([1.0]))


class FakeAnswerer:
    def __init__(self, log: Log, *, stop_after: int | None = None) -> None:
        self.log, self.stop_after = log, stop_after

    def answer(self, store: LabelStore, queries: Sequence[Query]) -> None:
        pending = store.pending_queries(query_ids=[q.id for q in queries])
        self.log.append(("answer", queries[0].round, len(queries), len(pending)))
        for count, query in enumerate(pending):
            if self.stop_after is not None and count == self.stop_after:
                raise KeyboardInterrupt  # the process is killed mid-round
            store.add_answer(query.id, Answer(Choice.LEFT, annotator="fake"))


class FakeFitter:
    def __init__(self, log: Log) -> None:
        self.log = log

    def fit(self, store: LabelStore, *, probe: Sequence[Clip] = ()) -> None:
        self.log.append(("fit", len(store.labelled_pairs())))


class FakeCheckpoint:
    def __init__(self, log: Log) -> None:
        self.log = log

    def save(self, round_index: int, evaluation: Evaluation, *, labels_round: int) -> None:
        self.log.append(("save", round_index, labels_round))


def _parts(store: LabelStore, log: Log, answerer: FakeAnswerer | None = None) -> LoopParts:
    rng = np.random.default_rng(0)
    return LoopParts(
        store=store,
        agent=FakeAgent(log, rng),
        pairs=PairSelector("uniform", rng),
        answerer=answerer or FakeAnswerer(log),
        reward=FakeFitter(log),
        checkpoint=FakeCheckpoint(log),
        clip_num_steps=5,
    )


def test_rounds_call_the_parts_in_the_papers_order(tmp_path) -> None:
    log = Log()
    with LabelStore(tmp_path / "store.sqlite") as store:
        run_rounds(_parts(store, log), PLAN)
        counts = store.counts()
    labels = PLAN.labels
    assert labels == (6, 3, 1)  # front-loaded, exact
    assert sum(labels) == 10
    assert log == [
        ("record", 0, 100),  # only round 0 records: later rounds compare PPO's own clips
        ("answer", 0, labels[0], labels[0]),
        ("fit", labels[0]),
        ("train", 0, PLAN.ppo_env_steps[0]),
        ("save", 0, labels[0]),
        ("answer", 1, labels[1], labels[1]),
        ("fit", labels[0] + labels[1]),  # every answer so far, not the round's alone
        ("train", 1, PLAN.ppo_env_steps[1]),
        ("save", 1, labels[1]),
        ("answer", 2, labels[2], labels[2]),
        ("fit", 10),
        ("train", 2, PLAN.ppo_env_steps[2]),
        ("save", 2, labels[2]),
    ]
    assert counts["queries"] == 10
    assert counts["answered"] == 10


def test_a_baseline_asks_nothing(tmp_path) -> None:
    plan = RunPlan.create(
        num_labels=0,
        num_env_steps=1_000,
        num_rounds=2,
        label_decay=0.5,
        initial_env_steps=100,
        rollout_env_steps=100,
    )
    log = Log()
    with LabelStore(tmp_path / "store.sqlite") as store:
        run_rounds(_parts(store, log), plan)
    assert plan.initial_env_steps == 0
    assert plan.ppo_env_steps == (500, 500)  # the whole budget goes to PPO
    assert [entry[0] for entry in log] == ["train", "save", "train", "save"]


def test_resume_reuses_the_rounds_queries_and_asks_no_answer_twice(tmp_path) -> None:
    log = Log()
    path = tmp_path / "store.sqlite"
    with LabelStore(path) as store:
        parts = _parts(store, log, FakeAnswerer(log, stop_after=1))
        with pytest.raises(KeyboardInterrupt):  # killed after 1 answer of round 0
            run_rounds(parts, PLAN)
    assert [entry[0] for entry in log] == ["record", "answer"]
    log.clear()
    with LabelStore(path) as store:  # resumed: round 0 was not checkpointed
        run_rounds(_parts(store, log), PLAN, first_round=0)
        answers = store.answers()
        counts = store.counts()
    assert log[0] == ("answer", 0, PLAN.labels[0], PLAN.labels[0] - 1)  # no new recording
    assert counts["queries"] == 10
    assert len(answers) == 10  # one answer per query: none asked twice
    assert len({a.query_id for a in answers}) == 10


def test_resume_after_a_finished_round_starts_from_the_next(tmp_path) -> None:
    log = Log()
    with LabelStore(tmp_path / "store.sqlite") as store:
        run_rounds(_parts(store, log), PLAN, first_round=2)
    assert log[0] == ("record", 2, 100)  # a resumed process records the current policy
    # ... and those env steps come out of the round's PPO steps: the budget holds
    assert [entry for entry in log if entry[0] == "train"] == [
        ("train", 2, PLAN.ppo_env_steps[2] - 100)
    ]


class ExploringAgent(FakeAgent):
    def explore(self, num_env_steps: int, *, round_index: int) -> list[Clip]:
        self.log.append(("explore", round_index, num_env_steps))
        return self._clips(num_env_steps // 5)


def test_exploration_replaces_the_first_recording(tmp_path) -> None:
    plan = RunPlan.create(
        num_labels=10,
        num_env_steps=1_000,
        num_rounds=2,
        label_decay=0.5,
        initial_env_steps=100,
        rollout_env_steps=100,
        explore_env_steps=250,  # two whole rollouts
    )
    assert plan.explore_env_steps == 200
    assert plan.initial_env_steps == 0  # nothing recorded without learning
    assert plan.ppo_env_steps == (400, 400)
    assert plan.total_env_steps == 1_000
    log = Log()
    with LabelStore(tmp_path / "store.sqlite") as store:
        parts = _parts(store, log)
        parts = LoopParts(
            **{**parts.__dict__, "agent": ExploringAgent(log, np.random.default_rng(0))}
        )
        run_rounds(parts, plan)
    assert log[0] == ("explore", 0, 200)
    assert "record" not in [entry[0] for entry in log]


@pytest.mark.parametrize("perturb", [0, 100])
def test_perturbed_recordings_follow_each_round_whose_next_round_asks(tmp_path, perturb) -> None:
    """``--perturb-fraction``: after the PPO of every round whose next round asks, the policy
    is recorded with random actions mixed in; the steps come out of PPO's share, so the run
    stays within its budget. Control: none without it."""
    plan = RunPlan.create(
        num_labels=10,
        num_env_steps=1_000,
        num_rounds=4,
        label_decay=0.3,
        initial_env_steps=100,
        rollout_env_steps=100,
        perturb_env_steps=perturb,
        num_envs=2,
    )
    asking = [k for k in range(3) if plan.labels[k + 1] > 0]
    assert plan.perturb_rounds == (tuple(asking) if perturb else ())
    assert plan.perturb_env_steps == (perturb // len(asking) // 2 * 2 if perturb else 0)
    assert plan.total_env_steps <= 1_000
    assert sum(plan.ppo_env_steps) <= 1_000 - 100 - plan.perturb_env_steps * len(asking)
    log = Log()
    with LabelStore(tmp_path / "store.sqlite") as store:
        run_rounds(_parts(store, log), plan)
    perturbed = [entry for entry in log if entry[0] == "record" and len(entry) == 4]
    expected = [("record", k, plan.perturb_env_steps, PERTURB_LEVELS) for k in asking]
    assert perturbed == (expected if perturb else [])
    for entry in perturbed:  # right after that round's PPO
        assert log[log.index(entry) - 1][:2] == ("train", entry[1])

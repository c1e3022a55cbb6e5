"""The loop's parts write the run's status: each phase before the part works, with its counts."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from agents.callbacks import Progress
from agents.evaluate import Evaluation
from agents.rlhf_loop import LoopParts, run_rounds
from agents.status_hooks import StatusReporter, with_status
from hfrl_gym.clips import Clip
from hfrl_gym.errors import ConfigError
from hfrl_gym.run_status import Phase, StatusWriter, read_status
from hfrl_gym.store import LabelStore, Query
from tests.agents.test_rlhf_loop import PLAN, FakeAgent, FakeAnswerer, FakeFitter, Log, _parts


class Seen(list):
    """``(part, phase, round, labels answered)`` of the status file as each part was called."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root

    def look(self, part: str) -> None:
        status = read_status(self.root)
        self.append((part, status.phase.value, status.round, status.labels_answered))


class SeeingAgent(FakeAgent):
    seen: Seen

    def record(self, num_env_steps: int, *, round_index: int, clip_num_steps: int) -> list[Clip]:
        self.seen.look("record")
        return super().record(num_env_steps, round_index=round_index, clip_num_steps=5)

    def train(self, num_env_steps: int, *, round_index: int) -> None:
        self.seen.look("train")
        super().train(num_env_steps, round_index=round_index)

    def evaluate(self) -> Evaluation:
        self.seen.look("evaluate")
        return super().evaluate()


class SeeingAnswerer(FakeAnswerer):
    seen: Seen

    def answer(self, store: LabelStore, queries: Sequence[Query]) -> None:
        self.seen.look("answer")
        super().answer(store, queries)


class SeeingFitter(FakeFitter):
    seen: Seen
    num_fits = 0

    def fit(self, store: LabelStore, *, probe: Sequence[Clip] = ()) -> None:
        self.seen.look("fit")
        super().fit(store, probe=probe)
        self.num_fits += 1


def _watched(root: Path, store: LabelStore) -> tuple[LoopParts, StatusReporter, Seen]:
    seen, log = Seen(root), Log()
    agent, answerer, fitter = (
        SeeingAgent(log, np.random.default_rng(0)),
        SeeingAnswerer(log),
        SeeingFitter(log),
    )
    agent.seen = answerer.seen = fitter.seen = seen
    parts = dataclasses.replace(_parts(store, log), agent=agent, answerer=answerer, reward=fitter)
    writer = StatusWriter(
        root, env_id="hfrl/CartPole-v0", labels_budget=10, env_steps_budget=1_000, num_rounds=3
    )
    reporter = StatusReporter(
        writer,
        store=store,
        env_steps=lambda: 0,
        refits=lambda: fitter.num_fits,
        resume_command="hfrl train --resume run",
    )
    return with_status(parts, reporter), reporter, seen


def test_each_part_reports_its_phase_before_it_works(tmp_path: Path) -> None:
    with LabelStore(tmp_path / "store.sqlite") as store:
        parts, reporter, seen = _watched(tmp_path, store)
        run_rounds(parts, PLAN)
        reporter.finish()
    labels = PLAN.labels
    assert seen[:5] == [
        ("record", "recording", 0, 0),
        ("answer", "waiting", 0, 0),
        ("fit", "fitting", 0, labels[0]),
        ("train", "training", 0, labels[0]),
        ("evaluate", "evaluating", 0, labels[0]),
    ]
    assert seen[5:8] == [
        ("answer", "waiting", 1, labels[0]),
        ("fit", "fitting", 1, labels[0] + labels[1]),
        ("train", "training", 1, labels[0] + labels[1]),
    ]
    final = read_status(tmp_path)
    assert (final.phase, final.refits, final.labels_answered, final.pending_queries) == (
        Phase.FINISHED,
        3,
        10,
        0,
    )


def test_a_stopped_run_says_why_and_how_to_resume(tmp_path: Path) -> None:
    with LabelStore(tmp_path / "store.sqlite") as store:
        _, reporter, _ = _watched(tmp_path, store)
        reporter.report(Phase.WAITING, round_index=0)
        reporter.stop(KeyboardInterrupt())
        assert read_status(tmp_path).message == "interrupted; resume with `hfrl train --resume run`"
        reporter.stop(ConfigError("the labelling window was closed; resume with X"))
        status = read_status(tmp_path)
    assert (status.phase, status.message) == (
        Phase.STOPPED,
        "the labelling window was closed; resume with X",
    )


def test_progress_tells_the_runs_env_steps_also_when_hidden() -> None:
    told: list[int] = []
    progress = Progress(1_000, initial=300, enabled=False, on_env_steps=told.append)
    progress.advance(100)
    progress.advance(50)
    progress.close()
    assert (progress.env_steps, told) == (450, [400, 450])

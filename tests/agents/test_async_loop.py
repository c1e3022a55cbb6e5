"""``hfrl train --async``: PPO trains while a (simulated) person answers through the store.

Every run here is real: a SQLite store, PPO on CartPole, a reward model refit in a background
thread, and a simulated person answering in its own thread (``agents.simulated_person``) with
its own store connection, like an ``hfrl label`` window in another process.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from agents import async_loop
from agents.async_train import train_async
from agents.background_fit import BackgroundRefitter
from agents.cli import main as agents_main
from agents.config import TrainConfig
from agents.reward_fitter import RewardFitter, new_reward_model
from agents.rlhf_loop import plan_run
from agents.simulated_person import SimulatedPerson
from agents.vec_learned_reward import VecLearnedReward
from hfrl_gym.answers import Answer, Choice
from hfrl_gym.envs import make_env
from hfrl_gym.errors import ConfigError
from hfrl_gym.queries import num_possible_pairs
from hfrl_gym.recording import record_random_clips
from hfrl_gym.run_status import Phase, read_status
from hfrl_gym.store import LabelStore, Query

ENV = "hfrl/CartPole-v0"
N_STEPS = 64  # CartPole's PPO rollout: 64 steps of 8 envs (agents.ppo)
HFRL = str(Path(sys.executable).with_name("hfrl"))


def _config(out: Path, *, labels: int = 10, steps: int = 6_000, **changes: object) -> TrainConfig:
    settings: dict[str, object] = {
        "env": ENV,
        "teacher": "store",
        "asynchronous": True,
        "labels": labels,
        "steps": steps,
        "rounds": 3,
        "initial_steps": 400,
        "clip_steps": 10,
        "ensemble": 2,
        "eval_episodes": 1,
        "explore_fraction": 0.0,
        "queue_low": 2,
        "seed": 0,
        "out": str(out),
        "device": "cpu",
        "video": False,
        **changes,
    }
    return TrainConfig(**settings).validate()  # type: ignore[arg-type]


def _person(out: Path, **options: object) -> SimulatedPerson:
    return SimulatedPerson(
        out / "store.sqlite",
        env_id=ENV,
        clip_num_steps=10,
        rng=np.random.default_rng(5),
        seconds_per_answer=(0.02, 0.1),
        **options,  # type: ignore[arg-type]
    ).start()


# Refused where no person answers --------------------------------------------------------


@pytest.mark.parametrize("teacher", ["oracle", "noisy"])
def test_async_with_a_scripted_teacher_is_refused_with_one_clear_error(
    tmp_path: Path, teacher: str
) -> None:
    with pytest.raises(ConfigError, match=r"--async is for people .*leave out --async"):
        agents_main(["train", "--async", "--teacher", teacher, "--out", str(tmp_path / "r")])
    assert not (tmp_path / "r").exists()  # refused before anything is written


def test_async_with_a_baseline_reward_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--async refits a learned reward"):
        _config(tmp_path, reward="true")


def test_the_async_flag_reads_into_the_config_and_old_configs_read_as_synchronous() -> None:
    assert TrainConfig.from_json("{}").asynchronous is False
    config = TrainConfig(teacher="store", asynchronous=True).validate()
    assert TrainConfig.from_json(config.to_json()).asynchronous is True


# The background refit -----------------------------------------------------------------


def _store_with_queries(path: Path, num_queries: int) -> tuple[LabelStore, list[Query]]:
    clips = record_random_clips(ENV, num_clips=2 * num_queries, clip_num_steps=10, seed=0)
    store = LabelStore(path)
    store.add_clips(clips)
    ids = store.add_queries([(a.uid, b.uid) for a, b in zip(clips[::2], clips[1::2], strict=True)])
    return store, [store.get_query(i) for i in ids]


def _better(store: LabelStore, query: Query) -> Answer:
    pair = store.pair(query)
    left = pair.left.true_rewards.sum() >= pair.right.true_rewards.sum()
    return Answer(Choice.LEFT if left else Choice.RIGHT, annotator="test", seconds=1.0)


def _wait_for_refit(refitter: BackgroundRefitter, num_answers: int, timeout_s: float = 120.0):  # type: ignore[no-untyped-def]
    """The refits published until one has fit ``num_answers`` answers."""
    refits, deadline = [], time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        refit = refitter.take()
        if refit is not None:
            refits.append(refit)
            if refit.num_answers == num_answers:
                return refits
        time.sleep(0.05)
    raise AssertionError(f"no refit on {num_answers} answers was published: {refits}")


def test_the_background_refit_runs_when_answers_arrive_and_never_touches_the_model_in_use(
    tmp_path: Path, one_torch_thread: None
) -> None:
    store, queries = _store_with_queries(tmp_path / "store.sqlite", 6)
    for query in queries[:3]:
        store.add_answer(query.id, _better(store, query))
    model = new_reward_model(ENV, make_env(ENV), num_members=2, device="cpu", seed=0)
    RewardFitter(model, np.random.default_rng(0), fitted=False).fit(store)
    weights = [p.detach().clone() for p in model.net.parameters()]
    refitter = BackgroundRefitter(
        store.path,
        model,
        rng=np.random.default_rng(1),
        version=1,
        probe_clips=lambda: [],
        fitted_answers=3,
        poll_s=0.02,
    )
    refitter.start()
    try:
        for _ in range(10):  # ten looks at the store with no new answer: no refit
            time.sleep(0.02)
        assert refitter.take() is None
        assert refitter.num_fits == 0
        for query in queries[3:5]:
            store.add_answer(query.id, _better(store, query))
        refits = _wait_for_refit(refitter, num_answers=5)  # one refit, or two (4 then 5)
    finally:
        refitter.stop()
        store.close()
    refit = refits[-1]
    # one version per fit; a refit on 4 answers may be replaced by the one on 5 before it
    # is taken (the model in use is always the newest), so versions may skip one
    versions = [r.version for r in refits]
    assert versions == sorted(set(versions))
    assert versions[0] >= 2
    assert versions[-1] <= 3
    assert [r.num_answers for r in refits] in ([5], [4, 5])
    assert refit.model is not model
    assert refit.report.num_pairs == 5  # every answer so far
    # the model PPO scores with is not changed by the background fit
    assert all(
        bool((before == after).all())
        for before, after in zip(weights, model.net.parameters(), strict=True)
    )


def test_a_failed_background_fit_is_raised_in_the_training_thread(tmp_path: Path) -> None:
    model = new_reward_model(ENV, make_env(ENV), num_members=2, device="cpu", seed=0)
    refitter = BackgroundRefitter(
        tmp_path / "missing.sqlite",
        model,
        rng=np.random.default_rng(1),
        version=1,
        probe_clips=lambda: [],
        fitted_answers=None,
    )
    refitter.start()
    refitter.stop()
    with pytest.raises(Exception, match="background reward fit failed"):
        refitter.take()


# Whole runs -----------------------------------------------------------------------------


@pytest.mark.slow
def test_an_async_run_keeps_its_budgets_and_swaps_models_only_between_rollouts(
    tmp_path: Path, one_torch_thread: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    main_thread = threading.get_ident()
    scored_with: list[int] = []  # the reward model of each PPO env step, in order
    step_wait = VecLearnedReward.step_wait

    def spy(self: VecLearnedReward):  # type: ignore[no-untyped-def]
        if threading.get_ident() == main_thread:
            scored_with.append(id(self.reward_fn))
        return step_wait(self)

    monkeypatch.setattr(VecLearnedReward, "step_wait", spy)
    monkeypatch.setattr(async_loop, "POST_EVERY_S", 0.0)  # a look at the queue every step
    config = _config(tmp_path / "run", labels=10)
    person = _person(tmp_path / "run")
    lines: list[str] = []
    summary = train_async(config, show_progress=False, say=lines.append)
    log = person.stop()
    first_fit = next(line for line in lines if line.startswith("first reward fit on "))
    assert int(first_fit.split()[4]) >= plan_run(config).labels[0] == 5

    with LabelStore(tmp_path / "run" / "store.sqlite", create=False) as store:
        assert len(store.queries()) == 10  # the label budget, posted and no more
        assert store.counts()["answered"] == 10 == len(log.answer_times)
    assert summary["labels_used"] == 10
    assert summary["env_steps"] <= config.steps
    section = summary["asynchronous"]
    assert section["labels_posted"] == 10
    assert section["queries_unanswered"] == 0
    assert section["refits"] >= 2  # the first fit, then background refits as answers came
    assert section["labels_done_at_env_step"] is not None
    assert section["ending"].startswith("the labels ran out first")
    # PPO scored each rollout (64 steps of its 8 envs) with one model, and switched between
    assert len(scored_with) % N_STEPS == 0
    assert scored_with
    rollouts = [scored_with[i : i + N_STEPS] for i in range(0, len(scored_with), N_STEPS)]
    assert all(len(set(rollout)) == 1 for rollout in rollouts)
    switches = sum(a[0] != b[0] for a, b in itertools.pairwise(rollouts))
    assert switches >= 1
    assert section["handovers"] == switches
    # the queue was topped up from inside every PPO step of the vector too, not only between
    assert section["queue_looks_during_rollouts"] == len(scored_with)
    # the run folder works as a synchronous run's
    metrics = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    assert len(metrics) >= 3
    assert (
        json.loads((tmp_path / "run" / "state.json").read_text())["env_steps"]
        == (summary["env_steps"])
    )
    # one TensorBoard writer for all the rollouts' learn calls, not one file each
    assert len(list((tmp_path / "run" / "tensorboard").rglob("events.out.tfevents.*"))) == 1
    status = read_status(tmp_path / "run")
    assert status is not None
    assert status.phase is Phase.FINISHED
    assert status.mode == "async"


def test_the_first_fit_waits_for_the_synchronous_first_round_of_answers_and_not_fewer(
    tmp_path: Path, one_torch_thread: None
) -> None:
    config = _config(tmp_path / "run", labels=10, wait_timeout=1.5)
    first = plan_run(config).labels[0]
    assert first == 5 > 2 * config.queue_low  # more than the queue's low-water mark
    person = _person(tmp_path / "run", max_answers=first - 1)  # one answer short
    with pytest.raises(ConfigError, match=rf"^1 of the {first} answers the first fit waits for"):
        train_async(config, show_progress=False, say=lambda line: None)
    log = person.stop()
    assert len(log.answer_times) == first - 1
    with LabelStore(tmp_path / "run" / "store.sqlite", create=False) as store:
        assert len(store.queries()) >= first  # the person always had a pair to answer
        assert store.counts()["answered"] == first - 1
    # no fit, no PPO: nothing was checkpointed
    assert not (tmp_path / "run" / "state.json").exists()


def test_a_first_round_larger_than_the_first_clips_pairs_is_not_posted_in_bulk(
    tmp_path: Path, one_torch_thread: None
) -> None:
    config = _config(tmp_path / "run", labels=300, initial_steps=160, wait_timeout=0.5)
    first = plan_run(config).labels[0]
    with pytest.raises(ConfigError, match=rf"^{first} of the {first} answers the first fit"):
        train_async(config, show_progress=False, say=lambda line: None)
    with LabelStore(tmp_path / "run" / "store.sqlite", create=False) as store:
        possible = num_possible_pairs(store.get_clips(store.clip_uids()))
        assert possible < first == 153  # at most 16 clips: 8 envs of 20 steps
        assert len(store.queries()) == possible


@pytest.mark.slow
def test_when_the_person_leaves_the_env_steps_run_out_first_and_the_run_says_so(
    tmp_path: Path, one_torch_thread: None
) -> None:
    lines: list[str] = []
    config = _config(tmp_path / "run", labels=40)
    first = plan_run(config).labels[0]  # 20: the first fit waits for them
    person = _person(tmp_path / "run", max_answers=first + 2)
    summary = train_async(config, show_progress=False, say=lines.append)
    person.stop()
    section = summary["asynchronous"]
    assert summary["labels_used"] == first + 2
    assert section["labels_answered"] == first + 2
    # the queue (at least --queue-low, twice a rollout's answers when more), not the budget
    assert config.queue_low <= section["largest_queue"] <= 12
    assert section["labels_posted"] <= first + 2 + section["largest_queue"] < config.labels
    assert section["labels_done_at_env_step"] is None
    assert summary["env_steps"] > config.steps - 512  # PPO spent its steps all the same
    assert f"the env steps ran out before the labels: {first + 2} of 40 labels" in lines[-1]


class _Window:
    """Stands in for the comparison window: answers what it is shown, in the caller's thread."""

    def __init__(self) -> None:
        self.threads: set[int] = set()
        self.shown = 0

    def answer(self, store: LabelStore, queries: Sequence[Query]) -> None:
        self.threads.add(threading.get_ident())
        for query in queries:
            time.sleep(0.05)
            store.add_answer(query.id, _better(store, query))
            self.shown += 1


@pytest.mark.slow
def test_with_the_window_the_window_runs_in_this_thread_and_training_in_another(
    tmp_path: Path, one_torch_thread: None
) -> None:
    window = _Window()
    config = _config(tmp_path / "run", labels=8, teacher="human", annotator="ana")
    summary = train_async(config, show_progress=False, answerer=window, say=lambda line: None)
    assert window.threads == {threading.get_ident()}
    assert window.shown == summary["labels_used"] == 8
    assert summary["env_steps"] <= config.steps


@pytest.mark.slow
def test_an_async_run_killed_and_resumed_keeps_every_answer_and_its_progress(
    tmp_path: Path,
) -> None:
    run = tmp_path / "run"
    args = [
        "train", "--async", "--teacher", "store", "--env", ENV, "--labels", "12",
        "--steps", "8000", "--rounds", "4", "--initial-steps", "400", "--clip-steps", "10",
        "--eval-episodes", "1", "--ensemble", "2", "--explore-fraction", "0",
        "--queue-low", "2", "--device", "cpu", "--no-video", "--no-progress", "--out", str(run),
    ]  # fmt: skip
    person = _person(run)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HFRL_")}
    env.update(SDL_VIDEODRIVER="dummy", HFRL_KILL_AT="after_save@1")
    killed = subprocess.run([HFRL, *args], env=env, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    state = json.loads((run / "state.json").read_text())
    assert state["next_round"] == 2
    time.sleep(0.3)  # the person answers on while the run is down
    with LabelStore(run / "store.sqlite", create=False) as store:
        before = {(a.query_id, a.choice) for a in store.answers()}
    assert before

    resumed = subprocess.run(
        [HFRL, "train", "--resume", str(run), "--no-progress"],
        env={**env, "HFRL_KILL_AT": ""},
        capture_output=True,
        text=True,
        timeout=300,
    )
    person.stop()
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    with LabelStore(run / "store.sqlite", create=False) as store:
        after = {(a.query_id, a.choice) for a in store.answers()}
        assert len(store.queries()) <= 12
    assert before <= after  # nothing answered is lost
    summary = json.loads((run / "summary.json").read_text())
    assert summary["env_steps"] <= 8000
    rounds = [
        int(line.split(",")[0]) for line in (run / "metrics.csv").read_text().splitlines()[1:]
    ]
    assert rounds[:2] == [0, 1]
    assert rounds == sorted(set(rounds))
    assert json.loads((run / "state.json").read_text())["env_steps"] == summary["env_steps"]

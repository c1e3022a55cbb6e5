"""Sweeps on the process backend: every run its own folder; finished runs never repeated; a
failed or lost run reported while the others finish; a lost run resumed by the next sweep."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

import pytest

import agents.sweep as sweep
from agents.sweep import SweepResult, finished_summary, run_sweep
from agents.sweep_backends import RAY_INSTALL
from hfrl_gym.errors import ConfigError
from tests.agents.sweep_runs import fake_finished_run, folder_state, tiny, tiny_matrix


@pytest.mark.slow
def test_a_sweep_reports_a_failed_run_and_never_repeats_a_finished_one(tmp_path: Path) -> None:
    configs = tiny_matrix(tmp_path)
    seen: list[SweepResult] = []
    results = run_sweep(configs, jobs=2, on_result=seen.append)

    assert [r.config for r in results] == configs  # in the order given
    assert sorted(r.config.out for r in seen) == sorted(c.out for c in configs)
    oracle, true, broken = results
    for result in (oracle, true):
        assert result.error is None
        assert result.summary == json.loads((Path(result.config.out) / "summary.json").read_text())
        assert result.summary["env_steps"] >= 512  # a PPO rollout at least
    assert oracle.summary["labels_used"] == 4
    assert true.summary["labels_used"] == 0
    assert broken.summary is None
    assert "cannot write the run folder" in broken.error
    assert "Not a directory" in broken.error

    before = {c.out: folder_state(Path(c.out)) for c in configs[:2]}
    again = run_sweep(configs, jobs=2)
    assert [r.summary for r in again] == [r.summary for r in results]
    assert again[2].summary is None
    assert "cannot write the run folder" in again[2].error
    assert {c.out: folder_state(Path(c.out)) for c in configs[:2]} == before  # untouched


@pytest.mark.slow
def test_a_killed_run_is_reported_and_the_next_sweep_resumes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tiny(tmp_path / "run", steps=1600, rounds=2, labels=6)
    monkeypatch.setenv("HFRL_KILL_AT", "after_save@0")  # agents/faults.py: SIGKILL there
    (lost,) = run_sweep([config], jobs=1)
    assert lost.summary is None
    assert "process died (exit code -9)" in lost.error
    assert "resumes it" in lost.error
    assert (tmp_path / "run" / "state.json").exists()
    assert not (tmp_path / "run" / "summary.json").exists()

    monkeypatch.delenv("HFRL_KILL_AT")
    monkeypatch.setenv("HFRL_PHASE_LOG", str(tmp_path / "phases.log"))
    (resumed,) = run_sweep([config], jobs=1)
    assert resumed.error is None
    assert resumed.summary["labels_used"] == 6
    phases = (tmp_path / "phases.log").read_text().split()
    assert phases
    assert all(phase.endswith("@1") for phase in phases)


def test_a_finished_run_is_read_where_the_sweep_runs_never_sent_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tiny(tmp_path / "done")
    summary = fake_finished_run(tmp_path / "done", config)

    def no_backend(*args: object, **kwargs: object) -> None:
        raise AssertionError("a finished run was sent to a backend")

    monkeypatch.setattr(sweep, "run_in_processes", no_backend)
    monkeypatch.setattr(sweep, "run_on_ray", no_backend)
    for backend in sweep.BACKENDS:
        (result,) = run_sweep([config], backend=backend)
        assert result == SweepResult(config, summary)


def test_reuse_compares_settings_not_how_the_folder_is_reached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tiny(tmp_path / "done")
    summary = fake_finished_run(tmp_path / "done", config)
    monkeypatch.chdir(tmp_path)
    assert finished_summary(dataclasses.replace(config, out="done")) == summary
    assert finished_summary(dataclasses.replace(config, out=str(tmp_path / "." / "done")))
    assert finished_summary(dataclasses.replace(config, seed=1)) is None  # other settings
    assert finished_summary(tiny(tmp_path / "elsewhere")) is None


def test_the_process_backend_runs_on_every_usable_core_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def record(items: list, work: object, *, jobs: int, done: object) -> None:
        calls.append(jobs)
        for index, config in items:
            done(index, SweepResult(config, {"true_return_mean": 1.0}), None)

    monkeypatch.setattr(sweep, "run_in_processes", record)
    run_sweep([tiny(tmp_path / "a")])
    run_sweep([tiny(tmp_path / "a")], jobs=3)
    assert calls == [len(os.sched_getaffinity(0)), 3]


def test_ray_missing_is_one_error_that_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(ConfigError) as caught:
        run_sweep([tiny(tmp_path / "a")], backend="ray")
    message = str(caught.value)
    assert "\n" not in message
    assert RAY_INSTALL in message
    assert ".[ray]" in message
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"backend": "slurm"}, "--backend must be one of process, ray"),
        ({"jobs": 0}, "--jobs must be at least 1"),
        ({"address": "auto"}, "are for --backend ray"),
        ({"gpus_per_run": 0.5}, "are for --backend ray"),
        ({"backend": "ray", "gpus_per_run": -1.0}, "--gpus-per-run must be a number >= 0"),
        ({"backend": "ray", "address": "auto", "jobs": 4}, "leave out --jobs"),
        ({"backend": "ray", "device": "cuda"}, "ask for --device cuda .* pass --gpus-per-run"),
    ],
)
def test_settings_no_backend_can_honour_are_refused_before_any_run(
    tmp_path: Path, kwargs: dict, words: str
) -> None:
    kwargs = dict(kwargs)
    config = tiny(tmp_path / "a", device=kwargs.pop("device", "cpu"))
    with pytest.raises(ConfigError, match=words):
        run_sweep([config], **kwargs)
    assert not (tmp_path / "a").exists()


def test_two_runs_in_one_folder_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    configs = [tiny(tmp_path / "a"), tiny(Path("a"), seed=1)]
    with pytest.raises(ConfigError, match="share the folder a: give each its own out"):
        run_sweep(configs)

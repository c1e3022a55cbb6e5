"""Sweeps on a local Ray instance: the process backend's summaries, a failed run reported while
the others finish, finished runs never repeated, a lost run reported and resumed."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray

from agents import sweep
from agents.sweep import SweepResult, run_sweep
from agents.sweep_backends import run_on_ray
from tests.agents.sweep_runs import folder_state, tiny, tiny_matrix, without_times

pytestmark = pytest.mark.slow  # tiny real runs in Ray workers


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[None]:
    """One local instance of 2 CPUs for the tests that do not start their own."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def ray_matrix(
    ray_instance: None, tmp_path_factory: pytest.TempPathFactory
) -> tuple[list, list[SweepResult], list[SweepResult]]:
    """The tiny matrix swept on Ray: its configs, the results, and those ``on_result`` saw."""
    configs = tiny_matrix(tmp_path_factory.mktemp("ray"))
    seen: list[SweepResult] = []
    return configs, run_sweep(configs, backend="ray", on_result=seen.append), seen


def test_a_lost_run_is_reported_and_the_next_sweep_resumes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """First in the file: the sweep starts a local instance of its own and shuts it down."""
    config = tiny(tmp_path / "run", steps=1600, rounds=2, labels=6)
    assert not ray.is_initialized()
    monkeypatch.setenv("HFRL_KILL_AT", "after_save@0")  # the task's worker SIGKILLs itself
    (lost,) = run_sweep([config], backend="ray", jobs=1)
    assert not ray.is_initialized()
    assert lost.summary is None  # not retried: a retry would have resumed and finished it
    assert "died" in lost.error
    assert "resumes it" in lost.error
    assert (tmp_path / "run" / "state.json").exists()
    assert not (tmp_path / "run" / "summary.json").exists()

    monkeypatch.delenv("HFRL_KILL_AT")
    monkeypatch.setenv("HFRL_PHASE_LOG", str(tmp_path / "phases.log"))
    request.getfixturevalue("ray_instance")
    (resumed,) = run_sweep([config], backend="ray")
    assert resumed.error is None
    assert resumed.summary["labels_used"] == 6
    phases = (tmp_path / "phases.log").read_text().split()
    assert phases
    assert all(phase.endswith("@1") for phase in phases)  # round 0 not run again


def test_ray_gives_the_summaries_the_process_backend_gives(
    ray_matrix: tuple, tmp_path: Path
) -> None:
    configs, on_ray, _ = ray_matrix
    here = [dataclasses.replace(c, out=str(tmp_path / Path(c.out).name)) for c in configs[:2]]
    in_processes = run_sweep(here, jobs=2)
    assert [without_times(r.summary) for r in on_ray[:2]] == [
        without_times(r.summary) for r in in_processes
    ]
    assert on_ray[0].summary["labels_used"] == 4
    assert on_ray[1].summary["labels_used"] == 0


def test_a_failed_run_on_ray_is_reported_and_the_others_finish(ray_matrix: tuple) -> None:
    configs, results, seen = ray_matrix
    assert [r.config for r in results] == configs
    assert sorted(r.config.out for r in seen) == sorted(c.out for c in configs)
    assert all(r.error is None for r in results[:2])
    for result in results[:2]:
        assert (Path(result.config.out) / "summary.json").exists()
    assert results[2].summary is None
    assert "cannot write the run folder" in results[2].error


def test_finished_runs_are_never_repeated_on_ray(ray_matrix: tuple) -> None:
    configs, results, _ = ray_matrix
    before = {c.out: folder_state(Path(c.out)) for c in configs[:2]}
    again = run_sweep(configs, backend="ray")
    assert [r.summary for r in again] == [r.summary for r in results]
    assert "cannot write the run folder" in again[2].error  # the failed one tried again
    # a task handed a finished run (a driver that cannot see the folder) reuses it too
    returned = []
    run_on_ray(
        [(0, configs[0])],
        sweep._worker,
        jobs=None,
        address=None,
        gpus_per_run=0.0,
        env_vars={},
        done=lambda index, value, error: returned.append((index, value, error)),
    )
    assert returned == [(0, SweepResult(configs[0], results[0].summary), None)]
    assert {c.out: folder_state(Path(c.out)) for c in configs[:2]} == before  # untouched

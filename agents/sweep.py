"""Matrices of runs (envs x teachers x goals x seeds): run them, resume them, tabulate them.

Each run is a run folder of its own. A finished run whose ``config.json`` equals the settings
asked for is never repeated (read where the sweep runs, never sent off again); an interrupted
one is resumed; one made with other settings is run again. Tables are built from the folders,
so a run that failed or was lost is reported and can be rerun alone.

Runs run on one of two backends (agents/sweep_backends.py), each run through
:func:`run_config` in a fresh process with one torch thread (a run steps its envs in one
process: one core each): ``process``, up to ``jobs`` at a time on this machine, every usable
core by default; or ``ray``, one task per run on a new local Ray instance or the cluster at
``address`` (Ray is an optional extra; on a cluster, the run folders must be on a filesystem
every node shares).

Classes:
    RandomPolicy: uniformly random actions (the bottom of the normalised-return scale).
    SweepResult: one run's summary, or why it failed.

Functions:
    run_config: run (or reuse, or resume) one config in this process.
    finished_summary: the summary of a finished run of a config's settings, or ``None``.
    run_sweep: run configs on a backend, each in its own folder.
    random_policy_return: the true (or goal) return of :class:`RandomPolicy`.
    normalised_return: B-Pref's ``(R - R_random) / (R_reference - R_random)``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.config import TrainConfig
from agents.sweep_backends import one_line, run_in_processes, run_on_ray, usable_cores
from hfrl_gym.errors import ConfigError, HfrlError

BACKENDS = ("process", "ray")
_FORWARDED_ENV = (
    *("PYTHONHASHSEED", "MUJOCO_GL", "SDL_VIDEODRIVER", "SDL_AUDIODRIVER"),
    *("HFRL_KILL_AT", "HFRL_PHASE_LOG"),  # agents/faults.py: resume tests kill runs on Ray too
)
"""What a Ray task takes from the sweep's environment (a cluster node's may lack it); a
process of the process backend inherits all of it."""


@dataclass(frozen=True)
class SweepResult:
    """One run of a sweep.

    Attributes:
        config: the run's settings (``config.out`` is its folder).
        summary: its ``summary.json``, or ``None`` when it failed.
        error: the last line of the failure, or ``None``.
    """

    config: TrainConfig
    summary: dict[str, Any] | None
    error: str | None = None


def _same_settings(config: TrainConfig) -> bool:
    """Whether ``config.out`` holds a run (finished or not) of exactly ``config``'s settings.

    The folder is the run wherever it is reached from: ``out`` as written in ``config.json``
    (relative, or another node's mount point) is not compared; settings added since a run
    was made read as their defaults, which behave as before.
    """
    path = Path(config.out) / "config.json"
    if not path.exists():
        return False
    return dataclasses.replace(TrainConfig.from_json(path.read_text()), out=config.out) == config


def finished_summary(config: TrainConfig) -> dict[str, Any] | None:
    """The summary of the finished run of ``config``'s settings in ``config.out``, or ``None``."""
    summary_path = Path(config.out) / "summary.json"
    if summary_path.exists() and _same_settings(config):
        return json.loads(summary_path.read_text())
    return None


def run_config(config: TrainConfig) -> dict[str, Any]:
    """Run ``config`` in this process, reusing a finished run of the same settings.

    A folder holding a finished run of exactly these settings is reused; an interrupted one
    (``state.json``, same settings) is resumed; a run of other settings is replaced. The
    summary is read back from the folder, as a later sweep reuses it (``null``, not ``nan``).
    """
    from agents.rlhf_loop import train

    summary = finished_summary(config)
    if summary is not None:
        return summary
    run = Path(config.out)
    resume = (run / "state.json").exists() and _same_settings(config)
    if run.exists() and not resume:
        shutil.rmtree(run)
    train(config, resume=resume, show_progress=False)
    return json.loads((run / "summary.json").read_text())


def _worker(config: TrainConfig) -> SweepResult:
    """Run one config where a backend put it; an exception becomes a failed result."""
    os.environ.setdefault("MUJOCO_GL", "egl")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import torch

    torch.set_num_threads(1)
    try:
        return SweepResult(config, run_config(config))
    except Exception as error:  # a failed run is reported, the sweep goes on
        return SweepResult(config, None, one_line(error))


def run_sweep(
    configs: Sequence[TrainConfig],
    *,
    backend: str = "process",
    jobs: int | None = None,
    address: str | None = None,
    gpus_per_run: float = 0.0,
    on_result: Callable[[SweepResult], None] | None = None,
) -> list[SweepResult]:
    """Run every config in its own folder; results in the given order.

    Args:
        configs: the runs, each with its own ``out``.
        backend: ``process`` (fresh processes on this machine; call it under
            ``if __name__ == "__main__":``) or ``ray`` (one task per run).
        jobs: runs at a time: with ``process``, default every usable core; with ``ray``, the
            cores of the local instance it starts (default all); not with ``address``.
        address: ``ray`` only: the cluster to run on (``auto``, ``HOST:PORT``,
            ``ray://HOST:10001``); default a new local instance (one this process is already
            connected to is used as it is).
        gpus_per_run: ``ray`` only: GPUs each run reserves (a fraction shares one).
        on_result: called with each result as it finishes.

    A run that raises, or whose process or node is lost, is a failed :class:`SweepResult`
    with its error, and the others go on; running the sweep again reuses the finished runs
    and resumes the others.
    """
    _check_sweep(configs, backend=backend, jobs=jobs, address=address, gpus_per_run=gpus_per_run)
    results: dict[int, SweepResult] = {}

    def done(index: int, result: SweepResult | None, error: str | None) -> None:
        if result is None:  # nothing came back: its process, worker or node was lost
            again = "running the sweep again resumes it from its last saved round, if any"
            result = SweepResult(configs[index], None, f"{error}; {again}")
        results[index] = dataclasses.replace(result, config=configs[index])
        if on_result is not None:
            on_result(results[index])

    to_run = []
    for index, config in enumerate(configs):  # a finished run is read here, never sent off
        summary = _readable_summary(config)
        if summary is None:
            to_run.append((index, config))
        else:
            done(index, SweepResult(config, summary), None)
    if to_run and backend == "ray":
        env_vars = {name: os.environ[name] for name in _FORWARDED_ENV if name in os.environ}
        if gpus_per_run == 0:  # Ray leaves a task that reserved none every GPU to see
            env_vars["CUDA_VISIBLE_DEVICES"] = ""  # `--device auto` takes none unreserved
        # a task's working directory is its node's: it gets its folder as a whole path
        whole = [(i, dataclasses.replace(c, out=os.path.abspath(c.out))) for i, c in to_run]
        run_on_ray(whole, _worker, jobs=jobs, address=address, gpus_per_run=gpus_per_run,
                   env_vars=env_vars, done=done)  # fmt: skip
        _warn_unseen([results[index] for index, _ in to_run])
    elif to_run:
        run_in_processes(to_run, _worker, jobs=jobs or usable_cores(), done=done)
    return [results[index] for index in range(len(configs))]


def _readable_summary(config: TrainConfig) -> dict[str, Any] | None:
    """:func:`finished_summary`, or ``None`` where the folder cannot say (its run reports why)."""
    try:
        return finished_summary(config)
    except (HfrlError, OSError, ValueError):
        return None


def _warn_unseen(results: list[SweepResult]) -> None:
    """Warn when finished runs' folders are not here: tables and reuse would miss them."""
    unseen = [r.config.out for r in results if r.summary and not Path(r.config.out).is_dir()]
    if unseen:
        warnings.warn(
            f"{len(unseen)} finished runs are not visible here (e.g. {unseen[0]}): put the run "
            "folders on a filesystem every node of the cluster shares",
            stacklevel=3,
        )


def _check_sweep(
    configs: Sequence[TrainConfig],
    *,
    backend: str,
    jobs: int | None,
    address: str | None,
    gpus_per_run: float,
) -> None:
    """Refuse settings no backend can honour, naming the fix, before any run starts."""
    if backend not in BACKENDS:
        raise ConfigError(f"--backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if jobs is not None and jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {jobs}")
    if not 0.0 <= gpus_per_run < float("inf"):
        raise ConfigError(f"--gpus-per-run must be a number >= 0, got {gpus_per_run}")
    if backend == "process" and (address is not None or gpus_per_run > 0):
        raise ConfigError(
            "--address and --gpus-per-run are for --backend ray; with the process backend "
            "each run uses the device its settings name"
        )
    if address is not None and jobs is not None:
        raise ConfigError(
            "--jobs sizes a local Ray instance; the cluster at --address runs as many runs as "
            "it has CPUs: leave out --jobs"
        )
    on_gpu = [c.out for c in configs if c.device.startswith("cuda")]
    if backend == "ray" and gpus_per_run == 0 and on_gpu:
        raise ConfigError(
            f"{len(on_gpu)} runs ask for --device cuda (e.g. {on_gpu[0]}) and Ray gives a run "
            "no GPU unless it reserves one: pass --gpus-per-run (0.25 shares a GPU among 4)"
        )
    folders: set[str] = set()
    for config in configs:
        folder = os.path.abspath(config.out)
        if folder in folders:
            raise ConfigError(
                f"two runs of the sweep share the folder {config.out}: give each its own out"
            )
        folders.add(folder)


class RandomPolicy:
    """Uniformly random actions, with :meth:`predict` as SB3 policies have it.

    Example:
        >>> import gymnasium as gym
        >>> policy = RandomPolicy(gym.spaces.Discrete(2), seed=0)
        >>> policy.predict(np.zeros((3, 4)))[0].shape
        (3,)
    """

    def __init__(self, action_space: Any, *, seed: int) -> None:
        self.action_space = action_space
        self.action_space.seed(seed)

    def predict(self, observation: np.ndarray, deterministic: bool = True) -> tuple[Any, None]:
        """One random action per row of ``observation``."""
        return np.stack([self.action_space.sample() for _ in range(len(observation))]), None


def random_policy_return(env_id: str, *, goal: str, num_episodes: int, seed: int) -> float:
    """Mean return under ``goal`` of uniformly random actions, as runs are evaluated.

    The evaluation is the one of a run of ``seed`` (``num_episodes`` episodes from seed
    ``10_000 + seed``), so the random policy's score sits on the runs' own scale.
    """
    from agents.evaluate import evaluate_policy_returns
    from hfrl_gym.envs import make_env

    env = make_env(env_id)
    policy = RandomPolicy(env.action_space, seed=seed)
    env.close()
    result = evaluate_policy_returns(
        policy, env_id, num_episodes=num_episodes, seed=10_000 + seed, goal=goal
    )
    return result.goal_mean


def normalised_return(value: float, *, random: float, reference: float) -> float:
    """B-Pref's normalised return: 0 is the random policy, 1 the reference (PPO on the reward).

    Example:
        >>> normalised_return(-150.0, random=-1200.0, reference=-140.0)
        0.9905660377358491
        >>> normalised_return(5.0, random=5.0, reference=5.0)
        nan
    """
    span = reference - random
    if span == 0:
        return float("nan")
    return (value - random) / span

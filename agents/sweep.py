"""Matrices of runs (envs x teachers x goals x seeds): run them, resume them, tabulate them.

Each run is a run folder of its own. A finished run whose ``config.json`` equals the settings
asked for is never repeated; an interrupted one is resumed; one made with other settings is
run again. Tables are built from the folders, so a run that failed or was lost is reported and
can be rerun alone.

Classes:
    RandomPolicy: uniformly random actions (the bottom of the normalised-return scale).
    SweepResult: one run's summary, or why it failed.

Functions:
    run_config: run (or reuse, or resume) one config in this process.
    run_sweep: run configs in parallel worker processes.
    random_policy_return: the true (or goal) return of :class:`RandomPolicy`.
    normalised_return: B-Pref's ``(R - R_random) / (R_reference - R_random)``.
"""

from __future__ import annotations

import json
import os
import shutil
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.config import TrainConfig


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


def run_config(config: TrainConfig) -> dict[str, Any]:
    """Run ``config`` in this process, reusing a finished run of the same settings.

    A folder holding a finished run of exactly these settings is reused; an interrupted one
    (``state.json``, same settings) is resumed; a run of other settings is replaced.
    """
    from agents.rlhf_loop import train

    run = Path(config.out)
    summary_path, config_path, state_path = (
        run / n for n in ("summary.json", "config.json", "state.json")
    )
    # settings added since a run was made read as their defaults, which behave as before
    same = config_path.exists() and TrainConfig.from_json(config_path.read_text()) == config
    if same and summary_path.exists():
        return json.loads(summary_path.read_text())
    resume = same and state_path.exists()
    if run.exists() and not resume:
        shutil.rmtree(run)
    return train(config, resume=resume, show_progress=False)


def _worker(config: TrainConfig) -> SweepResult:
    os.environ.setdefault("MUJOCO_GL", "egl")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import torch

    torch.set_num_threads(1)
    try:
        return SweepResult(config, run_config(config))
    except Exception as error:  # a failed run is reported, the sweep goes on
        last = traceback.format_exception_only(error)[-1].strip()
        return SweepResult(config, None, last)


def run_sweep(
    configs: Sequence[TrainConfig],
    *,
    jobs: int,
    on_result: Callable[[SweepResult], None] | None = None,
) -> list[SweepResult]:
    """Run every config, ``jobs`` at a time in worker processes; results in the given order."""
    results: dict[int, SweepResult] = {}
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(_worker, config): index for index, config in enumerate(configs)}
        for future in as_completed(futures):
            result = future.result()
            results[futures[future]] = result
            if on_result is not None:
                on_result(result)
    return [results[index] for index in range(len(configs))]


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

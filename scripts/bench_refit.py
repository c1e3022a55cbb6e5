"""Benchmark reward refits: full refits against bounded warm refits, time and reward quality.

For each env, one pool of clips of varied quality (a scripted controller that acts at random
with chances 0, 0.3, 0.6 and 1, or a random policy where the suite has no controller), 2,000
oracle-labelled pairs of it, and fresh clips recorded with another seed, never labelled.
For each refit mode one model goes through one run: a 1,000-label run of 10 rounds of 100
labels (``--label-decay 1``), refit after each round, then one more refit at 2,000 answers
(1,000 new at once). Modes: ``full`` (the loop's default, ``--refit full``: warm weights,
epochs over every answer until early stopping), ``bounded`` (``--refit bounded``,
``RefitBudget``: steps in proportion to the new answers) and, with ``--modes``, ``scratch``
(fresh weights at every refit).

Reported per refit: seconds, optimiser steps, and the Spearman rank correlation of the
ensemble's clip returns with the true returns of the fresh clips; per mode, the share of
fit time in the 1,000-label run: its 10 refits' seconds over those plus the run's PPO time,
taken as ``--run-steps`` at ``--steps-per-s`` (default: 1M steps at 200 env steps/s,
HalfCheetah's RLHF rate on this 2-core machine in docs/BENCHMARKS.md, CPU against CUDA).
Progress goes to stderr as each refit ends.

Usage: ``python scripts/bench_refit.py [--envs hfrl/CartPole-v0 hfrl/Pendulum-v0]``
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np
import torch
from _bench import add_write_option, header, publish, table

from agents.bc import heuristic_controller, record_demonstrations
from agents.diagnostics import spearman
from agents.reward_fitter import new_reward_model
from hfrl_gym.answers import Answer
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.envs import make_env
from hfrl_gym.errors import ConfigError
from hfrl_gym.queries import uniform_pairs
from hfrl_gym.recording import record_random_clips
from hfrl_gym.reward_model import FitConfig, RefitBudget, RewardModel
from hfrl_gym.teachers import make_teacher

CLIP_STEPS = 25  # hfrl train's default --clip-steps
RUN_COUNTS = [*range(100, 1001, 100), 2000]
SHOWN = (100, 500, 1000, 2000)
MODES = {
    "full": FitConfig(),
    "bounded": FitConfig(budget=RefitBudget()),
    "scratch": FitConfig(warm_start=False),
}


def varied_clips(env_id: str, num_clips: int, seed: int) -> list[Clip]:
    """Clips from good to random: the scripted controller at four random-action chances."""
    try:
        heuristic_controller(env_id)
    except ConfigError:  # no controller: a random policy
        return record_random_clips(
            env_id, num_clips=num_clips, clip_num_steps=CLIP_STEPS, seed=seed
        )
    clips: list[Clip] = []
    for k, chance in enumerate((0.0, 0.3, 0.6, 1.0)):
        clips += record_demonstrations(
            env_id,
            num_clips=num_clips // 4,
            clip_num_steps=CLIP_STEPS,
            seed=seed + 1000 * k,
            random_action_prob=chance,
        )
    return clips


def quality(model: RewardModel, fresh: list[Clip]) -> float:
    """Spearman correlation of the model's clip returns with the true ones, on fresh clips."""
    true = np.array([clip.true_rewards.sum() for clip in fresh])
    return spearman(model.clip_returns(fresh), true)


def run_schedule(
    env_id: str,
    labelled: list[tuple[ClipPair, Answer]],
    fresh: list[Clip],
    counts: list[int],
    config: FitConfig,
) -> list[dict[str, float]]:
    """Refit one model at each answer count; each refit's seconds, steps and quality."""
    model = new_reward_model(env_id, make_env(env_id), num_members=3, device="cpu", seed=0)
    rng = np.random.default_rng(0)
    rows = []
    for count in counts:
        report = model.fit(labelled[:count], rng, config)
        print(f"{env_id} {count} {report.seconds:.2f}s {report.gradient_steps}", file=sys.stderr)
        rows.append(
            {
                "answers": count,
                "seconds": report.seconds,
                "steps": report.gradient_steps,
                "spearman": quality(model, fresh),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--envs", nargs="+", default=["hfrl/CartPole-v0", "hfrl/Pendulum-v0"])
    parser.add_argument("--modes", nargs="+", default=["full", "bounded"], choices=list(MODES))
    parser.add_argument("--run-steps", type=int, default=1_000_000)
    parser.add_argument("--steps-per-s", type=float, default=200.0)
    add_write_option(parser, "refit")
    args = parser.parse_args()
    torch.set_num_threads(1)
    growth_rows, run_rows = [], []
    for env_id in args.envs:
        pool, fresh = varied_clips(env_id, 1200, seed=0), varied_clips(env_id, 400, seed=7)
        rng = np.random.default_rng(1)
        pairs = [ClipPair(pool[i], pool[j]) for i, j in uniform_pairs(pool, RUN_COUNTS[-1], rng)]
        answers = make_teacher("oracle", rng=rng).label(pairs)
        labelled = list(zip(pairs, answers, strict=True))
        results = {
            mode: run_schedule(env_id, labelled, fresh, RUN_COUNTS, MODES[mode])
            for mode in args.modes
        }
        base = results[args.modes[0]]
        for mode, rows in results.items():
            for row, base_row in zip(rows, base, strict=True):
                if row["answers"] not in SHOWN:
                    continue
                growth_rows.append(
                    {
                        "env": env_id,
                        "refit": mode,
                        "answers": row["answers"],
                        "s": f"{row['seconds']:.2f}",
                        f"s / {args.modes[0]}": f"{row['seconds'] / base_row['seconds']:.2f}",
                        "steps": row["steps"],
                        "spearman (fresh clips)": f"{row['spearman']:.3f}",
                    }
                )
            run = rows[:-1]  # the 1,000-label run
            fit_s = sum(row["seconds"] for row in run)
            ppo_s = args.run_steps / args.steps_per_s
            run_rows.append(
                {
                    "env": env_id,
                    "refit": mode,
                    "refits": len(run),
                    "fit s": f"{fit_s:.1f}",
                    "share of run": f"{fit_s / (fit_s + ppo_s):.1%}",
                    "largest refit s": f"{max(row['seconds'] for row in run):.2f}",
                    "spearman after the last": f"{run[-1]['spearman']:.3f}",
                }
            )
    counts = ", ".join(map(str, RUN_COUNTS[:-1]))
    text = (
        header("Reward refits: full against bounded (scripts/bench_refit.py)")
        + f"\n{table(growth_rows)}\n\n"
        + f"1,000-label run: refits at {counts} answers; PPO time\n"
        + f"{args.run_steps:,} steps at {args.steps_per_s:g} steps/s\n\n"
        + table(run_rows)
    )
    publish(text, args)


if __name__ == "__main__":
    main()

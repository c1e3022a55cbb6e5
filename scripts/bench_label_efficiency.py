"""Label efficiency of RLHF against its controls, and the six B-Pref teachers.

For each env, with the same command and budget for every run:
- RLHF from oracle labels, and the baselines PPO on the true reward, on a constant reward
  (+1) and on a randomly initialised reward network, over ``--seeds`` seeds;
- the six B-Pref teacher presets (RLHF), over ``--bpref-seeds`` seeds.

Targets (the issue's): CartPole mean true return >= 475 with <= 100 labels and <= 100k steps
while the constant-reward control stays far below; Pendulum >= -180 mean with no seed below
-300 (200 labels, 50k steps); RLHF wall time <= 1.3x PPO on the true reward.

The tables and a figure replace the section between the ``bench:label-efficiency`` markers
in docs/BENCHMARKS.md (``--no-write``: print only). Runs go in ``--out`` (one run folder
each; an existing finished run is reused when its settings are the same, and an interrupted
one resumed; a run made with other settings is run again).

Usage: ``python scripts/bench_label_efficiency.py [--seeds 5] [--jobs 2] [--envs cartpole]``
"""

from __future__ import annotations

import argparse
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

BUDGETS = {
    "cartpole": {"env": "hfrl/CartPole-v0", "labels": 100, "steps": 100_000},
    "pendulum": {"env": "hfrl/Pendulum-v0", "labels": 200, "steps": 50_000},
}
CONTROLS = ("learned", "true", "constant", "random")
PRESETS = ("oracle", "noisy", "mistake", "skip", "myopic", "equal")
REPO = Path(__file__).resolve().parent.parent


def run_one(job: dict) -> dict:
    """Train one configuration in this (worker) process; reuse a finished run folder."""
    os.environ.setdefault("MUJOCO_GL", "egl")
    import torch

    torch.set_num_threads(1)
    from agents.config import TrainConfig
    from agents.sweep import run_config

    config = TrainConfig(
        env=job["env"],
        teacher=job["teacher"],
        reward=job["reward"],
        labels=job["labels"] if job["reward"] == "learned" else 0,
        steps=job["steps"],
        seed=job["seed"],
        out=job["out"],
        device=job["device"],
        video=False,
    ).validate()
    return {**run_config(config), **job}  # job's keys name it


def jobs_for(name: str, args: argparse.Namespace) -> list[dict]:
    budget = BUDGETS[name]
    jobs = []
    for seed in range(args.seeds):
        for reward in CONTROLS:
            jobs.append({**budget, "reward": reward, "teacher": "oracle", "seed": seed})
    for seed in range(args.bpref_seeds):
        for preset in PRESETS[1:]:  # the oracle runs are the RLHF runs above
            jobs.append({**budget, "reward": "learned", "teacher": preset, "seed": seed})
    for job in jobs:
        tag = job["reward"] if job["reward"] != "learned" else f"rlhf-{job['teacher']}"
        job["out"] = str(args.out / name / f"{tag}-s{job['seed']}")
        job["device"] = args.device
        job["name"] = name
    return jobs


def summarise(results: list[dict], name: str, args: argparse.Namespace) -> str:
    rows = [r for r in results if r["name"] == name]
    budget = BUDGETS[name]
    lines = [
        f"#### {budget['env']}: {budget['labels']} labels, {budget['steps']:,} env steps",
        "",
        "| reward | seeds | true return mean | per seed | wall s (mean) |",
        "|---|---|---|---|---|",
    ]
    wall = {}
    for reward in CONTROLS:
        runs = [r for r in rows if r["reward"] == reward and r["teacher"] == "oracle"]
        if not runs:
            continue
        returns = [r["true_return_mean"] for r in runs]
        wall[reward] = float(np.mean([r["wall_seconds"] for r in runs]))
        label = "RLHF (oracle)" if reward == "learned" else f"PPO on {reward} reward"
        lines.append(
            f"| {label} | {len(runs)} | {np.mean(returns):.1f} | "
            f"{', '.join(f'{x:.0f}' for x in returns)} | {wall[reward]:.0f} |"
        )
    if "learned" in wall and "true" in wall:
        lines += [
            "",
            f"Wall time of RLHF / PPO on the true reward: "
            f"{wall['learned'] / wall['true']:.2f} (target <= 1.3).",
        ]
    lines += [
        "",
        "| teacher | seeds | true return mean | reward val accuracy |",
        "|---|---|---|---|",
    ]
    for preset in PRESETS:
        runs = [r for r in rows if r["reward"] == "learned" and r["teacher"] == preset]
        runs = [r for r in runs if r["seed"] < max(args.bpref_seeds, 1)]
        if runs:
            accuracy = [
                r["reward_val_accuracy"] for r in runs if r["reward_val_accuracy"] is not None
            ]
            mean_return = np.mean([r["true_return_mean"] for r in runs])
            lines.append(
                f"| {preset} | {len(runs)} | {mean_return:.1f} | {np.mean(accuracy):.2f} |"
            )
    return "\n".join(lines)


def figure(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from agents.run_folder import RunFolder

    names = sorted({r["name"] for r in results})
    fig, axes = plt.subplots(1, len(names), figsize=(6.4 * len(names), 4.4), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        for reward in CONTROLS:
            runs = [
                r
                for r in results
                if r["name"] == name and r["reward"] == reward and r["teacher"] == "oracle"
            ]
            if not runs:
                continue
            curves = [RunFolder(r["out"]).read_metrics() for r in runs]
            steps = [m["env_steps"] for m in curves[0]]
            means = np.array([[m["true_return_mean"] for m in c] for c in curves])
            label = "RLHF (oracle)" if reward == "learned" else f"{reward} reward"
            (line,) = ax.plot(steps, means.mean(axis=0), marker="o", label=label)
            ax.fill_between(
                steps, means.min(axis=0), means.max(axis=0), alpha=0.15, color=line.get_color()
            )
        ax.set_title(f"{BUDGETS[name]['env']} ({len(curves)} seeds: mean, min-max)")
        ax.set_xlabel("env steps")
        ax.set_ylabel("true return")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    import sys

    sys.path.insert(0, str(REPO / "scripts"))
    from _bench import header, write_section

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--envs", nargs="+", choices=sorted(BUDGETS), default=sorted(BUDGETS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--bpref-seeds", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "bench_label_efficiency")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    jobs = [job for name in args.envs for job in jobs_for(name, args)]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = []
        for result in pool.map(run_one, jobs):
            results.append(result)
            print(
                f"{result['out']}: true return {result['true_return_mean']:.1f} "
                f"({result['wall_seconds']:.0f} s)",
                flush=True,
            )
    figure_path = REPO / "docs" / "images" / "label_efficiency.png"
    figure_path.parent.mkdir(parents=True, exist_ok=True)
    figure(results, figure_path)
    text = "\n\n".join(
        [header("Label efficiency (scripts/bench_label_efficiency.py)")]
        + [summarise(results, name, args) for name in args.envs]
        + ["![true return against env steps](images/label_efficiency.png)"]
    )
    print(text)
    if not args.no_write:
        write_section("label-efficiency", text)


if __name__ == "__main__":
    main()

"""Each learner on a task's true reward, round by round: which algorithm is strong there first?

The robust-learning benchmark scores RLHF against the same algorithm trained on the true
reward, so a task's declared algorithm (``bench_robust.py``'s ``BUDGETS``) must solve its
fixed-horizon task on the true reward within the budget. Each row runs ``hfrl train --env ENV
--algo ALGO --reward true --labels 0 --steps N --seed S --no-video`` (in a fresh process, one
run at a time) and reads the true return after each round, a tenth of the steps (10
deterministic episodes), from the run's ``metrics.csv``.

Usage: ``python scripts/bench_learners.py [--rows NAME ...] [--steps N] [--write]``

Functions:
    run_row: train one row's run and read its per-round true returns.
    main: the command line.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

from _bench import add_write_option, header, publish, table

REPO = Path(__file__).resolve().parent.parent
ROWS = {
    "mcc-ppo": ("hfrl/MountainCarContinuous-v0", "ppo", 200_000),
    "mcc-sac": ("hfrl/MountainCarContinuous-v0", "sac", 50_000),
    "ip-sac": ("hfrl/InvertedPendulum-v0", "sac", 50_000),
    "acrobot-ppo": ("hfrl/Acrobot-v0", "ppo", 200_000),
    "acrobot-dqn": ("hfrl/Acrobot-v0", "dqn", 200_000),
}
"""Row name -> (env, algorithm, env steps)."""


def run_row(env: str, algo: str, steps: int, *, seed: int, out: Path) -> list[float]:
    """The true return after each round of ``hfrl train --reward true`` with ``algo``."""
    command = [
        sys.executable, "-m", "human_ui.cli", "train", "--env", env, "--algo", algo,
        "--reward", "true", "--labels", "0", "--steps", str(steps), "--seed", str(seed),
        "--out", str(out), "--no-video", "--no-progress",
    ]  # fmt: skip
    subprocess.run(command, cwd=REPO, check=True)
    with (out / "metrics.csv").open() as handle:
        return [float(row["true_return_mean"]) for row in csv.DictReader(handle)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", nargs="+", choices=sorted(ROWS), default=list(ROWS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, help="every row's env steps (default: its own)")
    add_write_option(parser, "learners")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_learners_") as folder:
        for name in args.rows:
            env, algo, steps = ROWS[name]
            steps = args.steps or steps
            returns = run_row(env, algo, steps, seed=args.seed, out=Path(folder) / name)
            rows.append({
                "env": f"`{env}`",
                "algorithm": algo.upper(),
                "env steps": f"{steps:,}",
                "true return after each round": ", ".join(f"{r:.0f}" for r in returns),
            })  # fmt: skip
    title = f"Each learner on the true reward, seed {args.seed} (scripts/bench_learners.py)"
    publish(f"{header(title)}\n{table(rows)}", args)


if __name__ == "__main__":
    main()

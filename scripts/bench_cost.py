"""RLHF's wall time against PPO on the true reward: ``hfrl train`` timed, same env, steps, seed.

Each row runs ``hfrl train --reward true`` and the RLHF run of the same env, labels, steps and
seed, alone and in turn, ``--repeat`` times, each in a fresh process on one torch thread
(``hfrl train``'s default), and reports both wall times, the true returns and the ratio of
the mean wall times (target <= 1.3). Rows: CartPole (50 labels, 100,000 steps), Pendulum (200
labels, 50,000 steps), Pendulum with ``--refit bounded``; ``--steps`` for a quick check.

Usage: ``python scripts/bench_cost.py [--repeat 2] [--seed 0] [--steps N] [--write]``

Functions:
    timed_run: the wall seconds and true return of one ``hfrl train`` run.
    main: the command line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _bench import add_write_option, header, publish, table

REPO = Path(__file__).resolve().parent.parent
ROWS = (
    ("hfrl/CartPole-v0", 50, 100_000, ()),
    ("hfrl/Pendulum-v0", 200, 50_000, ()),
    ("hfrl/Pendulum-v0", 200, 50_000, ("--refit", "bounded")),
)


def timed_run(argv: list[str], out: Path) -> tuple[float, float]:
    """Wall seconds of ``hfrl train ARGV --out OUT`` (a fresh folder) and its true return."""
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "human_ui.cli", "train", *argv, "--out", str(out)]
    start = time.perf_counter()
    subprocess.run([*command, "--no-video", "--no-progress"], cwd=REPO, check=True)
    seconds = time.perf_counter() - start
    return seconds, float(json.loads((out / "summary.json").read_text())["true_return_mean"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=2, help="runs of each, in turn")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, help="every row's env steps (default: its own)")
    add_write_option(parser, "cost")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_cost_") as folder:
        for env, labels, steps, extra in ROWS:
            steps = args.steps or steps
            common = ["--env", env, "--labels", str(labels), "--steps", str(steps)]
            common += ["--seed", str(args.seed), *extra]
            runs: dict[str, list[tuple[float, float]]] = {"true": [], "rlhf": []}
            for _ in range(args.repeat):  # in turn, so a change of load hits both
                runs["true"].append(timed_run([*common, "--reward", "true"], Path(folder) / "t"))
                runs["rlhf"].append(timed_run(common, Path(folder) / "r"))
            cells = {
                kind: ", ".join(f"{s:.1f} s" for s, _ in done) + f" ({done[-1][1]:.1f})"
                for kind, done in runs.items()
            }
            mean = {kind: sum(s for s, _ in done) / len(done) for kind, done in runs.items()}
            rows.append({
                "env": f"`{env}`" + (f", `{' '.join(extra)}`" if extra else ""),
                "labels, steps": f"{labels}, {steps:,}",
                "PPO on the true reward": cells["true"],
                "RLHF": cells["rlhf"],
                "ratio (target <= 1.3)": f"{mean['rlhf'] / mean['true']:.2f}",
            })  # fmt: skip
    title = "RLHF's cost against PPO on the true reward (scripts/bench_cost.py)"
    publish(f"{header(title)}\n{table(rows)}", args)


if __name__ == "__main__":
    main()

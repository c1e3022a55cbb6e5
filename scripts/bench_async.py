"""``hfrl train --async`` with a simulated person: who waits for whom, and what it learns.

A simulated person (``agents.simulated_person``: the oracle teacher, answering the run's store
from its own thread and connection, each answer after a uniform 2-5 s) labels while
``train_async`` trains PPO, at the declared budgets of scripts/bench_robust.py (CartPole 50
labels and 100k env steps, Pendulum 200 labels and 50k). Measured, per run:

- the person's wait for a new pair after each answer, after the first pair
  (target: never more than 1 s while the label budget is not all posted);
- PPO's wait for answers: before the first fit (planned: it has no reward to learn from, and
  waits for the synchronous plan's first round, ``RunPlan.labels[0]``: 20 CartPole answers,
  81 Pendulum ones) and after it (target: never; PPO's pauses between rollouts are reported
  with their cause: checkpoints, handovers, posting);
- the final true return, against the synchronous runs' min-max over seeds 0, 1, 2, 137 and
  912 at the same budgets with the oracle teacher (``--sync-root``, made by
  ``scripts/bench_robust.py``, read from their ``summary.json``; not rerun).

With ``--write`` (or its old name ``--write-docs``) the table replaces the section between the
``bench:async`` markers in docs/BENCHMARKS.md (``--section NAME``: another section's).

Usage: ``nice -n 10 python scripts/bench_async.py --envs cartpole pendulum --seeds 0``
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from _bench import add_write_option, header, publish, table  # noqa: E402

from agents.async_train import train_async  # noqa: E402
from agents.config import TrainConfig  # noqa: E402
from agents.simulated_person import SimulatedPerson  # noqa: E402
from hfrl_gym.cli import limit_torch_threads  # noqa: E402

BUDGETS = {  # env short name -> (env id, labels, env steps): bench_robust.py's declared ones
    "cartpole": ("hfrl/CartPole-v0", 50, 100_000),
    "pendulum": ("hfrl/Pendulum-v0", 200, 50_000),
}
SYNC_SEEDS = (0, 1, 2, 137, 912)


def sync_returns(root: Path, env: str, labels: int, steps: int) -> list[float]:
    """True returns of the synchronous oracle runs at the same budgets (refused otherwise)."""
    returns = []
    for seed in SYNC_SEEDS:
        folder = root / env / f"oracle-s{seed}"
        config = json.loads((folder / "config.json").read_text())
        if (config["labels"], config["steps"], config["teacher"]) != (labels, steps, "oracle"):
            raise SystemExit(f"{folder} is not an oracle run at {labels} labels and {steps} steps")
        returns.append(float(json.loads((folder / "summary.json").read_text())["true_return_mean"]))
    return returns


def run_one(name: str, seed: int, out: Path, seconds: tuple[float, float]) -> dict:
    """One asynchronous run with a simulated person; its figures."""
    env, labels, steps = BUDGETS[name]
    folder = out / name / f"s{seed}"
    if folder.exists():
        shutil.rmtree(folder)  # a fresh run: the person's waits are this run's
    config = TrainConfig(
        env=env,
        teacher="store",
        asynchronous=True,
        labels=labels,
        steps=steps,
        seed=seed,
        out=str(folder),
        video=False,
    ).validate()
    person = SimulatedPerson(
        folder / "store.sqlite",
        env_id=env,
        clip_num_steps=config.clip_steps,
        rng=np.random.default_rng(1_000 + seed),
        seconds_per_answer=seconds,
    ).start()
    started = time.monotonic()
    summary = train_async(config, show_progress=False, say=lambda line: print(f"  {line}"))
    wall_s = time.monotonic() - started
    log = person.stop()
    section = summary["asynchronous"]
    waits = log.waits_s
    return {
        "env": name,
        "seed": seed,
        "labels_answered": summary["labels_used"],
        "labels_budget": labels,
        "env_steps": summary["env_steps"],
        "wall_s": round(wall_s, 1),
        "refits": section["refits"],
        "handovers": section["handovers"],
        "person_waits": len(waits),
        "person_wait_median_s": round(statistics.median(waits), 3) if waits else None,
        "person_wait_max_s": round(max(waits), 3) if waits else None,
        "person_waits_over_1s": sum(w > 1.0 for w in waits),
        "ppo_first_answers_wait_s": section["first_answers_wait_s"],
        "ppo_longest_pause_s": section["longest_pause_between_rollouts_s"],
        "true_return": round(float(summary["true_return_mean"]), 1),
        "ending": section["ending"],
    }


def _against(value: float, low: float, high: float) -> str:
    """Where ``value`` lies against the synchronous range: inside, above or below it."""
    if value > high:
        return "above (better than every seed)"
    return "inside" if value >= low else "below"


def markdown(
    results: list[dict], sync: dict[str, list[float]], seconds: tuple[float, float]
) -> str:
    """The benchmark's section of docs/BENCHMARKS.md."""
    rows = []
    for r in results:
        low, high = min(sync[r["env"]]), max(sync[r["env"]])
        rows.append(
            {
                "env (seed)": f"{r['env']} ({r['seed']})",
                "labels answered / budget": f"{r['labels_answered']} / {r['labels_budget']}",
                "env steps": f"{r['env_steps']:,}",
                "wall s": r["wall_s"],
                "refits (handovers)": f"{r['refits']} ({r['handovers']})",
                "person's wait, median / max s (n; > 1 s)": (
                    f"{r['person_wait_median_s']} / {r['person_wait_max_s']} "
                    f"({r['person_waits']}; {r['person_waits_over_1s']})"
                ),
                "PPO: wait for first answers s": r["ppo_first_answers_wait_s"],
                "PPO: longest pause between rollouts s": r["ppo_longest_pause_s"],
                "true return": r["true_return"],
                "sync min-max (5 seeds)": f"{low:.1f} to {high:.1f}",
                "against sync": _against(r["true_return"], low, high),
            }
        )
    endings = "\n".join(f"- {r['env']} seed {r['seed']}: {r['ending']}." for r in results)
    return (
        header(
            "Asynchronous training with a simulated person "
            f"({seconds[0]}-{seconds[1]} s per answer)"
        )
        + "\n"
        + table(rows)
        + "\n\nHow each run ended (`summary.json`'s `asynchronous.ending`):\n\n"
        + endings
        + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--envs", nargs="+", choices=sorted(BUDGETS), default=sorted(BUDGETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "bench_async")
    parser.add_argument(
        "--sync-root", type=Path, default=REPO / "runs" / "bench_robust" / "explore-decay06"
    )
    parser.add_argument("--seconds-per-answer", nargs=2, type=float, default=[2.0, 5.0])
    add_write_option(parser, "async", "--write-docs")
    args = parser.parse_args()
    limit_torch_threads()
    seconds = (args.seconds_per_answer[0], args.seconds_per_answer[1])
    sync = {name: sync_returns(args.sync_root, name, *BUDGETS[name][1:]) for name in args.envs}
    results = []
    for name in args.envs:
        for seed in args.seeds:
            print(f"{name} seed {seed}: training with a simulated person ...", flush=True)
            results.append(run_one(name, seed, args.out, seconds))
            print(json.dumps(results[-1], indent=1), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"results": results, "sync": sync}, indent=1))
    publish(markdown(results, sync, seconds), args)


if __name__ == "__main__":
    main()

"""Learning that holds: the suite x the B-Pref teachers x goals x seeds, as normalised returns.

Every run is scored by B-Pref's normalised return, per seed:
``(R - R_random) / (R_reference - R_random)``, where ``R_random`` is uniformly random actions
evaluated as the runs are, and ``R_reference`` is the same algorithm, seed and env steps
trained on the reward itself (``--reward true`` for the task; ``--reward goal`` for an
alternative goal, scored by the goal's return). The controls (constant reward, a random reward
network) are scored the same way, so a method that only looks good next to a weak reference
shows it.

Budgets and algorithms are declared in ``BUDGETS`` before any run (the issue's caps: at most
200 labels and 200k env steps; CartPole 50 labels and 100k; Pendulum 200 labels and 50k).

Runs go in ``--out/<variant>/<env>/<tag>-s<seed>`` (references and controls in
``--out/reference``; ``<env>-<algo>`` for an algorithm other than PPO, ``--algo`` or declared);
a finished run with the same settings is reused, an interrupted one resumed, so the command can
be stopped and run again: a run that failed or was lost is listed under the tables, and running
the command again runs only what is not finished.

Where runs run (agents/sweep.py): ``--backend process`` (the default), ``--jobs`` at a time on
this machine, every usable core unless told (a run uses one); ``--backend ray``, one Ray task
per run (1 CPU, ``--gpus-per-run``), on a new local Ray instance or the cluster at
``--address`` (``pip install -e ".[ray]"``; on a cluster, ``--out`` on a filesystem every node
shares and the project installed on every node). ``--set KEY=VALUE`` changes a
``TrainConfig`` field of the RLHF runs only (an ablation: give it its own ``--variant``).
The tables replace the section between the ``bench:robust-<variant>`` markers in
docs/BENCHMARKS.md (``--section NAME`` for another; ``--no-write``: print only), and a figure
goes to docs/images/<section, hyphens as underscores>.png (robust_default.png).
``--compare V1 V2 ...`` runs nothing: it tabulates finished variants, and with ``--write``
puts the table between the ``bench:compare-V1-V2-...`` markers (or ``--section``'s).

Usage: ``python scripts/bench_robust.py --envs cartpole pendulum --seeds 0 1 2 --jobs 2``;
on a Ray cluster: ``python scripts/bench_robust.py --backend ray --address auto --out /shared/x``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from agents.config import ALGORITHMS, TrainConfig  # noqa: E402
from agents.sweep import (  # noqa: E402
    BACKENDS,
    SweepResult,
    normalised_return,
    random_policy_return,
    run_sweep,
)
from hfrl_gym.errors import HfrlError  # noqa: E402


@dataclass(frozen=True)
class Budget:
    """One env's declared budget: labels, env steps, algorithm, and its goals to teach."""

    env: str
    labels: int
    steps: int
    goals: tuple[str, ...]
    algorithm: str = "ppo"


BUDGETS = {
    "cartpole": Budget("hfrl/CartPole-v0", 50, 100_000, ("left",)),
    "pendulum": Budget("hfrl/Pendulum-v0", 200, 50_000, ("spin",)),
    "acrobot": Budget("hfrl/Acrobot-v0", 200, 200_000, ("tip_height", "spin"), "dqn"),
    "mountaincar": Budget(
        "hfrl/MountainCarContinuous-v0", 200, 50_000, ("left_hill", "rock"), "sac"
    ),
    "invertedpendulum": Budget("hfrl/InvertedPendulum-v0", 200, 50_000, ("right",), "sac"),
    "reacher": Budget("hfrl/Reacher-v0", 200, 200_000, ("avoid",)),
}
TEACHERS = ("oracle", "noisy", "mistake", "skip", "myopic", "equal")
REFERENCE_PINS = {"explore_fraction": 0.0, "label_decay": 0.8}
"""Label-schedule settings pinned for the references and controls (they use no labels)."""
CONTROLS = ("constant", "random")


def algorithm(args: argparse.Namespace, name: str) -> str:
    """The algorithm of ``name``'s runs: ``--algo``'s, or the env's declared one."""
    return getattr(args, "algo", None) or BUDGETS[name].algorithm


def env_folder(args: argparse.Namespace, name: str) -> str:
    """The folder of ``name``'s runs in a variant: ``<env>`` for PPO, ``<env>-<algo>``
    otherwise, so runs of two algorithms never replace each other."""
    algo = algorithm(args, name)
    return name if algo == "ppo" else f"{name}-{algo}"


def _config(budget: Budget, out: Path, **fields: object) -> TrainConfig:
    return TrainConfig(env=budget.env, steps=budget.steps, out=str(out), video=False, **fields)


def _run(
    args: argparse.Namespace, name: str, kind: str, tag: str, seed: int, **fields: object
) -> tuple[str, str, str, int, TrainConfig]:
    """One run of the matrix; RLHF runs get the env's label budget and ``--set``'s changes."""
    budget = BUDGETS[name]
    folder = args.out / (args.variant if kind == "rlhf" else "reference") / env_folder(args, name)
    config = TrainConfig(
        env=budget.env,
        steps=budget.steps,
        seed=seed,
        out=str(folder / f"{tag}-s{seed}"),
        video=False,
        algo=algorithm(args, name),
        **fields,
    )
    if kind == "rlhf":
        config = dataclasses.replace(config, labels=budget.labels, **dict(args.set))
    else:  # settings of the labels change nothing without labels: pinned, so references
        config = dataclasses.replace(config, **REFERENCE_PINS)  # outlive a change of default
    return name, kind, tag, seed, config.validate()


def plan(args: argparse.Namespace) -> list[tuple[str, str, str, int, TrainConfig]]:
    """``(env name, kind, tag, seed, config)`` of every run; kind is rlhf, reference, control."""
    runs = []
    for name in args.envs:
        for seed in args.seeds:
            runs.append(_run(args, name, "reference", "true", seed, reward="true", labels=0))
            for control in CONTROLS:
                runs.append(_run(args, name, "control", control, seed, reward=control, labels=0))
            for teacher in args.teachers:
                runs.append(_run(args, name, "rlhf", teacher, seed, teacher=teacher))
            for goal in BUDGETS[name].goals if args.goals else ():
                tag = f"goal-{goal}"
                runs.append(_run(args, name, "reference", tag, seed, reward="goal", goal=goal,
                                 labels=0))  # fmt: skip
                runs.append(_run(args, name, "rlhf", tag, seed, goal=goal))
    return runs


def _mean(values: list[float]) -> float:
    """The mean of the values that are numbers (a failed run's is NaN); NaN when none is."""
    numbers = [v for v in values if not math.isnan(v)]
    return float(np.mean(numbers)) if numbers else math.nan


def _reference_tag(goal: str) -> str:
    """The tag of the reference run a goal's runs are normalised against: PPO (or the env's
    algorithm) on the true reward for the task, on the goal's reward for an alternative."""
    return "true" if goal == "task" else f"goal-{goal}"


def _score(result: SweepResult) -> float:
    if result.summary is None:
        return math.nan
    return float(result.summary["goal_return_mean"])


def tables(runs: list, results: list[SweepResult], args: argparse.Namespace) -> tuple[str, dict]:
    """Markdown tables of normalised returns and the numbers behind the figure."""
    by_key = {(n, k, t, s): r for (n, k, t, s, _), r in zip(runs, results, strict=True)}
    lines, figure = [], {}
    for name in args.envs:
        budget = BUDGETS[name]
        lines += [
            f"#### {budget.env}: {budget.labels} labels, {budget.steps:,} env steps, "
            f"{algorithm(args, name).upper()}",
            "",
            "| run | normalised return, mean | per seed | raw return per seed |",
            "|---|---|---|---|",
        ]
        rows = [(t, "rlhf", "task") for t in args.teachers]
        rows += [(c, "control", "task") for c in CONTROLS]
        rows += [("true", "reference", "task")]
        for goal in budget.goals if args.goals else ():
            rows += [(f"goal-{goal}", "rlhf", goal), (f"goal-{goal}", "reference", goal)]
        for tag, kind, goal in rows:
            norm, raw = [], []
            for seed in args.seeds:
                result = by_key[(name, kind, tag, seed)]
                reference = _score(by_key[(name, "reference", _reference_tag(goal), seed)])
                bottom = random_policy_return(
                    budget.env, goal=goal, num_episodes=result.config.eval_episodes, seed=seed
                )
                raw.append(_score(result))
                norm.append(normalised_return(raw[-1], random=bottom, reference=reference))
            label = {"rlhf": f"RLHF, {tag}", "control": f"{tag} reward (control)"}.get(
                kind,
                f"{algorithm(args, name).upper()} on the "
                f"{'true reward' if goal == 'task' else goal + ' goal'}",
            )
            if kind == "rlhf" and goal != "task":
                label = f"RLHF, oracle judging {goal}"
            figure[(name, label)] = norm
            lines.append(
                f"| {label} | {_mean(norm):.2f} | {', '.join(f'{v:.2f}' for v in norm)} | "
                f"{', '.join(f'{v:.1f}' for v in raw)} |"
            )
        lines.append("")
    failed = [r for r in results if r.summary is None]
    if failed:
        lines.append("Failed runs: " + "; ".join(f"{r.config.out}: {r.error}" for r in failed))
    return "\n".join(lines), figure


def _columns(args: argparse.Namespace, name: str) -> list[tuple[str, str, str]]:
    """``(heading, run tag, goal)`` of each column of an ablation table: the teachers on the
    task, then with ``--goals`` the oracle judging each of the env's alternative goals."""
    columns = [(teacher, teacher, "task") for teacher in args.teachers]
    goals = BUDGETS[name].goals if args.goals else ()
    return columns + [(f"goal {goal}", f"goal-{goal}", goal) for goal in goals]


def compare(args: argparse.Namespace) -> str:
    """An ablation table from finished run folders: mean normalised return per variant.

    Reads ``--out/<variant>/<env>/<tag>-s<seed>/summary.json`` for each ``--compare``
    variant (run them first, each with its ``--variant`` and ``--set``), a teacher's tag on
    the task and, with ``--goals``, ``goal-<goal>`` scored by the goal's return against PPO
    trained on the goal; missing runs show as ``-``.
    """
    lines = []
    for name in args.envs:
        budget = BUDGETS[name]
        columns = _columns(args, name)
        lines += [
            f"#### {budget.env}: mean normalised return per teacher (per seed)",
            "",
            "| variant | " + " | ".join(heading for heading, _, _ in columns) + " | mean |",
            "|---|" + "---|" * (len(columns) + 1),
        ]
        bottoms = {
            (seed, goal): random_policy_return(budget.env, goal=goal, num_episodes=10, seed=seed)
            for seed in args.seeds
            for goal in {goal for _, _, goal in columns}
        }
        folder = env_folder(args, name)
        for variant in args.compare:
            cells, means = [], []
            for _, tag, goal in columns:
                key = "true_return_mean" if goal == "task" else "goal_return_mean"
                ref_tag = _reference_tag(goal)
                values = []
                for seed in args.seeds:
                    run = args.out / variant / folder / f"{tag}-s{seed}" / "summary.json"
                    ref = args.out / "reference" / folder / f"{ref_tag}-s{seed}" / "summary.json"
                    if not (run.exists() and ref.exists()):
                        values.append(math.nan)
                        continue
                    value = json.loads(run.read_text())[key]
                    reference = json.loads(ref.read_text())[key]
                    bottom = bottoms[seed, goal]
                    values.append(normalised_return(value, random=bottom, reference=reference))
                means.append(np.nanmean(values) if not np.isnan(values).all() else math.nan)
                seeds = ", ".join("-" if math.isnan(v) else f"{v:.2f}" for v in values)
                cells.append(f"{means[-1]:.2f} ({seeds})")
            if np.isnan(means).all():
                continue  # not run on this env
            lines.append(f"| {variant} | " + " | ".join(cells) + f" | {np.nanmean(means):.2f} |")
        lines.append("")
    return "\n".join(lines)


def draw(figure: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    envs = list(dict.fromkeys(name for name, _ in figure))
    fig, axes = plt.subplots(1, len(envs), figsize=(5.5 * len(envs), 4.6), squeeze=False)
    for ax, env in zip(axes[0], envs, strict=True):
        labels = [label for name, label in figure if name == env]
        for index, label in enumerate(labels):
            values = np.array(figure[(env, label)], dtype=float)
            ax.bar(index, _mean(list(values)), color="tab:blue" if "RLHF" in label else "tab:grey")
            ax.scatter(np.full(len(values), index), values, color="black", s=10, zorder=3)
        ax.axhline(1.0, color="tab:green", linestyle="--", linewidth=1)
        ax.axhline(0.0, color="grey", linewidth=1)
        ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize="small")
        ax.set_title(BUDGETS[env].env)
        ax.set_ylabel("normalised return (1 = the algorithm on the reward)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _setting(text: str) -> tuple[str, object]:
    key, _, value = text.partition("=")
    names = {f.name: f for f in dataclasses.fields(TrainConfig)}
    if key not in names:
        raise argparse.ArgumentTypeError(f"--set {key}: not a TrainConfig field")
    kind = str(names[key].type).split(" | ")[0]
    caster = {"int": int, "float": float, "bool": lambda v: v.lower() in ("1", "true")}.get(
        kind, str
    )
    return key, caster(value)


def main() -> None:
    from _bench import SectionError, add_write_option, header, markers, publish

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--envs", nargs="+", choices=sorted(BUDGETS), default=list(BUDGETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--teachers", nargs="+", choices=TEACHERS, default=list(TEACHERS))
    parser.add_argument("--goals", action="store_true", help="also teach the alternative goals")
    parser.add_argument("--variant", default="default", help="names the RLHF runs and section")
    parser.add_argument("--set", type=_setting, action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--algo", choices=ALGORITHMS, help="every run (references and controls too) with this "
        "algorithm in place of each env's declared one (BUDGETS); its runs in <env>-<algo>"
    )  # fmt: skip
    parser.add_argument(
        "--jobs", type=int, help="runs at a time (default: every usable core; a run uses one)"
    )
    parser.add_argument(
        "--backend", choices=BACKENDS, default="process", help="where runs run (default process)"
    )
    parser.add_argument(
        "--address", help="--backend ray: the cluster (auto, HOST:PORT, ray://HOST:10001); "
        "default a new local Ray instance"
    )  # fmt: skip
    parser.add_argument(
        "--gpus-per-run", type=float, default=0.0, help="--backend ray: GPUs each run reserves"
    )
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "bench_robust")
    parser.add_argument(
        "--no-write", action="store_true", help="runs: print only (they write unless told so)"
    )
    parser.add_argument(
        "--compare", nargs="+", metavar="VARIANT", help="tabulate finished variants, run nothing "
        "(written only with --write)"
    )  # fmt: skip
    add_write_option(parser, None, derived="robust-VARIANT; compare-V1-V2-... with --compare")
    args = parser.parse_args()
    if args.write and args.no_write:
        parser.error("--write and --no-write: give one")
    derived = "compare-" + "-".join(args.compare) if args.compare else f"robust-{args.variant}"
    args.section = args.section or derived
    writes = args.write if args.compare else not args.no_write
    try:
        if writes:
            markers(args.section)  # a bad name is refused before hours of runs
    except SectionError as error:
        parser.error(f"{error}; name the section with --section NAME")
    if args.compare:
        title = f"Ablation: variants {', '.join(args.compare)} (scripts/bench_robust.py)"
        publish(f"{header(title)}\n{compare(args)}", args)
        return
    runs = plan(args)
    print(f"{len(runs)} runs", flush=True)

    def report(result: SweepResult) -> None:
        outcome = "failed: " + str(result.error) if result.summary is None else (
            f"return {result.summary['goal_return_mean']:.1f}, "
            f"{result.summary['wall_seconds']:.0f} s"
        )  # fmt: skip
        print(f"{result.config.out}: {outcome}", flush=True)

    try:
        results = run_sweep(
            [config for *_, config in runs],
            backend=args.backend,
            jobs=args.jobs,
            address=args.address,
            gpus_per_run=args.gpus_per_run,
            on_result=report,
        )
    except HfrlError as error:
        parser.exit(2, f"error: {error}\n")
    failed = sum(result.summary is None for result in results)
    if failed:
        print(f"{failed} of {len(runs)} runs failed (listed below the tables); run the same "
              "command again to run only what is not finished", flush=True)  # fmt: skip
    text, figure = tables(runs, results, args)
    image = REPO / "docs" / "images" / f"{args.section.replace('-', '_')}.png"
    if not args.no_write:
        draw(figure, image)
    title = f"Normalised returns, variant `{args.variant}` (scripts/bench_robust.py)"
    settings = ", ".join(f"{k}={v}" for k, v in args.set) or "defaults"
    body = [header(title), f"RLHF settings: {settings}.", "", text,
            f"![normalised returns](images/{image.name})"]  # fmt: skip
    args.write = not args.no_write
    publish("\n".join(body), args)


if __name__ == "__main__":
    main()

"""``hfrl train``, ``hfrl report``, ``hfrl video`` and ``hfrl demo``.

Functions:
    main: parse ``argv`` (its first word is the sub-command) and run it.
    demo: the README's main job: a small RLHF run on Pendulum with a constant-reward control.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

from agents.answerers import Answerer, WindowFactory
from agents.config import TrainConfig, add_config_arguments, config_from_args
from agents.run_folder import RunFolder
from hfrl_gym.cli import positive_int, seed
from hfrl_gym.errors import ConfigError, HfrlError

DEMO_ENV = "hfrl/Pendulum-v0"
DEMO_BUDGETS = {  # (env steps, labels) per run; each learns in the demo's 3 minutes
    "hfrl/Pendulum-v0": (45_000, 200),
    "hfrl/CartPole-v0": (100_000, 100),
}
OTHER_DEMO_BUDGET = (100_000, 100)  # other envs: no promise it learns or fits 3 minutes


def _train(argv: list[str], *, window_answerer: WindowFactory | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="hfrl train",
        description="Train PPO (or SAC: --algo sac) on a reward learned from preferences "
        "(RLHF), or a baseline. "
        "Example: hfrl train --env hfrl/CartPole-v0 --teacher oracle --labels 100 "
        "--steps 100000 --seed 0 --out runs/x. With people answering (--teacher store or "
        "human), --async keeps PPO training while they label.",
    )
    parser.add_argument(
        "--resume",
        type=Path,
        metavar="RUN",
        help="continue the interrupted run in this folder (other flags ignored)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_config_arguments(parser)
    args = parser.parse_args(argv)

    def train(
        config: TrainConfig, *, show_progress: bool, answerer: Answerer | None, resume: bool = False
    ) -> dict[str, Any]:
        if config.asynchronous:  # PPO never waits for people (agents.async_loop)
            from agents.async_train import train_async as run
        else:
            from agents.rlhf_loop import train as run
        return run(config, resume=resume, show_progress=show_progress, answerer=answerer)

    def answerer(config: TrainConfig) -> Answerer | None:
        if config.teacher != "human" or window_answerer is None:
            return None
        return window_answerer(config.annotator, resume_command=f"hfrl train --resume {config.out}")

    if args.resume is not None:
        config = _resumed_config(RunFolder(args.resume).require())
        summary = train(
            config, resume=True, show_progress=not args.no_progress, answerer=answerer(config)
        )
    else:
        config = config_from_args(args)
        _check_new_out(RunFolder(config.out))
        summary = train(config, show_progress=not args.no_progress, answerer=answerer(config))
    print(json.dumps({k: v for k, v in summary.items() if k != "versions"}, indent=2))
    print(f"run folder: {config.out}")
    return 0


def _resumed_config(run: RunFolder) -> TrainConfig:
    """The config of the run in ``run``, checked; its ``out`` is where the folder is now."""
    data = run.read_json(run.config_path)
    try:
        config = TrainConfig.from_json(json.dumps(data))
        # the run is where it is now (copied or moved), not where config.json says it began
        return dataclasses.replace(config, out=str(run.root)).validate()
    except HfrlError as error:
        raise ConfigError(
            f"{run.config_path} is damaged: {error}; fix it or start a new run"
        ) from None


def _check_new_out(run: RunFolder) -> None:
    """Refuse an ``--out`` that holds a run, or files that are not a run's."""
    if run.state_path.exists():
        raise ConfigError(
            f"{run.root} already holds a run; resume it with `hfrl train --resume "
            f"{run.root}` or pass another --out"
        )
    if run.root.exists() and not run.root.is_dir():
        raise ConfigError(f"--out {run.root} is a file; pass a new or empty folder")
    foreign = run.foreign_entries()
    if foreign:
        raise ConfigError(
            f"--out {run.root} holds files that are not a run's ({', '.join(foreign[:3])}); pass "
            "a new or empty folder, so that the run's files are not mixed with others"
        )


def _report(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hfrl report", description="Figures of run folders.")
    parser.add_argument("runs", type=Path, nargs="+", help="run folders to compare")
    parser.add_argument("--out", type=Path, help="figure folder (default: RUNS[0]/figures)")
    args = parser.parse_args(argv)
    from agents.report import write_report

    out = args.out or args.runs[0] / "figures"
    for path in write_report(args.runs, out):
        print(path)
    return 0


def _video(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hfrl video", description="MP4 of a trained agent.")
    parser.add_argument("run", type=Path, help="run folder")
    parser.add_argument("--out", type=Path, help="output file (default: RUN/video.mp4)")
    parser.add_argument("--steps", type=positive_int, help="steps to film (default: the horizon)")
    parser.add_argument("--seed", type=seed, default=0, help="seed of the filmed episode")
    args = parser.parse_args(argv)
    from agents.video import write_policy_video

    out = write_policy_video(
        args.run, args.out or args.run / "video.mp4", num_steps=args.steps, seed=args.seed
    )
    print(out)
    return 0


def demo(
    out: Path, *, steps: int, labels: int, env: str = DEMO_ENV, show_progress: bool = True
) -> dict:
    """RLHF from oracle labels (Pendulum unless ``env``), the constant-reward control, a report.

    Pendulum, because its two runs take about 2 of the 3 minutes the demo may take on 2 CPU
    cores; CartPole at its benchmark budget (100 labels, 100k steps) learns too, in about 2.5
    (docs/BENCHMARKS.md), which leaves little room on a slower machine.
    """
    from agents.report import write_report
    from agents.rlhf_loop import train

    rlhf = TrainConfig(
        env=env,
        teacher="oracle",
        labels=labels,
        steps=steps,
        seed=0,
        out=str(out / "rlhf"),
        device="auto",
    ).validate()
    control = TrainConfig(
        env=env,
        reward="constant",
        labels=0,
        steps=steps,
        seed=0,
        out=str(out / "constant"),
        video=False,
    ).validate()
    summary = train(rlhf, show_progress=show_progress)
    control_summary = train(control, show_progress=show_progress)
    figures = write_report([out / "rlhf", out / "constant"], out / "figures")
    print(
        f"RLHF true return {summary['true_return_mean']:.1f} with {summary['labels_used']} "
        f"labels; constant-reward control {control_summary['true_return_mean']:.1f}"
    )
    print(f"report: {figures[-1]}")
    print(f"video:  {out / 'rlhf' / 'video.mp4'}")
    return summary


def _demo(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="hfrl demo",
        description="RLHF from scripted (oracle) labels with a constant-reward control, a "
        "report and a video. Budgets default per env: "
        + "; ".join(f"{env} {s:,} steps, {n} labels" for env, (s, n) in DEMO_BUDGETS.items())
        + "; other envs {:,} steps, {} labels".format(*OTHER_DEMO_BUDGET),
    )
    parser.add_argument("--env", default=DEMO_ENV, help=f"suite env id (default {DEMO_ENV})")
    parser.add_argument("--out", type=Path, default=Path("runs/demo"))
    parser.add_argument("--steps", type=int, default=None, help="env steps per run")
    parser.add_argument("--labels", type=int, default=None, help="label budget of RLHF")
    args = parser.parse_args(argv)
    default_steps, default_labels = DEMO_BUDGETS.get(args.env, OTHER_DEMO_BUDGET)
    steps = default_steps if args.steps is None else args.steps
    labels = default_labels if args.labels is None else args.labels
    from agents.rlhf_loop import plan_run

    # checked before anything is removed: the settings, and that the budget trains PPO at all
    plan_run(TrainConfig(env=args.env, labels=labels, steps=steps).validate())
    for sub in ("rlhf", "constant"):  # a new demo replaces the last one (only its own runs)
        folder = args.out / sub
        if (folder / "config.json").exists():
            shutil.rmtree(folder)
    demo(args.out, steps=steps, labels=labels, env=args.env)
    return 0


COMMANDS = {"report": _report, "video": _video, "demo": _demo}


def main(argv: list[str], *, window_answerer: WindowFactory | None = None) -> int:
    """Run the sub-command named by ``argv[0]`` with the rest of ``argv``.

    ``window_answerer(annotator)`` makes the comparison window's answerer for ``hfrl train
    --teacher human``; the command that composes the layers (``human_ui.cli``) hands it in.
    """
    if argv[0] == "train":
        return _train(argv[1:], window_answerer=window_answerer)
    return COMMANDS[argv[0]](argv[1:])

"""Figures comparing run folders (``hfrl report``).

Functions:
    write_report: the figure set of one or more runs, as PNG files.
    save_panels: draw each panel of a figure set into its own PNG.
    run_label: a short legend label of a run ("RLHF (oracle, 100 labels)", "true reward").
    spearman: rank correlation with tied values averaged (from ``agents.diagnostics``).

Figures:
    true_return.png       true return against env steps, every run side by side
    learned_vs_true.png   learned against true return of the stored clips (RLHF runs)
    val_accuracy.png      reward-model validation accuracy against labels used
    labels_per_round.png  labels answered in each round
    reward_tracking.png   per round: rank correlation of learned and true return over the
                          round's clips, and the learned reward's drift between refits
    answer_shares.png     per round: the shares of answers that were ties and skips
    report.png            the six together
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from agents.diagnostics import spearman
from agents.run_folder import RunFolder
from hfrl_gym.errors import ConfigError

FIGURES = (
    "true_return",
    "learned_vs_true",
    "val_accuracy",
    "labels_per_round",
    "reward_tracking",
    "answer_shares",
)


def run_label(config: dict) -> str:
    """Legend label of a run from its config.

    Example:
        >>> run_label({"reward": "learned", "teacher": "oracle", "labels": 100, "seed": 0})
        'RLHF (oracle, 100 labels) s0'
        >>> run_label({"reward": "constant", "seed": 1})
        'constant reward s1'
    """
    seed = f" s{config.get('seed', 0)}"
    if config.get("reward", "learned") == "learned":
        return f"RLHF ({config.get('teacher')}, {config.get('labels')} labels){seed}"
    return f"{config['reward']} reward{seed}"


def _plot_true_return(ax: Axes, runs: list[RunFolder]) -> None:
    for run in runs:
        config = run.read_json(run.config_path)
        metrics = run.read_metrics()
        if not metrics:
            continue
        steps = [m["env_steps"] for m in metrics]
        mean = np.array([m["true_return_mean"] for m in metrics])
        std = np.array([m["true_return_std"] for m in metrics])
        (line,) = ax.plot(steps, mean, marker="o", label=run_label(config))
        ax.fill_between(steps, mean - std, mean + std, color=line.get_color(), alpha=0.15)
    ax.set_xlabel("env steps")
    ax.set_ylabel("true return (evaluation)")
    ax.set_title("True return during training")
    ax.legend(fontsize="small")


def _plot_learned_vs_true(ax: Axes, runs: list[RunFolder]) -> None:
    from hfrl_gym.reward_model import RewardModel
    from hfrl_gym.store import LabelStore

    plotted = False
    for run in runs:
        if not (run.has_reward_model() and run.store_path.exists()):
            continue
        with LabelStore(run.store_path, create=False) as store:
            clips = store.get_clips(store.clip_uids())
        if len(clips) < 2:
            continue
        model = RewardModel.load(run.reward_model_dir, device="cpu")
        learned = model.clip_returns(clips)
        true = np.array([c.true_return for c in clips])
        rho = spearman(learned, true)
        label = f"{run_label(run.read_json(run.config_path))}: Spearman {rho:.2f}"
        ax.scatter(true, learned, s=8, alpha=0.6, label=label)
        plotted = True
    ax.set_xlabel("true clip return")
    ax.set_ylabel("learned clip return")
    ax.set_title("Learned vs true return of labelled clips")
    _legend_or_note(ax, plotted, "no reward model (baseline runs)")


def _legend_or_note(ax: Axes, plotted: bool, note: str) -> None:
    """A legend when something was drawn, else ``note`` in the middle of the panel."""
    if plotted:
        ax.legend(fontsize="small")
    else:
        ax.text(0.5, 0.5, note, ha="center", transform=ax.transAxes)


def _plot_val_accuracy(ax: Axes, runs: list[RunFolder]) -> None:
    for run in runs:
        metrics = [m for m in run.read_metrics() if not math.isnan(m["val_accuracy"])]
        if metrics:
            ax.plot(
                [m["labels_used"] for m in metrics],
                [m["val_accuracy"] for m in metrics],
                marker="o",
                label=run_label(run.read_json(run.config_path)),
            )
    ax.set_ylim(0.0, 1.05)
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("labels used")
    ax.set_ylabel("validation accuracy")
    ax.set_title("Reward model accuracy on held-out labels")


def _plot_labels_per_round(ax: Axes, runs: list[RunFolder]) -> None:
    learned = [r for r in runs if r.read_json(r.config_path).get("reward") == "learned"]
    width = 0.8 / max(1, len(learned))
    for index, run in enumerate(learned):
        metrics = run.read_metrics()
        rounds = np.array([m["round"] for m in metrics])
        ax.bar(
            rounds + index * width,
            [m["labels_round"] for m in metrics],
            width=width,
            label=run_label(run.read_json(run.config_path)),
        )
    ax.set_xlabel("round")
    ax.set_ylabel("labels")
    ax.set_title("Labels per round")


def _rounds_with(run: RunFolder, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Rounds and values of a metrics column, rounds without a value (or older runs) left out."""
    rows = [m for m in run.read_metrics() if not math.isnan(m.get(column, math.nan))]
    return np.array([m["round"] for m in rows]), np.array([m[column] for m in rows])


def _plot_reward_tracking(ax: Axes, runs: list[RunFolder]) -> None:
    plotted = False
    for run in runs:
        rounds, rho = _rounds_with(run, "learned_true_spearman")
        if len(rounds) == 0:
            continue
        (line,) = ax.plot(rounds, rho, marker="o", label=run_label(run.read_json(run.config_path)))
        drift_rounds, drift = _rounds_with(run, "reward_drift")
        ax.plot(drift_rounds, drift, linestyle="--", color=line.get_color(), alpha=0.7)
        plotted = True
    ax.axhline(0.0, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("round")
    ax.set_ylabel("Spearman (solid) / drift (dashed)")
    ax.set_title("Learned vs true return on each round's clips")
    _legend_or_note(ax, plotted, "no reward fits recorded")


def _plot_answer_shares(ax: Axes, runs: list[RunFolder]) -> None:
    plotted = False
    for run in runs:
        rounds, ties = _rounds_with(run, "tie_share")
        if len(rounds) == 0:
            continue
        label = run_label(run.read_json(run.config_path))
        (line,) = ax.plot(rounds, ties, marker="o", label=f"{label}: ties")
        skip_rounds, skips = _rounds_with(run, "skip_share")
        ax.plot(skip_rounds, skips, marker="x", linestyle="--", color=line.get_color(),
                label=f"{label}: skips")  # fmt: skip
        plotted = True
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("round")
    ax.set_ylabel("share of the round's answers")
    ax.set_title("Pairs the teacher could not tell apart")
    _legend_or_note(ax, plotted, "no answers recorded")


def save_panels(
    out: Path,
    names: Sequence[str],
    drawers: Sequence[Callable[[Axes, Any], None]],
    data: Any,
    *,
    figsize: tuple[float, float],
) -> list[Path]:
    """Draw ``drawers[k](ax, data)`` alone into ``out/<names[k]>.png``; return the files.

    The figure sets (this report, the label-quality figures) each also draw all their panels
    on one overview figure of their own.
    """
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in zip(names, drawers, strict=True):
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        draw(ax, data)
        fig.savefig(out / f"{name}.png", dpi=100)
        plt.close(fig)
        written.append(out / f"{name}.png")
    return written


def write_report(run_dirs: list[Path | str], out_dir: Path | str) -> list[Path]:
    """Draw the figure set of ``run_dirs`` into ``out_dir``; return the files written."""
    runs = [RunFolder(d).require() for d in run_dirs]
    if not any(run.metrics_path.exists() for run in runs):
        raise ConfigError(
            f"none of {', '.join(map(str, run_dirs))} has finished a round yet (no metrics.csv)"
        )
    for run in runs:  # every file is read before a figure is written: a damaged one is named
        run.read_json(run.config_path)
        run.read_metrics()
        if run.has_reward_model():
            from hfrl_gym.reward_model.checkpoint import read_checkpoint

            read_checkpoint(run.reward_model_dir)
    out = Path(out_dir)
    drawers = (
        _plot_true_return,
        _plot_learned_vs_true,
        _plot_val_accuracy,
        _plot_labels_per_round,
        _plot_reward_tracking,
        _plot_answer_shares,
    )
    written = save_panels(out, FIGURES, drawers, runs, figsize=(6.4, 4.4))
    fig, axes = plt.subplots(3, 2, figsize=(12.8, 13.2), layout="constrained")
    for ax, draw in zip(axes.flat, drawers, strict=True):
        draw(ax, runs)
    fig.savefig(out / "report.png", dpi=90)
    plt.close(fig)
    written.append(out / "report.png")
    return written

"""Figures of label quality (``agents.label_quality``), one PNG per measure and one of all.

Functions:
    write_label_quality_figures: draw the figure set of some annotators into a folder.

Figures:
    agreement.png        agreement with the other annotators' majority and with each preset
    consistency.png      self-consistency on repeated pairs
    response_times.png   seconds per answer (only when someone took time to answer)
    left_bias.png        share of ``left`` answers against what the returns would give
    beta.png             P(left) against the return difference, with each fitted Boltzmann curve
    label_quality.png    all of them together
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from agents.label_quality import AnnotatorQuality
from agents.report import save_panels

FIGURES = ("agreement", "consistency", "response_times", "left_bias", "beta")


def _names(qualities: Sequence[AnnotatorQuality]) -> list[str]:
    return [q.annotator for q in qualities]


def _beta_text(quality: AnnotatorQuality) -> str:
    beta = quality.fit.beta
    if math.isnan(beta):
        return "beta: n/a"
    if math.isinf(beta):
        return "beta = inf (always follows the returns)" if beta > 0 else "beta = -inf"
    return f"beta = {beta:.2g} ± {quality.fit.beta_se:.1g}"


def _plot_agreement(ax: Axes, qualities: Sequence[AnnotatorQuality]) -> None:
    presets = sorted({p for q in qualities for p in q.teacher_agreement})
    columns = ["majority of others", *[f"teacher '{p}'" for p in presets]]
    x = np.arange(len(qualities))
    width = 0.8 / len(columns)
    for index, column in enumerate(columns):
        values = [
            (q.majority_agreement if index == 0 else q.teacher_agreement.get(presets[index - 1]))
            if index == 0 or presets[index - 1] != q.annotator  # never a bar against itself
            else None
            for q in qualities
        ]
        heights = [np.nan if v is None else v for v in values]
        ax.bar(x + (index - (len(columns) - 1) / 2) * width, heights, width, label=column)
    ax.set_xticks(x, _names(qualities), rotation=20, ha="right")
    ax.set_ylim(0, 1.05)
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.set_ylabel("share of answers that agree")
    ax.set_title("Agreement with the others and with scripted teachers")
    ax.legend(fontsize="x-small", ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.18))


def _plot_consistency(ax: Axes, qualities: Sequence[AnnotatorQuality]) -> None:
    x = np.arange(len(qualities))
    values = [np.nan if q.self_consistency is None else q.self_consistency for q in qualities]
    bars = ax.bar(x, values, color="tab:purple")
    for bar, quality in zip(bars, qualities, strict=True):
        text = "no repeats" if quality.self_consistency is None else f"n={quality.num_repeats}"
        ax.annotate(text, (bar.get_x() + bar.get_width() / 2, 0.02), ha="center", fontsize=8)
    ax.set_xticks(x, _names(qualities), rotation=20, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("same answer when shown again")
    ax.set_title("Self-consistency on repeated pairs")


def _plot_response_times(ax: Axes, qualities: Sequence[AnnotatorQuality]) -> None:
    data = [q.seconds for q in qualities]
    if all(len(d) == 0 or np.all(d == 0) for d in data):
        ax.text(
            0.5,
            0.5,
            "no response times (scripted teachers answer in 0 s)",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    else:
        ax.boxplot(data, showfliers=True)
    ax.set_xticks(np.arange(1, len(qualities) + 1), _names(qualities), rotation=20, ha="right")
    ax.set_ylabel("seconds per answer")
    ax.set_title("Response times")


def _plot_left_bias(ax: Axes, qualities: Sequence[AnnotatorQuality]) -> None:
    x = np.arange(len(qualities))
    ax.bar(x - 0.2, [q.left_share for q in qualities], 0.4, label="answered left")
    ax.bar(
        x + 0.2,
        [q.expected_left_share for q in qualities],
        0.4,
        label="left clip had the higher return",
    )
    for index, quality in enumerate(qualities):
        if quality.fit.num_answers and quality.fit.left_bias_detected:
            side = "left" if quality.fit.bias > 0 else "right"
            ax.annotate(f"{side} bias", (index, 1.0), ha="center", color="tab:red", fontsize=9)
    ax.set_xticks(x, _names(qualities), rotation=20, ha="right")
    ax.set_ylim(0, 1.1)
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.set_ylabel("share of left/right answers")
    ax.set_title("Left/right bias")
    ax.legend(fontsize="small", loc="lower right")


def _plot_beta(ax: Axes, qualities: Sequence[AnnotatorQuality]) -> None:
    all_d = np.concatenate([q.return_differences for q in qualities] + [np.zeros(1)])
    limit = float(np.max(np.abs(all_d))) or 1.0
    edges = np.linspace(-limit, limit, 9)
    grid = np.linspace(-limit, limit, 200)
    for quality in qualities:
        d, y = quality.return_differences, quality.chose_left
        if len(d) == 0:
            continue
        which = np.clip(np.digitize(d, edges) - 1, 0, len(edges) - 2)
        centres, shares = [], []
        for b in range(len(edges) - 1):
            if np.any(which == b):
                centres.append(d[which == b].mean())
                shares.append(y[which == b].mean())
        (points,) = ax.plot(
            centres, shares, "o", label=f"{quality.annotator}: {_beta_text(quality)}"
        )
        beta = quality.fit.beta
        if not math.isnan(beta):
            curve = np.where(grid > 0, 1.0, np.where(grid < 0, 0.0, 0.5))
            if math.isfinite(beta):
                curve = 1 / (1 + np.exp(-beta * grid))
            elif beta < 0:
                curve = 1 - curve
            ax.plot(grid, curve, "--", color=points.get_color(), linewidth=1)
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.axvline(0.0, color="grey", linestyle=":", linewidth=1)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("R_left - R_right (goal return of the clips)")
    ax.set_ylabel("share answering 'left'")
    ax.set_title("How noisy? P(left) = sigmoid(beta * return difference)")
    ax.legend(fontsize="x-small", loc="upper left")


def _write_summary(ax: Axes, qualities: Sequence[AnnotatorQuality]) -> None:
    ax.axis("off")
    lines = ["annotator: answers, median seconds, beta, left bias (logit)"]
    for q in qualities:
        seconds = f"{np.median(q.seconds):.1f} s" if len(q.seconds) else "-"
        bias = "-" if math.isnan(q.fit.bias) else f"{q.fit.bias:+.2f} ± {q.fit.bias_se:.2f}"
        lines.append(f"{q.annotator}: {q.num_answers}, {seconds}, {_beta_text(q)}, {bias}")
    ax.text(
        0.0,
        1.0,
        "\n".join(lines),
        va="top",
        family="monospace",
        fontsize=10,
        transform=ax.transAxes,
    )
    ax.set_title("Summary")


_DRAWERS: tuple[Callable[[Axes, Sequence[AnnotatorQuality]], None], ...] = (
    _plot_agreement,
    _plot_consistency,
    _plot_response_times,
    _plot_left_bias,
    _plot_beta,
)


def write_label_quality_figures(
    qualities: Sequence[AnnotatorQuality], out_dir: str | Path
) -> list[Path]:
    """Draw the label-quality figures of ``qualities`` into ``out_dir``.

    Args:
        qualities: from :func:`agents.label_quality.assess_label_quality`.
        out_dir: folder to write (created).

    Returns:
        The PNG files written, ``label_quality.png`` (all the panels) last. Without any
        response times (scripted teachers answer in 0 s) there is no response-times panel.
    """
    out = Path(out_dir)
    timed = any(len(q.seconds) and np.any(q.seconds > 0) for q in qualities)
    panels = [
        (name, draw)
        for name, draw in zip(FIGURES, _DRAWERS, strict=True)
        if timed or name != "response_times"
    ]
    names, drawers = [name for name, _ in panels], [draw for _, draw in panels]
    written = save_panels(out, names, drawers, qualities, figsize=(7.0, 4.6))
    fig, axes = plt.subplots(2, 3, figsize=(19.0, 10.0), layout="constrained")
    for ax, draw in zip(axes.flat, drawers, strict=False):
        draw(ax, qualities)
    for ax in axes.flat[len(drawers) : -1]:
        ax.axis("off")
    _write_summary(axes.flat[-1], qualities)
    fig.suptitle("Label quality of each annotator", fontsize=15)
    fig.savefig(out / "label_quality.png", dpi=80)
    plt.close(fig)
    written.append(out / "label_quality.png")
    return written

"""The end of a run: ``summary.json``, figures and the video.

Functions:
    finish_run: write the summary of a finished session (and its figures and video).
    versions: versions of the packages a result depends on.
"""

from __future__ import annotations

import platform
from importlib import metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.config import TrainConfig
    from agents.run_folder import RunFolder
    from hfrl_gym.reward_model.trainer import FitReport

SUMMARY_KEYS = (
    "env",
    "teacher",
    "goal",
    "reward",
    "labels_used",
    "env_steps",
    "wall_seconds",
    "true_return_mean",
    "true_return_std",
    "goal_return_mean",
    "reward_val_accuracy",
    "device",
    "seed",
    "versions",
)


def versions() -> dict[str, str]:
    """Versions of Python and of the packages results depend on.

    Example:
        >>> sorted(versions())[:2]
        ['gymnasium', 'hfrl-gym']
    """
    found = {"python": platform.python_version()}
    for name in ("hfrl-gym", "gymnasium", "stable-baselines3", "torch", "numpy", "mujoco"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return dict(sorted(found.items()))


def finish_run(
    config: TrainConfig,
    run: RunFolder,
    *,
    labels_used: int,
    env_steps: int,
    wall_seconds: float,
    device: str,
    last_fit: FitReport | None,
) -> dict[str, Any]:
    """Write ``summary.json`` from the last round's metrics, then figures and the video.

    ``last_fit`` is the last reward fit of this process; without one (a resumed run whose
    last round asked nothing) the accuracy comes from the metrics.
    """
    last = run.read_metrics()[-1]
    accuracy = None if last_fit is None else last_fit.val_accuracy
    if accuracy is None and config.reward == "learned":
        accuracy = last.get("val_accuracy")
    summary: dict[str, Any] = {
        "env": config.env,
        "teacher": config.teacher if config.reward == "learned" else None,
        "goal": config.goal,
        "reward": config.reward,
        "labels_used": labels_used,
        "env_steps": env_steps,
        "wall_seconds": round(wall_seconds, 2),
        "true_return_mean": last["true_return_mean"],
        "true_return_std": last["true_return_std"],
        "goal_return_mean": last["goal_return_mean"],
        "reward_val_accuracy": accuracy,
        "device": device,
        "seed": config.seed,
        "versions": versions(),
    }
    run.write_json(run.summary_path, summary)
    from agents.report import write_report

    write_report([run.root], run.figures_dir)
    if config.video:
        from agents.video import write_policy_video

        write_policy_video(run.root, run.video_path)
    return summary

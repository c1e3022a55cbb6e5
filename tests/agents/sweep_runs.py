"""Tiny runs and folder checks shared by the sweep tests (process and Ray backends)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from agents.config import TrainConfig


def tiny(out: Path, **fields: object) -> TrainConfig:
    """A CartPole run of a few hundred steps (seconds), one round unless told."""
    settings: dict = {
        "env": "hfrl/CartPole-v0",
        "labels": 4,
        "steps": 800,
        "rounds": 1,
        "initial_steps": 200,
        "clip_steps": 10,
        "ensemble": 1,
        "eval_episodes": 1,
        "explore_fraction": 0.0,
        "seed": 0,
        "device": "cpu",
        "video": False,
    }
    settings.update(fields)
    return TrainConfig(out=str(out), **settings).validate()


def tiny_matrix(root: Path) -> list[TrainConfig]:
    """An RLHF run, a true-reward reference, and a run whose folder cannot be made."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "a-file").write_text("not a folder")
    return [
        tiny(root / "oracle"),
        tiny(root / "true", reward="true", labels=0),
        tiny(root / "a-file" / "run"),
    ]


def folder_state(folder: Path) -> dict[str, tuple[int, str]]:
    """Every file under ``folder``: its modification time (ns) and content hash."""
    return {
        str(path.relative_to(folder)): (
            path.stat().st_mtime_ns,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def without_times(summary: dict | None) -> dict | None:
    return None if summary is None else {k: v for k, v in summary.items() if "seconds" not in k}


def fake_finished_run(folder: Path, config: TrainConfig) -> dict:
    """A folder as a finished run leaves it, as far as reuse reads it."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(config.to_json())
    summary = {"true_return_mean": 123.0, "goal_return_mean": 123.0, "wall_seconds": 1.0}
    (folder / "summary.json").write_text(json.dumps(summary))
    return summary

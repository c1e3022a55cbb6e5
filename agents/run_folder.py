"""The folder a training run writes, and reads back to resume or report.

Classes:
    RunFolder: paths and small readers/writers of one run's files.

Layout::

    config.json         TrainConfig the run was started with
    store.sqlite        LabelStore: the clips shown, the queries, every answer
    reward_model/       latest reward-model checkpoint (weights + meta.json)
    policy.pt, .json    latest PPO policy: tensors + metadata (``agents.policy_file``);
                        runs made before it have SB3's policy.zip, read without unpickling
    replay_buffer.npz   SAC's replay buffer (``--algo sac``): arrays, read without pickle
    metrics.csv         one row per round (env steps, labels, validation accuracy, returns)
    episodes.csv        every training episode's true return (from the Monitor)
    tensorboard/        SB3's TensorBoard logs
    figures/, video.mp4 written by `hfrl report` / `hfrl video` (and at the end of a run)
    state.json          progress, for `hfrl train --resume`
    status.json         what the run is doing now, for windows (``hfrl_gym.run_status``)
    summary.json        headline figures of the finished run
"""

from __future__ import annotations

import csv
import json
import math
import numbers
import os
from pathlib import Path
from typing import Any

from hfrl_gym.errors import ConfigError

METRIC_COLUMNS = (
    "round",
    "env_steps",
    "labels_used",
    "labels_round",
    "val_accuracy",
    "val_loss",
    "true_return_mean",
    "true_return_std",
    "goal_return_mean",
    "fit_seconds",
    "wall_seconds",
    "learned_true_spearman",
    "reward_std",
    "reward_drift",
    "tie_share",
    "skip_share",
)
"""Columns of ``metrics.csv`` (docs/ARCHITECTURE.md; ``agents.diagnostics`` for the last five)."""
REQUIRED_METRICS = METRIC_COLUMNS[:11]
"""The columns every run's ``metrics.csv`` has (older runs lack the diagnostics)."""


class RunFolder:
    """Paths and files of one run.

    Example:
        >>> import tempfile
        >>> run = RunFolder(Path(tempfile.mkdtemp()))
        >>> run.append_metrics({"round": 0, "env_steps": 10})
        >>> run.read_metrics()[0]["env_steps"]
        10.0
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.config_path = self.root / "config.json"
        self.store_path = self.root / "store.sqlite"
        self.reward_model_dir = self.root / "reward_model"
        self.policy_path = self.root / "policy.pt"
        self.legacy_policy_path = self.root / "policy.zip"
        # an off-policy agent's (agents.offpolicy_agent)
        self.replay_buffer_path = self.root / "replay_buffer.npz"
        self.metrics_path = self.root / "metrics.csv"
        self.episodes_path = self.root / "episodes.csv"
        self.tensorboard_dir = self.root / "tensorboard"
        self.figures_dir = self.root / "figures"
        self.video_path = self.root / "video.mp4"
        self.state_path = self.root / "state.json"
        self.summary_path = self.root / "summary.json"
        self.status_path = self.root / "status.json"  # hfrl_gym.run_status, while it runs

    def foreign_entries(self) -> list[str]:
        """Names in the folder that a run does not write (empty for a run, even half-made).

        A run's own files, their temporary and side files (``.policy.pt.tmp``,
        ``store.sqlite-wal``) and the ``--reference`` copy count as the run's.

        Example:
            >>> import tempfile
            >>> run = RunFolder(Path(tempfile.mkdtemp()))
            >>> (run.root / "tensorboard").mkdir(); (run.root / "notes.txt").touch()
            >>> run.foreign_entries()
            ['notes.txt']
        """
        if not self.root.is_dir():
            return []
        own = {path.name for path in vars(self).values() if isinstance(path, Path)}
        own |= {"reference.pt", "reference.json", "reference.zip", ".write-test"}
        own.add(self.policy_path.with_suffix(".json").name)
        return sorted(
            entry.name
            for entry in self.root.iterdir()
            if not any(name in entry.name for name in own if name != self.root.name)
        )

    def saved_policy(self) -> Path | None:
        """The policy file to load: ``policy.pt``, else an older run's ``policy.zip``."""
        for path in (self.policy_path, self.legacy_policy_path):
            if path.is_file():
                return path
        return None

    def has_reward_model(self) -> bool:
        """Whether a reward model was saved (a save that a kill interrupted is finished)."""
        from hfrl_gym.reward_model.checkpoint import finish_interrupted_save  # imports torch

        finish_interrupted_save(self.reward_model_dir)
        return self.reward_model_dir.is_dir()

    def require(self) -> RunFolder:
        """Check this is a run folder (has config.json); say how to make one if not."""
        if not self.config_path.is_file():
            raise ConfigError(
                f"{self.root} is not a run folder (no config.json); start one with "
                f"`hfrl train --out {self.root}`"
            )
        return self

    @staticmethod
    def _write_atomic(path: Path, text: str) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)

    def write_json(self, path: Path, data: dict[str, Any]) -> None:
        """Write ``data`` as JSON, atomically (a crash leaves the old file or the new one).

        NaN and infinities, which JSON has not, are written as ``null``.
        """
        text = json.dumps(_finite(data), indent=2, default=str, allow_nan=False)
        self._write_atomic(path, text)

    def read_json(self, path: Path) -> dict[str, Any]:
        """Read a JSON object file of the run (``ConfigError`` naming a damaged one)."""
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ConfigError(
                f"cannot read {path} ({error}); the run folder is damaged: restore the file "
                "or start a new run with another --out"
            ) from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path} holds no JSON object; restore it or start a new run")
        return data

    def append_metrics(self, row: dict[str, Any]) -> None:
        """Append one round's metrics to ``metrics.csv`` (missing columns left blank)."""
        _append_csv(self.metrics_path, METRIC_COLUMNS, row)

    def read_metrics(self) -> list[dict[str, float]]:
        """The rows of ``metrics.csv`` as floats (blank cells are NaN).

        Raises:
            ConfigError: a damaged line, or a header without the columns of
                :data:`REQUIRED_METRICS`.
        """
        return _read_csv(self.metrics_path, REQUIRED_METRICS)

    def append_episodes(self, rows: list[tuple[int, float]]) -> None:
        """Append ``(env_steps, true_return)`` rows to ``episodes.csv`` (made, with its header,
        even when no episode has finished yet)."""
        records = [{"env_steps": steps, "true_return": value} for steps, value in rows]
        _append_csv(self.episodes_path, ("env_steps", "true_return"), *records)

    def read_episodes(self) -> list[dict[str, float]]:
        """The rows of ``episodes.csv``."""
        return _read_csv(self.episodes_path)


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite number (numpy's too) replaced by ``None``."""
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return float(value) if math.isfinite(value) else None
    return value


def _drop_torn_line(path: Path) -> None:
    """Cut a last line left unfinished by a kill (no newline), so rows never run together."""
    with path.open("rb+") as handle:
        data = handle.read()
        if data and not data.endswith(b"\n"):
            handle.truncate(data.rfind(b"\n") + 1)


def _append_csv(path: Path, columns: tuple[str, ...], *rows: dict[str, Any]) -> None:
    """Append rows; a file begun with other columns (an older run) keeps its own header."""
    new = not path.exists()
    if not new:
        _drop_torn_line(path)
        with path.open(newline="") as handle:
            header = next(csv.reader(handle), None)
        if header:
            columns = tuple(header)
        else:
            new = True  # a file cut before its header was whole
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerows(rows)


def _read_csv(path: Path, required: tuple[str, ...] = ()) -> list[dict[str, float]]:
    """The rows as floats; an unfinished last line (a kill while writing it) is left out."""
    if not path.exists():
        return []
    text = path.read_text(errors="replace")
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    reader = csv.DictReader(text.splitlines())
    missing = [name for name in required if name not in (reader.fieldnames or required)]
    if missing:
        raise ConfigError(
            f"{path} has no column {', '.join(missing)}; restore the file from the run"
        )
    rows = []
    for number, row in enumerate(reader, start=2):
        try:
            rows.append(
                {
                    str(key): float(value) if value not in ("", None) else float("nan")
                    for key, value in row.items()
                }
            )
        except (TypeError, ValueError):
            raise ConfigError(
                f"{path} line {number} is damaged ({','.join(map(str, row.values()))[:80]}); "
                "delete that line or restore the file"
            ) from None
    return rows

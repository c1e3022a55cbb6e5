"""The folder of a live lesson (``hfrl lesson live``): what the lesson writes, the dashboard reads.

Layout::

    lesson.json             the lesson's settings (marks the folder as a live lesson)
    run/                    the class's run (``hfrl train --async --teacher store``), served
    rounds/rounds.json      the agent at each checkpoint of the run: round, env steps, true
                            return and its video's file name, oldest first
    rounds/round-NN.mp4     the agent at checkpoint NN (``agents.video``)
    comparison/comparison.json, comparison.png
                            the end: the class's agent against the oracle's, single students'
                            and the constant-reward control, with the class's agreement
    comparison/log.txt      what the comparison printed, as it trains

The server finds a lesson from the run folder it serves (the run's parent holds
``lesson.json``); the lesson's process writes these files atomically, so a reader sees an old
version or a new one, never half of one. Nothing here imports the web framework or pygame.

Classes:
    LessonFolder: paths and small readers and writers of one live lesson's folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hfrl_gym.errors import ConfigError


class LessonFolder:
    """Paths and files of one live lesson.

    Example:
        >>> import tempfile
        >>> lesson = LessonFolder(Path(tempfile.mkdtemp()))
        >>> lesson.write_settings({"env": "hfrl/CartPole-v0"})
        >>> _ = lesson.add_round({"round": 0, "env_steps": 4096, "true_return": 21.0})
        >>> [r["file"] for r in lesson.rounds()], LessonFolder.of_run(lesson.run) is not None
        (['round-00.mp4'], True)
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.settings_path = self.root / "lesson.json"
        self.run = self.root / "run"
        self.rounds_dir = self.root / "rounds"
        self.rounds_path = self.rounds_dir / "rounds.json"
        self.comparison_dir = self.root / "comparison"
        self.comparison_path = self.comparison_dir / "comparison.json"
        self.figure_path = self.comparison_dir / "comparison.png"
        self.log_path = self.comparison_dir / "log.txt"

    @classmethod
    def of_run(cls, run_folder: Path | None) -> LessonFolder | None:
        """The lesson whose run ``run_folder`` is (``None``: a run of no live lesson)."""
        if run_folder is None:
            return None
        lesson = cls(Path(run_folder).parent)
        if not lesson.settings_path.is_file() or lesson.run.resolve() != Path(run_folder).resolve():
            return None
        return lesson

    def exists(self) -> bool:
        """Whether the folder holds a lesson."""
        return self.settings_path.is_file()

    @staticmethod
    def _write(path: Path, data: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(data, indent=2, allow_nan=False), encoding="utf-8")
        os.replace(tmp, path)

    @staticmethod
    def _read(path: Path, default: Any) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return default
        except (OSError, ValueError) as error:
            raise ConfigError(f"{path} is damaged ({error}); delete it or restore it") from None

    def write_settings(self, settings: dict[str, Any]) -> None:
        """Write ``lesson.json``."""
        self._write(self.settings_path, settings)

    def settings(self) -> dict[str, Any]:
        """The lesson's settings (``ConfigError`` when there is no lesson here)."""
        data = self._read(self.settings_path, None)
        if not isinstance(data, dict):
            raise ConfigError(
                f"{self.root} holds no live lesson (no {self.settings_path.name}); start one "
                f"with `hfrl lesson live --out {self.root}`"
            )
        return data

    def rounds(self) -> list[dict[str, Any]]:
        """The filmed checkpoints, oldest first (``[]`` before the first)."""
        data = self._read(self.rounds_path, [])
        return data if isinstance(data, list) else []

    def round_video(self, index: int) -> Path:
        """The video file of the ``index``-th filmed checkpoint."""
        return self.rounds_dir / f"round-{int(index):02d}.mp4"

    def add_round(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Append a filmed checkpoint (its ``file`` named here); return the entry written."""
        rounds = self.rounds()
        entry = {**entry, "index": len(rounds), "file": self.round_video(len(rounds)).name}
        self._write(self.rounds_path, [*rounds, entry])
        return entry

    def write_comparison(self, comparison: dict[str, Any]) -> None:
        """Write ``comparison/comparison.json``."""
        self._write(self.comparison_path, comparison)

    def comparison(self) -> dict[str, Any] | None:
        """The comparison, once written."""
        data = self._read(self.comparison_path, None)
        return data if isinstance(data, dict) else None

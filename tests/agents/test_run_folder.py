"""The run folder's own files: JSON without NaN, CSV lines a kill cut short."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from agents.run_folder import RunFolder
from hfrl_gym.errors import ConfigError


def test_nan_and_infinity_are_written_as_null(tmp_path: Path) -> None:
    run = RunFolder(tmp_path)
    run.write_json(
        run.summary_path,
        {"true_return_mean": math.nan, "acc": np.float32("nan"), "x": [math.inf, 1.5], "n": 3},
    )
    text = run.summary_path.read_text()
    assert json.loads(text) == {"true_return_mean": None, "acc": None, "x": [None, 1.5], "n": 3}
    assert "NaN" not in text
    assert "Infinity" not in text


def test_a_torn_last_line_is_left_out_and_cut_before_the_next_row(tmp_path: Path) -> None:
    run = RunFolder(tmp_path)
    run.append_metrics({"round": 0, "env_steps": 10})
    with run.metrics_path.open("a") as handle:
        handle.write("1,2")  # killed while writing round 1's row
    assert [row["round"] for row in run.read_metrics()] == [0.0]
    run.append_metrics({"round": 1, "env_steps": 20})
    assert [row["env_steps"] for row in run.read_metrics()] == [10.0, 20.0]


def test_a_damaged_metrics_line_is_one_error_naming_the_file(tmp_path: Path) -> None:
    run = RunFolder(tmp_path)
    run.append_metrics({"round": 0, "env_steps": 10})
    with run.metrics_path.open("a") as handle:
        handle.write("1,2x0\n")
    with pytest.raises(ConfigError, match=r"metrics\.csv line 3 is damaged"):
        run.read_metrics()
    run.metrics_path.write_text("round\n0\n")
    with pytest.raises(ConfigError, match=r"metrics\.csv has no column env_steps"):
        run.read_metrics()

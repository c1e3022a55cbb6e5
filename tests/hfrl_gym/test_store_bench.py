"""The store benchmark's helper, ``measure_clip_rates`` in ``scripts/bench_recording.py``."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from tests.conftest import make_clip

SCRIPTS = Path(__file__).parents[2] / "scripts"


@pytest.fixture
def bench_recording(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """``scripts/bench_recording.py``, imported as the script imports its helpers."""
    monkeypatch.syspath_prepend(str(SCRIPTS))
    spec = importlib.util.spec_from_file_location("bench_recording", SCRIPTS / "bench_recording.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_measure_clip_rates_reports_rates_and_cleans_up(
    bench_recording: ModuleType, tmp_path: Path, rng: np.random.Generator
) -> None:
    clips = [make_clip(rng, num_steps=50) for _ in range(20)]
    rates = bench_recording.measure_clip_rates(tmp_path, clips)
    assert set(rates) == {
        "write_single",
        "write_batch",
        "read_single",
        "read_batch",
        "bytes_per_clip",
    }
    assert all(value > 0 for value in rates.values())
    # 51 x 4 float32 observations, 51 x 4 float64 states, 50 int64 actions and 50 rewards
    assert rates["bytes_per_clip"] > 51 * 4 * 4 + 51 * 4 * 8 + 50 * 8 * 2
    assert list(tmp_path.iterdir()) == []

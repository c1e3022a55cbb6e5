"""The robust-learning matrix (``scripts/bench_robust.py``): where its runs run, and how a
failed run is reported (the sweep itself is tested in test_sweep.py and test_sweep_ray.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from agents.sweep import SweepResult

SCRIPTS = Path(__file__).parents[2] / "scripts"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """``scripts/bench_robust.py``, imported as a module."""
    spec = importlib.util.spec_from_file_location("bench_robust", SCRIPTS / "bench_robust.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_robust", module)  # its dataclass looks it up
    spec.loader.exec_module(module)
    return module


def _main(bench: ModuleType, monkeypatch: pytest.MonkeyPatch, out: Path, *flags: str) -> None:
    argv = ["bench_robust.py", "--envs", "cartpole", "--seeds", "0", "--teachers", "oracle"]
    monkeypatch.setattr(sys, "argv", [*argv, "--no-write", "--out", str(out), *flags])
    bench.main()


def test_the_backend_flags_reach_the_sweep_and_a_failed_run_is_reported(
    bench: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    calls = []

    def fake_sweep(configs: list, **kwargs: object) -> list[SweepResult]:
        calls.append(kwargs)
        results = [
            SweepResult(c, {"goal_return_mean": 100.0, "wall_seconds": 1.0}) for c in configs
        ]
        results[0] = SweepResult(configs[0], None, "WorkerCrashedError: the worker died")
        return results

    monkeypatch.setattr(bench, "run_sweep", fake_sweep)
    flags = ("--backend", "ray", "--address", "ray://head:10001", "--gpus-per-run", "0.5")
    _main(bench, monkeypatch, tmp_path, *flags)
    _main(bench, monkeypatch, tmp_path)

    ray_call, default_call = ({k: v for k, v in call.items() if k != "on_result"} for call in calls)
    assert ray_call == {"backend": "ray", "address": "ray://head:10001", "gpus_per_run": 0.5,
                        "jobs": None}  # fmt: skip
    assert default_call == {"backend": "process", "address": None, "gpus_per_run": 0.0,
                            "jobs": None}  # fmt: skip
    printed = capsys.readouterr().out
    failed = str(tmp_path / "reference" / "cartpole" / "true-s0")
    assert f"Failed runs: {failed}: WorkerCrashedError: the worker died" in printed
    assert "1 of 4 runs failed" in printed
    assert not any(tmp_path.iterdir())  # nothing ran


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (("--backend", "ray"), "error: --backend ray needs Ray, an optional extra: pip install"),
        (("--address", "auto"), "error: --address and --gpus-per-run are for --backend ray"),
    ],
)
def test_a_sweep_it_cannot_run_is_one_error_before_any_run(
    bench: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    flags: tuple[str, ...],
    words: str,
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as without the extra
    with pytest.raises(SystemExit) as exited:
        _main(bench, monkeypatch, tmp_path / "out", *flags)
    assert exited.value.code == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "out").exists()

"""The section each benchmark command of the registry writes: ``bench_robust.py --compare``
and ``--section``, ``bench_cost.py`` and ``tune_ppo.py --runs``, into a docs file in a
temporary folder, with the training faked. Nothing here trains or times a real run."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from agents.sweep import SweepResult
from tests.script_loader import load_script

DOC = (
    "# Doc\n\n## Ablation\n\n<!-- bench:compare-a-b:start -->\nold\n"
    "<!-- bench:compare-a-b:end -->\n"
)


@pytest.fixture
def doc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A docs file in a temporary folder, where every script's ``--write`` goes."""
    bench = load_script("_bench", monkeypatch)
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(DOC, encoding="utf-8")
    monkeypatch.setattr(bench, "BENCHMARKS", path)
    return path


def _summary(path: Path, value: float) -> None:
    path.mkdir(parents=True)
    (path / "summary.json").write_text(json.dumps({"true_return_mean": value}))


def _robust(monkeypatch: pytest.MonkeyPatch, *flags: str) -> ModuleType:
    robust = load_script("bench_robust", monkeypatch)
    argv = ["bench_robust.py", "--envs", "cartpole", "--seeds", "0", "--teachers", "oracle"]
    monkeypatch.setattr(sys, "argv", [*argv, *flags])
    robust.main()
    return robust


def test_compare_writes_only_with_write_into_the_variants_section(
    doc: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    _summary(out / "reference" / "cartpole" / "true-s0", 500.0)
    _summary(out / "a" / "cartpole" / "oracle-s0", 500.0)
    _summary(out / "b" / "cartpole" / "oracle-s0", 9.0)
    _robust(monkeypatch, "--out", str(out), "--compare", "a", "b")
    assert doc.read_text(encoding="utf-8") == DOC  # control: no --write, nothing written
    _robust(monkeypatch, "--out", str(out), "--compare", "a", "b", "--write")
    text = doc.read_text(encoding="utf-8")
    block = text.split("<!-- bench:compare-a-b:start -->\n")[1].split("<!-- bench:")[0]
    assert block.startswith("- machine: ")  # the title stays out: ## Ablation names it
    assert "--compare a b --write`" in block
    assert "| a | 1.00 (1.00) | 1.00 |" in block
    assert "| b | " in block
    assert "old" not in block
    _robust(monkeypatch, "--out", str(out), "--compare", "b", "--write", "--section", "abl")
    text = doc.read_text(encoding="utf-8")
    assert "| a | 1.00 (1.00) | 1.00 |" in text  # the first section is kept
    assert "<!-- bench:abl:start -->" in text.split("<!-- bench:compare-a-b:end -->")[1]


def test_a_bad_section_name_is_one_error_before_any_run(
    doc: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        _robust(monkeypatch, "--variant", "Explore_2")
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "'robust-Explore_2'" in error
    assert "name the section with --section NAME" in error
    with pytest.raises(SystemExit):
        _robust(monkeypatch, "--write", "--no-write")
    assert "--write and --no-write: give one" in capsys.readouterr().err
    assert doc.read_text(encoding="utf-8") == DOC


def test_runs_write_their_variant_or_the_named_section_and_figure(
    doc: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    robust = load_script("bench_robust", monkeypatch)
    figures: list[Path] = []

    def fake_sweep(configs: list, **kwargs: object) -> list[SweepResult]:
        return [SweepResult(c, {"goal_return_mean": 100.0, "wall_seconds": 1.0}) for c in configs]

    monkeypatch.setattr(robust, "run_sweep", fake_sweep)
    monkeypatch.setattr(robust, "draw", lambda figure, path: figures.append(path))
    argv = ["bench_robust.py", "--envs", "cartpole", "--seeds", "0", "--teachers", "oracle"]
    monkeypatch.setattr(sys, "argv", [*argv, "--out", str(tmp_path), "--section", "robust-acro"])
    robust.main()
    monkeypatch.setattr(sys, "argv", [*argv, "--out", str(tmp_path)])
    robust.main()
    text = doc.read_text(encoding="utf-8")
    for name in ("robust-acro", "robust-default"):
        block = text.split(f"<!-- bench:{name}:start -->\n")[1].split("<!-- bench:")[0]
        assert block.startswith("- machine: ")
        assert "| RLHF, oracle | " in block
    assert text.count("### Normalised returns, variant `default`") == 2  # above each marker
    assert [p.name for p in figures] == ["robust_acro.png", "robust_default.png"]
    monkeypatch.setattr(sys, "argv", [*argv, "--out", str(tmp_path), "--no-write"])
    before = doc.read_text(encoding="utf-8")
    robust.main()
    assert doc.read_text(encoding="utf-8") == before  # control: --no-write writes nothing
    assert len(figures) == 2


def test_cost_times_both_runs_in_turn_and_writes_the_ratio(
    doc: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cost = load_script("bench_cost", monkeypatch)
    calls: list[list[str]] = []

    def fake_run(argv: list[str], out: Path) -> tuple[float, float]:
        calls.append(argv)
        return (10.0 if "--reward" in argv else 13.0), 500.0

    monkeypatch.setattr(cost, "timed_run", fake_run)
    cost.main(["--repeat", "2", "--steps", "1000", "--write"])
    assert len(calls) == 12
    assert ["--reward" in argv for argv in calls[:4]] == [True, False, True, False]
    assert calls[1][:8] == ["--env", "hfrl/CartPole-v0", "--labels", "50", "--steps", "1000",
                            "--seed", "0"]  # fmt: skip
    assert calls[-1][-2:] == ["--refit", "bounded"]
    block = doc.read_text(encoding="utf-8").split("<!-- bench:cost:start -->\n")[1]
    assert (
        "| `hfrl/CartPole-v0` | 50, 1,000 | 10.0 s, 10.0 s (500.0) | 13.0 s, 13.0 s (500.0) "
        "| 1.30 |" in block
    )
    assert "`hfrl/Pendulum-v0`, `--refit bounded`" in block


def test_tune_ppo_runs_every_setting_and_seed_of_its_file(
    doc: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tune = load_script("tune_ppo", monkeypatch)
    spec = tmp_path / "runs.json"
    spec.write_text(json.dumps([
        {"settings": "defaults", "seeds": [0, 1]},
        {"settings": "lr", "seeds": [2], "set": ["learning_rate=0.001"], "normalize": True},
    ]))  # fmt: skip
    runs = []

    def fake_curve(env_id: str, **kwargs: object) -> dict[str, object]:
        runs.append(kwargs)
        return {"seed": kwargs["seed"], "curve": [1.0, 2.0, 3.0, 4.0, 500.4]}

    monkeypatch.setattr(tune, "train_curve", fake_curve)
    tune.main(["hfrl/CartPole-v0", "--steps", "1000", "--runs", str(spec), "--write"])
    assert [(r["seed"], r["changes"], r["normalize"]) for r in runs] == [
        (0, [], False), (1, [], False), (2, ["learning_rate=0.001"], True)
    ]  # fmt: skip
    block = doc.read_text(encoding="utf-8").split("<!-- bench:tune-ppo:start -->\n")[1]
    assert "| settings | seed | return after 0.2k, 0.4k, 0.6k, 0.8k, 1k steps |" in block
    assert "| lr | 2 | 1, 2, 3, 4, 500 |" in block
    spec.write_text(json.dumps([{"settings": "no seeds"}]))
    with pytest.raises(SystemExit):  # a file without seeds is one error, before any run
        tune.main(["hfrl/CartPole-v0", "--runs", str(spec)])
    assert len(runs) == 3


def test_compare_with_goals_scores_the_goal_runs_by_the_goals_return(
    doc: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    for folder, true, left in (
        ("reference/cartpole/true-s0", 500.0, 250.0),
        ("reference/cartpole/goal-left-s0", 500.0, 480.0),  # PPO on the goal: its top
        ("a/cartpole/oracle-s0", 500.0, 250.0),
        ("a/cartpole/goal-left-s0", 500.0, 480.0),
        ("b/cartpole/oracle-s0", 500.0, 250.0),
        ("b/cartpole/goal-left-s0", 500.0, 5.0),  # balances, and not on the left
    ):
        (out / folder).mkdir(parents=True)
        summary = {"true_return_mean": true, "goal_return_mean": left}
        (out / folder / "summary.json").write_text(json.dumps(summary))
    _robust(monkeypatch, "--out", str(out), "--compare", "a", "b", "--goals", "--write")
    block = doc.read_text(encoding="utf-8").split("<!-- bench:compare-a-b:start -->\n")[1]
    assert "| variant | oracle | goal left | mean |" in block
    assert "| a | 1.00 (1.00) | 1.00 (1.00) | 1.00 |" in block
    row = next(line for line in block.splitlines() if line.startswith("| b |"))
    goal_cell = float(row.split("|")[3].split()[0])
    assert abs(goal_cell) < 0.05  # the goal's return (5, about random), not the task's 500
    _robust(monkeypatch, "--out", str(out), "--compare", "a", "b", "--write")  # control
    block = doc.read_text(encoding="utf-8").split("<!-- bench:compare-a-b:start -->\n")[1]
    assert "| variant | oracle | mean |" in block
    assert "goal left" not in block

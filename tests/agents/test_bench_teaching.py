"""The teaching benchmark (``scripts/bench_teaching.py``): its table, its reuse of finished
runs, and one real ``--quick`` lesson run through it."""

from __future__ import annotations

import importlib.util
import json
import stat
import sys
from pathlib import Path
from types import ModuleType

import pytest

from agents.lessons import find_lesson
from agents.lessons.claims import Claim, read_claims
from hfrl_gym.errors import ConfigError

SCRIPTS = Path(__file__).parents[2] / "scripts"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """``scripts/bench_teaching.py``, imported as a module."""
    spec = importlib.util.spec_from_file_location("bench_teaching", SCRIPTS / "bench_teaching.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_teaching", module)  # its dataclass looks it up
    spec.loader.exec_module(module)
    return module


UP, DOWN = Claim("up", "the learned return rises"), Claim("down", "the true return falls")


def _record(bench: ModuleType, seed: int, up: bool, down: bool, **kwargs: object) -> object:
    claims = [UP.check(up, "e"), DOWN.check(down, "e")]
    return bench.RunRecord(find_lesson("6"), seed, 10.0 + seed, claims=claims, **kwargs)


def test_claim_rows_count_seeds_and_show_a_failed_run(bench: ModuleType) -> None:
    runs = [
        _record(bench, 2, True, False),
        _record(bench, 0, True, True),
        bench.RunRecord(find_lesson("6"), 1, 3.0, error="exit 1: error: boom"),
    ]
    rows = bench.lesson_rows(runs)
    assert rows[0] == "| 6 reward-hacking | the learned return rises | 2 of 3 | 0 ✓ 1 failed 2 ✓ |"
    assert rows[1] == "| 6 reward-hacking | the true return falls | 1 of 3 | 0 ✓ 1 failed 2 ✗ |"
    assert rows[2] == "| 6 reward-hacking | run failed at seed 1 | - | exit 1: error: boom |"
    assert len(rows) == 3
    quick = bench.lesson_rows([_record(bench, 0, True, True, quick=True)])
    assert "1 of 1 (--quick)" in quick[0]


def test_time_row_median_max_load_and_reuse(bench: ModuleType) -> None:
    runs = [
        _record(bench, 0, True, True, load=(1.0, 2.0), date="2026-11-30 22:00 UTC", cpu_s=9.0),
        _record(bench, 1, True, True, load=(3.0, 5.0), date="2026-12-01 01:00 UTC", reused=True),
        _record(bench, 4, True, True, load=(2.0, 4.0), date="2026-11-30 23:00 UTC", cpu_s=7.0),
    ]
    row = bench.time_row(runs, "a machine", "python x")
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert len(cells) == bench.TIME_HEADER.count("|") - 1
    assert cells[0] == "6 reward-hacking"
    assert cells[1] == "11 s, 14 s (1 of 3 runs from an earlier call)"
    assert cells[2] == "8 s, 9 s"  # CPU: the runs that recorded it
    assert cells[3] == "mean 2.0, max 5.0"
    assert cells[4:] == ["a machine", "`python x`", "2026-11-30 to 2026-12-01"]


def test_merge_keeps_other_lessons_and_replaces_the_run_ones(bench: ModuleType) -> None:
    first = bench.merge_block(
        "",
        ["| 1 preferences | a | 5 of 5 | x |", "| 6 reward-hacking | old | 0 of 5 | x |"],
        [
            "| 1 preferences | 5 s | 4 s | l | m | c | d |",
            "| 6 reward-hacking | 9 s | 8 s | l | m | c | d |",
        ],
    )
    second = bench.merge_block(
        first,
        ["| 6 reward-hacking | new | 4 of 5 | x |", "| 6 reward-hacking | new2 | 5 of 5 | x |"],
        ["| 6 reward-hacking | 8 s | 7 s | l | m | c | d |"],
    )
    assert "old" not in second
    assert "9 s" not in second
    rows = [line for line in second.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows == [
        bench.CLAIM_HEADER,
        "| 1 preferences | a | 5 of 5 | x |",
        "| 6 reward-hacking | new | 4 of 5 | x |",
        "| 6 reward-hacking | new2 | 5 of 5 | x |",
        bench.TIME_HEADER,
        "| 1 preferences | 5 s | 4 s | l | m | c | d |",
        "| 6 reward-hacking | 8 s | 7 s | l | m | c | d |",
    ]
    assert bench.merge_block(second, [], []) == second  # merging nothing changes nothing
    old_row = "| 9 feedback-kinds | 252 s, 352 s | mean 17.1, max 19.9 | m | `c` | d |"
    upgraded = bench.merge_block(f"{bench.TIME_HEADER}\n{old_row}", [], [])
    assert "| 9 feedback-kinds | 252 s, 352 s | - | mean 17.1, max 19.9 | m | `c` | d |" in upgraded


def test_write_doc_between_the_markers_only(bench: ModuleType, tmp_path: Path) -> None:
    doc = tmp_path / "TEACHING.md"
    doc.write_text(f"intro\n{bench.START}\nold\n{bench.END}\nafter\n")
    bench.write_doc(doc, ["| 2 reward-model | c | 1 of 1 | 0 ✓ |"], [])
    text = doc.read_text()
    assert text.startswith(f"intro\n{bench.START}\n")
    assert text.endswith(f"{bench.END}\nafter\n")
    assert "| 2 reward-model | c | 1 of 1 | 0 ✓ |" in text
    assert "old" not in text
    doc.write_text("no markers\n")
    with pytest.raises(ConfigError, match="claims-table:start"):
        bench.write_doc(doc, [], [])
    assert doc.read_text() == "no markers\n"


FAKE_HFRL = """#!{python}
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from agents.lessons.claims import Claim, report_claims
args = sys.argv[1:]
out = Path(args[args.index("--out") + 1])
with open({calls!r}, "a") as calls:
    calls.write(" ".join(args) + "\\n")
if (Path({calls!r}).parent / "fail").exists():
    print("error: the lesson broke")
    sys.exit(2)
(out / "labels.sqlite").exists() and sys.exit(3)  # a rerun must start in a fresh folder
(out / "labels.sqlite").write_text("x")
seed = int(args[args.index("--seed") + 1])
report_claims(out, "preferences", seed, [Claim("k", "t").check(seed % 2 == 0, "e")])
"""


def test_finished_runs_are_reused_until_the_lesson_changes(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = tmp_path / "calls.txt"
    hfrl = tmp_path / "hfrl"
    root = str(Path(__file__).parents[2])
    hfrl.write_text(FAKE_HFRL.format(python=sys.executable, root=root, calls=str(calls)))
    hfrl.chmod(hfrl.stat().st_mode | stat.S_IEXEC)
    source = tmp_path / "lesson_source.py"
    source.write_text('BENCH_ARGS = ("--teacher", "oracle")\n')
    monkeypatch.setattr(bench, "module_file", lambda lesson: source)
    lesson, out = find_lesson("1"), tmp_path / "runs"

    def run(seed: int) -> object:
        return bench.run_one(lesson, seed, out, quick=False, hfrl=hfrl)

    first = run(0)
    assert (first.error, first.reused, [c.held for c in first.claims]) == (None, False, [True])
    assert calls.read_text().split() == [
        *["lesson", "1", "--seed", "0", "--out", str(out / "preferences" / "seed0")],
        *["--teacher", "oracle"],
    ]
    record = json.loads((out / "preferences" / "seed0" / bench.BENCH_FILE).read_text())
    assert record["returncode"] == 0
    assert record["wall_s"] > 0
    assert 0 < record["cpu_s"] <= record["wall_s"] * 2  # the fake lesson's own CPU seconds
    assert first.cpu_s == record["cpu_s"]
    again = run(0)
    assert again.reused
    assert again.wall_s == first.wall_s
    assert len(calls.read_text().splitlines()) == 1  # not run again
    assert bench.run_one(lesson, 0, out, quick=True, hfrl=hfrl).reused is False  # a new budget
    source.write_text('BENCH_ARGS = ("--teacher", "oracle")\n# changed\n')
    changed = run(0)
    assert (changed.reused, changed.error) == (False, None)  # rerun, in a fresh folder
    assert len(calls.read_text().splitlines()) == 3
    (tmp_path / "fail").write_text("")
    failed = run(1)
    assert failed.error == "exit 2: error: the lesson broke"
    assert bench.lesson_rows([failed])[-1].startswith("| 1 preferences | run failed at seed 1")
    (tmp_path / "fail").unlink()
    assert run(1).error is None  # a failed run is never reused
    assert len(calls.read_text().splitlines()) == 5


def test_bench_args_are_read_not_run(bench: ModuleType, tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text('import os\nos.exit(1)\nBENCH_ARGS = ("--teacher", "oracle")\n')
    assert bench.bench_args(source) == ["--teacher", "oracle"]
    source.write_text("X = 1\n")
    assert bench.bench_args(source) == []
    assert bench.bench_args(bench.module_file(find_lesson("1"))) == ["--teacher", "oracle"]


@pytest.mark.slow
def test_a_real_quick_lesson_through_the_benchmark(
    bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "TEACHING.md"
    doc.write_text(f"# x\n{bench.START}\n{bench.END}\n")
    argv = ["--lessons", "preferences", "--seeds", "3", "--quick", "--out", str(tmp_path)]
    assert bench.main([*argv, "--doc", str(doc)]) == 0
    folder = tmp_path / "preferences" / "seed3"
    lesson, seed, quick, checked = read_claims(folder / "claims.json")
    assert (lesson, seed, quick) == ("preferences", 3, True)
    assert (folder / "preferences.png").stat().st_size > 10_000
    text = doc.read_text()
    for claim in checked:
        assert f"| 1 preferences | {claim.text} | " in text
    assert "| 1 preferences | " in text.split(bench.TIME_HEADER)[1]
    assert "lesson 1 seed 3: ran" in capsys.readouterr().out
    assert bench.main([*argv, "--no-doc"]) == 0
    assert "lesson 1 seed 3: reused" in capsys.readouterr().out


def test_a_lessons_digest_covers_the_project_code_it_imports(
    bench: ModuleType, tmp_path: Path
) -> None:
    root = Path(__file__).parents[2]
    sources = bench.project_sources(bench.module_file(find_lesson("6")))
    names = {str(path.relative_to(root)) for path in sources}
    # lesson 6 builds on lesson 8's pipeline, the lessons' common parts and the loop's parts
    assert {"agents/lessons/pipeline.py", "agents/lessons/common.py"} <= names
    assert "agents/ppo_agent.py" in names
    assert not any("site-packages" in str(path) for path in sources)
    # a module with no project imports: its own file only (the control)
    alone = tmp_path / "m.py"
    alone.write_text("import os\nimport numpy\n")
    assert bench.project_sources(alone) == [alone.resolve()]
    digest = bench.source_digest(alone)
    alone.write_text("import os\nimport numpy\n# changed\n")
    assert bench.source_digest(alone) != digest

"""``make bench``: the section writer of ``scripts/_bench.py`` and the registry and runner of
``scripts/bench_all.py`` (every benchmark script registered, every marked section of
docs/BENCHMARKS.md with its entry). Nothing here runs a benchmark."""

from __future__ import annotations

import doctest
import itertools
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.script_loader import load_script

REPO = Path(__file__).parents[2]
SCRIPTS = REPO / "scripts"
TEACHERS = ("oracle", "noisy", "mistake", "skip", "myopic", "equal")  # bench_robust's default
MARKER = re.compile(r"<!-- bench:([a-z0-9]+(?:-[a-z0-9]+)*):(start|end) -->")
DOC = """# Title

Prose before, with trailing spaces   \nand a non-ASCII dash \u2013 kept as it is.
<!-- bench:camera:start -->
old camera table
<!-- bench:camera:end -->
Prose between.

<!-- bench:refit:start -->
refit table | 1 |
<!-- bench:refit:end -->
tail without a final newline"""


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_script("_bench", monkeypatch)


@pytest.fixture
def bench_all(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_script("bench_all", monkeypatch)


def test_the_writer_replaces_its_section_and_keeps_every_other_byte(
    bench: ModuleType, tmp_path: Path
) -> None:
    path = tmp_path / "BENCHMARKS.md"
    path.write_bytes(DOC.encode())
    bench.write_section("camera", "\n### New\n\n| a |\n|---|\n| 1 |\n\n", path)
    after = path.read_bytes().decode()
    head, _, rest = DOC.partition("<!-- bench:camera:start -->")
    tail = rest[rest.index("<!-- bench:camera:end -->") :]
    expected = f"{head}<!-- bench:camera:start -->\n| a |\n|---|\n| 1 |\n{tail}"
    assert after == expected  # the title stays out: the docs' heading above names it
    assert "### New" not in after
    assert "old camera table" not in after  # control: the section did change
    assert "refit table | 1 |" in after
    bench.write_section("camera", "### New\n\n| a |\n|---|\n| 1 |", path)
    assert path.read_bytes().decode() == expected  # writing the same block again changes nothing
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write left nothing behind


def test_a_missing_section_is_appended_after_the_whole_file(
    bench: ModuleType, tmp_path: Path
) -> None:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(DOC, encoding="utf-8")
    bench.write_section("device", "| device |", path)
    after = path.read_text(encoding="utf-8")
    assert after.startswith(DOC)
    assert after[len(DOC) :] == (
        "\n\n<!-- bench:device:start -->\n| device |\n<!-- bench:device:end -->\n"
    )
    bench.write_section("cost", "### Cost\n\n- date: today\n", path)  # a title: above it
    assert path.read_text(encoding="utf-8").endswith(
        "<!-- bench:device:end -->\n\n### Cost\n\n<!-- bench:cost:start -->\n- date: today\n"
        "<!-- bench:cost:end -->\n"
    )
    bench.write_section("cost", "### Cost\n\n- date: tomorrow", path)  # and stays there once
    assert path.read_text(encoding="utf-8").count("### Cost") == 1


def test_a_start_marker_without_its_end_is_refused_and_the_file_left_alone(
    bench: ModuleType, tmp_path: Path
) -> None:
    path = tmp_path / "BENCHMARKS.md"
    broken = DOC.replace("<!-- bench:refit:end -->\n", "")
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(bench.SectionError, match=r"bench:refit:start -->.*no.*bench:refit:end"):
        bench.write_section("refit", "new", path)
    assert path.read_text(encoding="utf-8") == broken
    bench.write_section("camera", "new", path)  # control: a whole pair in the same file is fine
    with pytest.raises(bench.SectionError, match="lower-case"):
        bench.write_section("Camera Table", "new", path)


def test_write_option_is_off_by_default_and_keeps_the_old_flag_name(bench: ModuleType) -> None:
    import argparse

    parser = bench.add_write_option(argparse.ArgumentParser(), "async", "--write-docs")
    assert vars(parser.parse_args([])) == {"write": False, "section": "async"}
    assert parser.parse_args(["--write-docs"]).write
    assert parser.parse_args(["--write", "--section", "async-fast"]).section == "async-fast"


def test_the_doctests_of_the_helpers_hold(bench: ModuleType, bench_all: ModuleType) -> None:
    for module in (bench, bench_all):
        failures, tried = doctest.testmod(module)
        assert tried > 0
        assert failures == 0


def _unregistered_scripts(script_names: list[str], bench_all: ModuleType) -> list[str]:
    used = {
        word.removeprefix("scripts/")
        for entry in bench_all.REGISTRY
        for word in entry.command.split()
        if word.startswith("scripts/")
    }
    return [name for name in script_names if name not in used]


def test_every_benchmark_script_has_an_entry(bench_all: ModuleType) -> None:
    scripts = sorted(p.name for p in SCRIPTS.glob("bench_*.py") if p.name != "bench_all.py")
    assert len(scripts) >= 14
    assert _unregistered_scripts(scripts, bench_all) == []
    # control: a script added without an entry is caught
    assert _unregistered_scripts([*scripts, "bench_new.py"], bench_all) == ["bench_new.py"]


def _section_problems(doc: str, registry: tuple, benchmarks: str) -> list[str]:
    """What is wrong between ``doc``'s markers and the registry's entries for it."""
    found = MARKER.findall(doc)
    starts = [name for name, kind in found if kind == "start"]
    ends = [name for name, kind in found if kind == "end"]
    problems = [f"{name}: marked twice" for name in set(starts) if starts.count(name) > 1]
    problems += [f"{n}: start without end" for n in sorted(set(starts) - set(ends))]
    problems += [f"{n}: end without start" for n in sorted(set(ends) - set(starts))]
    for name in set(starts) & set(ends):
        if doc.index(f"bench:{name}:start") > doc.index(f"bench:{name}:end"):
            problems.append(f"{name}: end before start")
    registered = {entry.name for entry in registry if entry.doc == benchmarks}
    problems += [f"{n}: registered, no markers" for n in sorted(registered - set(starts))]
    problems += [f"{n}: markers, no entry" for n in sorted(set(starts) - registered)]
    names = [entry.name for entry in registry]
    problems += [f"{n}: two entries" for n in sorted(set(names)) if names.count(n) > 1]
    return problems


def test_every_marked_section_has_an_entry_and_every_entry_its_section(
    bench_all: ModuleType,
) -> None:
    doc = (REPO / "docs" / "BENCHMARKS.md").read_text(encoding="utf-8")
    registry, benchmarks = bench_all.REGISTRY, bench_all.BENCHMARKS
    assert _section_problems(doc, registry, benchmarks) == []
    # controls: a registered section whose markers are gone, a marked one without its entry
    unmarked = doc.replace("<!-- bench:cost:start -->", "").replace("<!-- bench:cost:end -->", "")
    assert _section_problems(unmarked, registry, benchmarks) == ["cost: registered, no markers"]
    without = tuple(entry for entry in registry if entry.name != "refit-pendulum")
    assert _section_problems(doc, without, benchmarks) == ["refit-pendulum: markers, no entry"]
    broken = doc.replace("<!-- bench:ablation-revisit:end -->", "")
    assert _section_problems(broken, registry, benchmarks) == [
        "ablation-revisit: start without end"
    ]


def _options(command: str, flag: str) -> list[str]:
    """The words after ``flag`` in ``command`` up to the next option."""
    words = command.split()
    if flag not in words:
        return []
    rest = words[words.index(flag) + 1 :]
    return list(itertools.takewhile(lambda word: not word.startswith("--"), rest))


def _unmade_runs(registry: tuple) -> list[str]:
    """``--compare`` runs that no earlier bench_robust entry makes: a variant on none of the
    compared envs, or an env where it has some of the seeds and teachers but not all (a
    variant run on no seed of an env is left out of that env's table)."""
    made: set[tuple[str, ...]] = set()
    missing = []
    for entry in registry:
        if "scripts/bench_robust.py" not in entry.command:
            continue
        envs, seeds = _options(entry.command, "--envs"), _options(entry.command, "--seeds")
        teachers = _options(entry.command, "--teachers") or list(TEACHERS)
        for variant in _options(entry.command, "--compare"):
            runs = {env: list(itertools.product([variant], [env], seeds, teachers)) for env in envs}
            if not any(run in made for env_runs in runs.values() for run in env_runs):
                missing.append(f"{entry.name}: {variant} on none of {' '.join(envs)}")
            for env_runs in runs.values():
                if any(run in made for run in env_runs):
                    missing += [f"{entry.name}: {' '.join(r)}" for r in env_runs if r not in made]
        if "--compare" not in entry.command:
            variant = (_options(entry.command, "--variant") or ["default"])[0]
            made.update(itertools.product([variant], envs, seeds, teachers))
    return missing


def test_compare_tables_follow_the_entries_that_make_their_runs(bench_all: ModuleType) -> None:
    registry = bench_all.REGISTRY
    compares = [e for e in registry if "--compare" in e.command]
    assert {e.name for e in compares} >= {"ablation-defaults", "ablation-revisit"}
    assert _unmade_runs(registry) == []
    # control: the same entries with the compare tables first miss every run they read
    reordered = (*compares, *(e for e in registry if e not in compares))
    assert len(_unmade_runs(reordered)) > 10
    dropped = tuple(e for e in registry if e.name != "ablation-before-fresh-runs")
    assert _unmade_runs(dropped) == ["ablation-defaults-fresh: before on none of cartpole pendulum"]
    six = tuple(e for e in registry if e.name != "ablation-explore-decay06-six-fresh-runs")
    assert "ablation-revisit-fresh: explore-decay06 cartpole 137 myopic" in _unmade_runs(six)
    for entry in registry:  # an entry that writes no section says so to its script
        if entry.doc is None:
            assert entry.write is None, entry.name
            assert entry.command.endswith("--no-write"), entry.name


def test_each_entry_writes_where_its_script_can(bench_all: ModuleType) -> None:
    for entry in bench_all.REGISTRY:
        script = next(w for w in entry.command.split() if w.startswith("scripts/"))
        source = (REPO / script).read_text(encoding="utf-8")
        if entry.doc is None:
            continue  # writes nothing (checked with the compare tables)
        if entry.write == "--write":
            assert "add_write_option(parser" in source, entry.name
            assert f'"{entry.name}"' in source or f"--section {entry.name}" in entry.command
        else:  # it writes unless told not to
            assert "--no-write" in source or "--no-doc" in source, entry.name
            assert "--no-write" not in entry.command, entry.name


def test_dry_run_prints_every_command_and_runs_none(
    bench_all: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("--dry-run ran a command")

    monkeypatch.setattr(subprocess, "run", refuse)
    assert bench_all.main(["--dry-run"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(bench_all.REGISTRY)
    for line, entry in zip(lines, bench_all.REGISTRY, strict=True):
        script = next(w for w in entry.command.split() if w.startswith("scripts/"))
        assert script in line
        assert sys.executable in line
        assert line.endswith("--write") == (entry.write == "--write")
    assert bench_all.main(["--dry-run", "--only", "camera"]) == 0
    assert capsys.readouterr().out.count("\n") == 1


def test_the_runner_goes_on_past_a_failure_and_exits_1(
    bench_all: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ran: list[list[str]] = []

    def fake_run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        ran.append(argv)
        failed = any("bench_camera.py" in word for word in argv)
        return subprocess.CompletedProcess(argv, 3 if failed else 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    assert bench_all.main(["--only", "camera", "ui-window", "device"]) == 1
    assert len(ran) == 3  # the entries after the failed one ran too
    assert ran[1][-3:] == ["--mode", "window", "--write"]
    out = capsys.readouterr().out
    assert "camera" in out.split("=== summary")[1]
    assert "FAILED (exit status 3)" in out
    assert "--only camera" in out
    assert bench_all.main(["--only", "device", "refit-cartpole"]) == 0  # control: none failed
    with pytest.raises(SystemExit):
        bench_all.main(["--only", "no-such-section"])

"""The teaching benchmark: every lesson over seeds; on how many each claim held.

Runs ``hfrl lesson N --seed S --out runs/teaching/<name>/seed<S>`` for the chosen lessons
(``--lessons``, default every lesson of the registry, so lessons added later are included)
and seeds (``--seeds``), ``--jobs`` lesson processes at a time, each at the lesson's default
budget (``--quick`` for a smoke test). A lesson module may name the options the benchmark
passes it in a literal ``BENCH_ARGS`` tuple (lesson 1: a scripted teacher, no person).

A seed is never run twice for nothing: a run whose ``claims.json`` exists, which finished,
and whose lesson module's file has the same SHA-256 as when it ran (``bench.json`` beside it)
is reused with its recorded wall time. A changed lesson, or a run that failed, runs again in
a fresh folder (lessons keep stored labels, which would otherwise be reused).

The table goes into docs/TEACHING.md between ``<!-- claims-table:start -->`` and
``<!-- claims-table:end -->``: lesson x claim -> held on k of n seeds with each seed's
verdict, and per lesson the wall time of a run (median, max), the load average while the
runs ran, the machine, command and date. Rows of lessons not run this time are kept. A run
that failed is a row of its own, never left out.

Usage:
    nice -n 10 .venv/bin/python scripts/bench_teaching.py --lessons 1 2 3 4 --seeds 0 1 2 3 4 \
        --jobs 2

Classes:
    RunRecord: one lesson run at one seed, as the benchmark saw it.

Functions:
    project_sources: a lesson module and the project modules it imports.
    source_digest: SHA-256 of those files.
    reusable: whether a seed's folder holds a finished run of the same lesson source.
    run_one: run (or reuse) one lesson at one seed.
    lesson_rows: a lesson's table rows from its runs.
    merge_block: the table block with this run's lessons replaced, the others kept.
    write_doc: put the block between the markers of docs/TEACHING.md.
    main: the command line.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import hashlib
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents.lessons import Lesson, find_lesson, lessons  # noqa: E402
from agents.lessons.claims import CLAIMS_FILE, Checked, read_claims  # noqa: E402
from hfrl_gym.errors import ConfigError  # noqa: E402

START, END = "<!-- claims-table:start -->", "<!-- claims-table:end -->"
BENCH_FILE = "bench.json"
LOG_FILE = "lesson.log"
HELD, MISSED = "✓", "✗"
CLAIM_HEADER = "| lesson | claim | held on | per seed |"
TIME_HEADER = (
    "| lesson | wall time per run: median, max | CPU time per run: median, max"
    " | load average (1 min) while its runs ran | machine | command | date |"
)


@dataclass
class RunRecord:
    """One lesson run at one seed.

    Attributes:
        lesson: the lesson.
        seed: its seed.
        wall_s: seconds the run took (when it ran, now or the time it was reused from).
        cpu_s: CPU seconds (user + system) of the lesson's process: on a shared machine the
            time the run would take on an idle core of its own (the lessons use one thread).
        reused: the run was found done, not run now.
        error: why the run failed (``None``: it finished and wrote its claims).
        claims: its checked claims.
        quick: it ran at the ``--quick`` budget.
        load: the 1-minute load average while it ran: (mean, max) of samples.
        date: when it ran (UTC, to the minute).
    """

    lesson: Lesson
    seed: int
    wall_s: float | None
    cpu_s: float | None = None
    reused: bool = False
    error: str | None = None
    claims: list[Checked] = field(default_factory=list)
    quick: bool = False
    load: tuple[float, float] | None = None
    date: str = ""


def module_file(lesson: Lesson) -> Path:
    """The lesson module's source file (found without importing it)."""
    spec = importlib.util.find_spec(f"agents.lessons.{lesson.module}")
    if spec is None or spec.origin is None:
        raise ConfigError(f"lesson {lesson.number}: no module agents.lessons.{lesson.module}")
    return Path(spec.origin)


def project_sources(path: Path) -> list[Path]:
    """``path`` and every project module (``agents``, ``hfrl_gym``) it imports, transitively.

    Imports are read from the source (never run); a module that does not resolve to a file
    of the project is left out, so a lesson's digest changes with any code it runs of ours
    (the loop's parts, ``common.py``), not with third-party packages.
    """
    seen: dict[Path, None] = {}
    todo = [path.resolve()]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen[current] = None
        for node in ast.walk(ast.parse(current.read_text("utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                if name.split(".")[0] not in ("agents", "hfrl_gym"):
                    continue
                parts = ROOT.joinpath(*name.split("."))
                for candidate in (parts.with_suffix(".py"), parts / "__init__.py"):
                    if candidate.is_file():
                        todo.append(candidate.resolve())
    return sorted(seen)


def source_digest(path: Path) -> str:
    """SHA-256 (hex) over ``path`` and the project modules it imports (:func:`project_sources`):
    a finished run is reused only while none of the code it ran has changed."""
    digest = hashlib.sha256()
    for source in project_sources(path):
        name = source.relative_to(ROOT) if source.is_relative_to(ROOT) else source.name
        digest.update(f"{name}\0".encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def bench_args(path: Path) -> list[str]:
    """The literal ``BENCH_ARGS`` of the module at ``path`` (read, never run), else ``[]``."""
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "BENCH_ARGS" for target in node.targets
        ):
            return [str(arg) for arg in ast.literal_eval(node.value)]
    return []


def seed_folder(out: Path, lesson: Lesson, seed: int) -> Path:
    """``out/<lesson name>/seed<seed>``."""
    return out / lesson.name / f"seed{seed}"


def reusable(folder: Path, digest: str, quick: bool) -> dict[str, object] | None:
    """The ``bench.json`` of a finished run of the same source and budget in ``folder``."""
    try:
        record = json.loads((folder / BENCH_FILE).read_text("utf-8"))
        read_claims(folder / CLAIMS_FILE)
    except (OSError, ValueError, ConfigError):
        return None
    same = (
        record.get("source_sha256") == digest
        and record.get("quick") == quick
        and record.get("returncode") == 0
    )
    return record if same else None


def run_one(lesson: Lesson, seed: int, out: Path, *, quick: bool, hfrl: Path) -> RunRecord:
    """Run ``lesson`` at ``seed`` into its folder, or reuse a finished run of the same source."""
    folder = seed_folder(out, lesson, seed)
    source = module_file(lesson)
    digest = source_digest(source)
    record = reusable(folder, digest, quick)
    if record is None:
        if folder.exists():
            shutil.rmtree(folder)  # a fresh start: lessons reuse the labels they find
        folder.mkdir(parents=True)
        command = [str(hfrl), "lesson", str(lesson.number), "--seed", str(seed)]
        command += ["--out", str(folder), *bench_args(source), *(["--quick"] if quick else [])]
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
        env.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", PYTHONHASHSEED="0")
        start = time.monotonic()
        with LoadSampler() as load, (folder / LOG_FILE).open("w", encoding="utf-8") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
        record = {
            "source_sha256": digest,
            "quick": quick,
            "returncode": process.returncode,
            "wall_s": round(time.monotonic() - start, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "load": [round(statistics.fmean(load.samples), 2), round(max(load.samples), 2)],
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "command": command,
        }
        (folder / BENCH_FILE).write_text(json.dumps(record, indent=2) + "\n", "utf-8")
        reused = False
    else:
        reused = True
    wall = float(record["wall_s"])  # type: ignore[arg-type]
    loads = record.get("load")
    cpu = record.get("cpu_s")
    base = RunRecord(
        lesson,
        seed,
        wall,
        cpu_s=float(cpu) if isinstance(cpu, int | float) else None,
        reused=reused,
        load=(float(loads[0]), float(loads[1])) if isinstance(loads, list) else None,
        date=str(record.get("date", "")),
    )
    if record["returncode"] != 0:
        base.error = f"exit {record['returncode']}: {_last(folder)}"
        return base
    try:
        _, _, base.quick, base.claims = read_claims(folder / CLAIMS_FILE)
    except ConfigError as error:
        base.error = str(error)
    return base


def _last(folder: Path) -> str:
    """The last line of a run's log that says something (its error, usually)."""
    try:
        lines = [line.strip() for line in (folder / LOG_FILE).read_text("utf-8").splitlines()]
    except OSError:
        return "no log"
    lines = [line for line in lines if line]
    return lines[-1][:160] if lines else "no output"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def lesson_rows(runs: list[RunRecord]) -> list[str]:
    """The claim rows of one lesson's runs (seed order): held on k of n, each seed's verdict.

    A failed run counts in n and shows as ``failed`` in every claim's row, and has a row of
    its own saying why.
    """
    runs = sorted(runs, key=lambda run: run.seed)
    lesson = runs[0].lesson
    name = f"{lesson.number} {lesson.name}"
    texts: dict[str, str] = {}
    for run in runs:
        for claim in run.claims:
            texts.setdefault(claim.key, claim.text)
    rows = []
    for key, text in texts.items():
        held, marks = 0, []
        for run in runs:
            verdict = {c.key: c.held for c in run.claims}.get(key)
            if run.error is not None:
                marks.append(f"{run.seed} failed")
            elif verdict is None:
                marks.append(f"{run.seed} -")
            else:
                held += verdict
                marks.append(f"{run.seed} {HELD if verdict else MISSED}")
        quick = " (--quick)" if any(run.quick for run in runs) else ""
        rows.append(
            f"| {name} | {_cell(text)} | {held} of {len(runs)}{quick} | {' '.join(marks)} |"
        )
    for run in runs:
        if run.error is not None:
            rows.append(f"| {name} | run failed at seed {run.seed} | - | {_cell(run.error)} |")
    if not texts and all(run.error is None for run in runs):
        rows.append(f"| {name} | (the lesson checks no claims yet) | - | - |")
    return rows


def time_row(runs: list[RunRecord], machine: str, command: str) -> str:
    """The lesson's row: wall and CPU time of a run (median, max), the load average while its
    runs ran (mean, max), the machine, the command, and when its runs ran."""
    lesson = runs[0].lesson
    walls = [run.wall_s for run in runs if run.wall_s is not None]
    cpus = [run.cpu_s for run in runs if run.cpu_s is not None]
    timing = f"{statistics.median(walls):.0f} s, {max(walls):.0f} s" if walls else "-"
    cpu = f"{statistics.median(cpus):.0f} s, {max(cpus):.0f} s" if cpus else "-"
    reused = sum(run.reused for run in runs)
    if reused:
        timing += f" ({reused} of {len(runs)} runs from an earlier call)"
    loads = [run.load for run in runs if run.load is not None]
    load = (
        f"mean {statistics.fmean(m for m, _ in loads):.1f}, max {max(x for _, x in loads):.1f}"
        if loads
        else "-"
    )
    dates = sorted({run.date[:10] for run in runs if run.date})
    date = " to ".join(dict.fromkeys([dates[0], dates[-1]])) if dates else "-"
    return (
        f"| {lesson.number} {lesson.name} | {timing} | {cpu} | {load} | {_cell(machine)} | "
        f"`{_cell(command)}` | {date} |"
    )


def _lesson_number(row: str) -> int | None:
    match = re.match(r"\| (\d+) \S+ \|", row)
    return int(match.group(1)) if match else None


def merge_block(old: str, claim_rows: list[str], time_rows: list[str]) -> str:
    """The table block: ``old``'s rows of other lessons kept, this run's lessons replaced.

    Rows are ordered by lesson number (a lesson's rows keep their order).
    """
    new_numbers = {_lesson_number(row) for row in claim_rows + time_rows}
    kept_claims: list[str] = []
    kept_times: list[str] = []
    section = None
    for line in old.splitlines():
        if line.startswith(CLAIM_HEADER):
            section = kept_claims
        elif line.startswith("| lesson | wall time"):
            section = kept_times
        number = _lesson_number(line)
        if section is not None and number is not None and number not in new_numbers:
            if section is kept_times and line.count("|") == TIME_HEADER.count("|") - 1:
                cells = line.split(" | ")  # a row from before CPU time was recorded
                line = " | ".join([*cells[:2], "-", *cells[2:]])
            section.append(line)

    def ordered(rows: list[str]) -> list[str]:
        return sorted(rows, key=lambda row: _lesson_number(row) or 0)  # stable: keeps order

    lines = [
        "Each lesson at its default budget; a claim's row: on how many seeds it held, and each",
        f"seed's verdict ({HELD} held, {MISSED} not shown, `failed`: the run did not finish).",
        "The CPU time of a run is what it takes on an idle core of its own (a lesson runs",
        "PyTorch on one thread); its wall time also depends on the machine's load.",
        "",
        CLAIM_HEADER,
        "| --- | --- | --- | --- |",
        *ordered(kept_claims + claim_rows),
        "",
        TIME_HEADER,
        "| --- | --- | --- | --- | --- | --- | --- |",
        *ordered(kept_times + time_rows),
    ]
    return "\n".join(lines)


def write_doc(doc: Path, claim_rows: list[str], time_rows: list[str]) -> None:
    """Replace the block between the markers of ``doc`` (kept rows merged in)."""
    text = doc.read_text("utf-8")
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise ConfigError(f"{doc}: needs one {START} line before one {END} line")
    head, rest = text.split(START)
    old, tail = rest.split(END)
    block = merge_block(old, claim_rows, time_rows)
    doc.write_text(f"{head}{START}\n{block}\n{END}{tail}", "utf-8")


class LoadSampler:
    """The 1-minute load average, sampled every ``every`` seconds while the runs run."""

    def __init__(self, every: float = 5.0) -> None:
        self.every, self.samples = every, [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _machine(jobs: int) -> str:
    import platform

    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {jobs} lesson runs at a time, PyTorch 1 thread"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lessons", nargs="+", help="lesson numbers or names (default: all)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--jobs", type=int, default=1, help="lesson processes at once")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "teaching")
    parser.add_argument("--quick", action="store_true", help="the lessons' tiny budgets")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "TEACHING.md")
    parser.add_argument("--no-doc", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    chosen = [find_lesson(key) for key in args.lessons] if args.lessons else lessons()
    hfrl = Path(sys.executable).with_name("hfrl")
    tasks = [(lesson, seed) for lesson in chosen for seed in args.seeds]
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = [
            pool.submit(run_one, lesson, seed, args.out, quick=args.quick, hfrl=hfrl)
            for lesson, seed in tasks
        ]
        results = []
        for (lesson, seed), future in zip(tasks, futures, strict=True):
            run = future.result()
            results.append(run)
            state = "reused" if run.reused else "ran"
            verdict = run.error or " ".join(
                f"{c.key}={HELD if c.held else MISSED}" for c in run.claims
            )
            print(f"lesson {lesson.number} seed {seed}: {state} {run.wall_s} s  {verdict}")
    command = " ".join(["python", "scripts/bench_teaching.py", *sys.argv[1:]])
    claim_rows, time_rows = [], []
    for lesson in chosen:
        runs = [run for run in results if run.lesson == lesson]
        claim_rows += lesson_rows(runs)
        time_rows.append(time_row(runs, _machine(args.jobs), command))
    print("\n" + merge_block("", claim_rows, time_rows))
    if not args.no_doc:
        write_doc(args.doc, claim_rows, time_rows)
        print(f"\nwritten into {args.doc}")
    return 0 if all(run.error is None for run in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Regenerate every generated section of docs/BENCHMARKS.md: one command, ``make bench``.

``REGISTRY`` (``scripts/_bench_registry.py``) lists each section: its name (the ``<!--
bench:NAME:start -->`` and ``<!-- bench:NAME:end -->`` markers around it), the command
docs/BENCHMARKS.md documents for it, and a rough cost on the 2-core development machine; and,
before the sections that tabulate finished runs (``bench_robust.py --compare``), the
documented commands that make those runs, as entries that write no section (``doc`` None).
The runner runs the entries in turn,
each in its own process with the flag that makes its script write its section, goes on past
a failing one, and ends with a summary (exit status 1 if any failed). All of them take hours
on a 2-core machine.

Usage::

    python scripts/bench_all.py                        # every entry
    python scripts/bench_all.py --only camera refit    # some
    python scripts/bench_all.py --list                 # the registry
    python scripts/bench_all.py --dry-run              # the commands, nothing run

Functions:
    command_line: the environment and argument list that run an entry here.
    run_entries: run entries in turn and report each one's outcome.
    main: the command line.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENV_SETTING = re.compile(r"[A-Z_][A-Z0-9_]*=\S*")
sys.path.insert(0, str(REPO / "scripts"))

from _bench_registry import BENCHMARKS, REGISTRY, Entry  # noqa: E402

__all__ = ["BENCHMARKS", "REGISTRY", "Entry", "command_line", "main", "run_entries"]


def command_line(entry: Entry, python: str = sys.executable) -> tuple[dict[str, str], list[str]]:
    """The environment settings and the argument list that run ``entry`` from the repository.

    >>> env, argv = command_line(REGISTRY[3], python="PY")
    >>> env, argv[:4], argv[-1]
    ({'SDL_VIDEODRIVER': 'dummy', 'MUJOCO_GL': 'egl'}, ['nice', '-n', '10', 'PY'], '--write')
    """
    words = shlex.split(entry.command)
    settings: dict[str, str] = {}
    while words and ENV_SETTING.fullmatch(words[0]):
        key, _, value = words.pop(0).partition("=")
        settings[key] = value
    at = next(i for i, word in enumerate(words) if Path(word).name.startswith("python"))
    words[at] = python
    if entry.write is not None and entry.write not in words:
        words.append(entry.write)
    return settings, words


def shown(entry: Entry) -> str:
    """``entry``'s command as it is run, in shell form."""
    settings, words = command_line(entry)
    prefix = [f"{key}={shlex.quote(value)}" for key, value in settings.items()]
    return " ".join([*prefix, shlex.join(words)])


def run_entries(entries: list[Entry]) -> list[tuple[Entry, int, float]]:
    """Run ``entries`` in turn, each in its own process; (entry, exit status, seconds) each."""
    outcomes = []
    for number, entry in enumerate(entries, 1):
        print(f"\n=== [{number}/{len(entries)}] {entry.name} ({entry.cost})", flush=True)
        print(f"$ {shown(entry)}", flush=True)
        settings, words = command_line(entry)
        started = time.monotonic()
        try:
            status = subprocess.run(words, cwd=REPO, env={**os.environ, **settings}).returncode
        except OSError as error:  # the program could not be started at all
            print(f"{entry.name}: {error}", flush=True)
            status = 127
        outcomes.append((entry, status, time.monotonic() - started))
    return outcomes


def summary(outcomes: list[tuple[Entry, int, float]]) -> str:
    """One line per entry run: ok or its exit status, and its wall time."""
    lines = ["", "=== summary"]
    for entry, status, seconds in outcomes:
        verdict = "ok" if status == 0 else f"FAILED (exit status {status})"
        where = entry.doc or "runs only"
        lines.append(f"{entry.name:18} {verdict:28} {seconds / 60:6.1f} min  -> {where}")
    failed = [entry.name for entry, status, _ in outcomes if status != 0]
    if failed:
        lines.append(f"{len(failed)} of {len(outcomes)} failed: {' '.join(failed)}")
        lines.append(f"rerun them: python scripts/bench_all.py --only {' '.join(failed)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run (or list, or show) the registry's entries; 1 if any failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="these sections, in this order")
    parser.add_argument("--list", action="store_true", help="print the registry and stop")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args(argv)
    by_name = {entry.name: entry for entry in REGISTRY}
    unknown = [name for name in args.only or [] if name not in by_name]
    if unknown:
        parser.error(f"no section {', '.join(unknown)}; the sections: {' '.join(by_name)}")
    entries = [by_name[name] for name in args.only] if args.only else list(REGISTRY)
    if args.list:
        for entry in entries:
            where = entry.doc or "runs only"
            print(f"{entry.name:18} {entry.cost}\n{'':18} {entry.command}  -> {where}")
        return 0
    if args.dry_run:
        for entry in entries:
            print(shown(entry))
        return 0
    outcomes = run_entries(entries)
    print(summary(outcomes), flush=True)
    return 1 if any(status != 0 for _, status, _ in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())

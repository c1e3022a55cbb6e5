"""Shared helpers of the benchmark scripts: the machine, timing, the results table, and the
script's section of docs/BENCHMARKS.md.

Functions:
    machine: a one-line description of this machine.
    header: the markdown lines naming a benchmark, its machine, command and date.
    best_seconds: the fastest of a few timings of a call.
    table: a markdown table of rows.
    add_write_option: ``--write`` and ``--section`` on a script's argument parser.
    publish: print a script's block, and write it into its section when ``--write`` asks.
    split_heading: a block's leading heading and the rest.
    write_section: replace (or append) the text between a section's markers in a docs file.

Classes:
    SectionError: a docs file whose markers cannot be matched, or a bad section name.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"
SECTION_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


class SectionError(ValueError):
    """A section name that is not ``lower-case-words``, or markers that do not pair up."""


def machine() -> str:
    """A one-line description of this machine (CPU count, memory, GPU)."""
    import torch

    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {memory_gib:.0f} GiB, {gpu}, "
        f"Python {platform.python_version()}, torch {torch.__version__}"
    )


def header(title: str) -> str:
    """Markdown lines naming the benchmark, machine, command and date."""
    command = " ".join(["python", *sys.argv])
    today = dt.date.today().isoformat()
    return f"### {title}\n\n- machine: {machine()}\n- command: `{command}`\n- date: {today}\n"


def best_seconds(func: Callable[[], object], *, repeat: int = 5) -> float:
    """The fastest of ``repeat`` timings of ``func()`` (the least disturbed by other load)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def table(rows: list[dict[str, object]]) -> str:
    """A markdown table of ``rows`` (the keys of the first row are the columns)."""
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def markers(name: str) -> tuple[str, str]:
    """The start and end markers of section ``name``.

    >>> markers("camera")
    ('<!-- bench:camera:start -->', '<!-- bench:camera:end -->')
    """
    if not SECTION_NAME.fullmatch(name):
        raise SectionError(
            f"section name {name!r}: use lower-case letters, digits and single hyphens "
            "(e.g. 'reward-model')"
        )
    return f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"


def split_heading(text: str) -> tuple[str, str]:
    """``text``'s leading markdown heading (``""`` if none) and the rest, blank lines stripped.

    >>> split_heading("\\n### Camera\\n\\n- date: today\\n")
    ('### Camera', '- date: today')
    >>> split_heading("| a |")
    ('', '| a |')
    """
    body = text.strip("\n")
    first, _, rest = body.partition("\n")
    if re.match(r"#{1,6} ", first):
        return first, rest.strip("\n")
    return "", body


def write_section(name: str, text: str, path: Path | None = None) -> None:
    """Put ``text`` between the ``bench:NAME`` markers of ``path`` (docs/BENCHMARKS.md by
    default), the rest of the file byte for byte.

    Headings stay outside the markers, with the prose: a leading heading of ``text`` (the
    title :func:`header` puts first) is left out of the block, so a rerun never stacks a second
    title under the docs' own. A file without the markers gets a new block at its end, the
    heading above its start marker. The file is replaced atomically (written beside it, then
    renamed), so a reader never sees half of it.
    """
    path = BENCHMARKS if path is None else path
    start, end = markers(name)
    current = path.read_text(encoding="utf-8")
    heading, body = split_heading(text)
    found = current.count(start)
    if found > 1:
        raise SectionError(f"{path}: {start} appears {found} times; keep one block of it")
    if found == 0:
        if end in current:
            raise SectionError(f"{path}: {end} has no {start} before it; add or remove one")
        gap = "" if not current else "\n" if current.endswith("\n") else "\n\n"
        title = f"{heading}\n\n" if heading else ""
        updated = f"{current}{gap}{title}{start}\n{body}\n{end}\n"
    else:
        head, _, rest = current.partition(start)
        if end not in rest:
            raise SectionError(
                f"{path}: {start} has no {end} after it; add the end marker where the "
                "generated text stops, then write again"
            )
        tail = rest[rest.index(end) :]
        updated = f"{head}{start}\n{body}\n{tail}"
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(updated, encoding="utf-8")
    os.replace(temporary, path)


def add_write_option(
    parser: argparse.ArgumentParser, section: str | None, *aliases: str, derived: str = ""
) -> argparse.ArgumentParser:
    """Add ``--write`` (off: the script only prints) and ``--section NAME`` (default: section).

    ``section`` None: ``--section`` defaults to None and the script derives the name from its
    other arguments, as ``derived`` tells the help.
    """
    if section is not None:
        markers(section)
    parser.add_argument(
        "--write",
        *aliases,
        action="store_true",
        help="also write the printed block into docs/BENCHMARKS.md, between its section's "
        "markers (scripts/bench_all.py runs every benchmark so)",
    )
    parser.add_argument(
        "--section",
        default=section,
        metavar="NAME",
        help=f"the bench:NAME markers --write writes between (default {section or derived})",
    )
    return parser


def publish(text: str, args: argparse.Namespace) -> None:
    """Print ``text``; with ``--write``, also put it into ``--section`` of docs/BENCHMARKS.md."""
    print(text, flush=True)
    if args.write:
        write_section(args.section, text)
        print(f"written into {BENCHMARKS} (section {args.section})")

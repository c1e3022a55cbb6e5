"""Shared helpers of the benchmark scripts: the machine, timing, and the results table."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
import time
from collections.abc import Callable


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

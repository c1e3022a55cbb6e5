"""The teacher's dashboard: students' pace, agreement on shared queries, the run's progress.

Pure functions over the store's answers and the run folder's files; the route
(:mod:`human_ui.server.routes_teacher`) puts them together. Agreement is measured on the
queries answered by at least two students (the class's shared queries), over the verdicts
``left``, ``right`` and ``equal`` (skips say nothing about the pair).

Functions:
    fleiss_kappa: Fleiss' kappa of items rated by varying numbers of raters.
    agreement: kappa over the shared queries and each student against the majority.
    pairwise: each pair of students' share of the same verdict (the agreement matrix).
    pace: answers, answers per minute and median seconds per label of each student.
    per_minute: answers in each of the last minutes.
    run_metrics: the reward model's validation accuracy and the true-return curve.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hfrl_gym.store_records import AnswerRecord

VERDICTS = ("left", "right", "equal")


def fleiss_kappa(items: Sequence[Counter[str]]) -> float | None:
    """Fleiss' kappa over items, each a count of raters per category (at least 2 raters).

    Items may have different numbers of raters (each item's agreement is over its own
    pairs of raters). ``None`` when no item has two raters, or chance agreement is 1.

    Example:
        >>> round(fleiss_kappa([Counter(left=2), Counter(right=2), Counter(left=1, right=1)]), 3)
        0.333
    """
    rated = [item for item in items if sum(item.values()) >= 2]
    if not rated:
        return None
    observed = []
    totals: Counter[str] = Counter()
    for item in rated:
        n = sum(item.values())
        observed.append((sum(c * c for c in item.values()) - n) / (n * (n - 1)))
        totals.update(item)
    grand = sum(totals.values())
    chance = sum((count / grand) ** 2 for count in totals.values())
    if math.isclose(chance, 1.0):
        return None
    return (statistics.fmean(observed) - chance) / (1.0 - chance)


def _shared_verdicts(latest: Sequence[AnswerRecord]) -> dict[int, dict[str, str]]:
    """``{query id: {student: verdict}}`` of the queries with verdicts from two or more."""
    by_query: dict[int, dict[str, str]] = defaultdict(dict)
    for record in latest:
        if record.choice.value in VERDICTS:
            by_query[record.query_id][record.annotator] = record.choice.value
    return {qid: votes for qid, votes in by_query.items() if len(votes) >= 2}


def agreement(latest: Sequence[AnswerRecord]) -> dict[str, Any]:
    """Agreement on the queries with verdicts from two or more students.

    Args:
        latest: each student's newest answer to each query.

    Returns:
        ``{"shared_queries": n, "fleiss_kappa": k | None, "with_majority": {name: share}}``:
        each student's share of agreement with the strict majority of the others and
        themselves, over the shared queries they answered that have one.
    """
    shared = _shared_verdicts(latest)
    items = [Counter(votes.values()) for votes in shared.values()]
    agree: dict[str, list[bool]] = defaultdict(list)
    for votes, counts in zip(shared.values(), items, strict=True):
        (top, top_count), *_ = counts.most_common(1)
        if top_count * 2 > sum(counts.values()):  # a strict majority
            for name, verdict in votes.items():
                agree[name].append(verdict == top)
    return {
        "shared_queries": len(shared),
        "fleiss_kappa": fleiss_kappa(items),
        "with_majority": {name: statistics.fmean(hits) for name, hits in agree.items()},
    }


def pairwise(latest: Sequence[AnswerRecord], names: Sequence[str]) -> list[list[float | None]]:
    """The agreement matrix: row ``i``, column ``j`` is the share of the queries both
    ``names[i]`` and ``names[j]`` gave a verdict to on which they gave the same (``None``:
    they shared none; the diagonal is 1 for a student with a shared verdict).

    Example:
        >>> from hfrl_gym.answers import Choice
        >>> def rec(q, who, verdict):
        ...     return AnswerRecord(0, q, Choice(verdict), who, 1.0, 0.0, None)
        >>> latest = [rec(1, "a", "left"), rec(1, "b", "left"), rec(2, "a", "left"),
        ...           rec(2, "b", "right"), rec(2, "c", "right")]
        >>> pairwise(latest, ["a", "b", "c"])
        [[1.0, 0.5, 0.0], [0.5, 1.0, 1.0], [0.0, 1.0, 1.0]]
    """
    shared = _shared_verdicts(latest)
    matrix: list[list[float | None]] = []
    for first in names:
        row: list[float | None] = []
        for second in names:
            both = [v for v in shared.values() if first in v and second in v]
            row.append(statistics.fmean(v[first] == v[second] for v in both) if both else None)
        matrix.append(row)
    return matrix


def pace(answers: Sequence[AnswerRecord], now: float) -> dict[str, dict[str, float | int]]:
    """Each annotator's answers, answers per minute (from their first answer to ``now``) and
    median seconds per label."""
    by_name: dict[str, list[AnswerRecord]] = defaultdict(list)
    for record in answers:
        by_name[record.annotator].append(record)
    result = {}
    for name, records in by_name.items():
        minutes = max((now - min(r.created for r in records)) / 60.0, 1.0)
        result[name] = {
            "answered": len({r.query_id for r in records}),
            "answers_per_minute": len(records) / minutes,
            "seconds_per_label": statistics.median(r.seconds for r in records),
        }
    return result


def per_minute(answers: Sequence[AnswerRecord], now: float, minutes: int = 60) -> list[dict]:
    """Answers given in each of the last ``minutes`` whole minutes (oldest first)."""
    last = int(now // 60)
    counts = Counter(int(record.created // 60) for record in answers)
    return [
        {"minute": minute * 60, "answers": counts.get(minute, 0)}
        for minute in range(last - minutes + 1, last + 1)
    ]


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def run_metrics(run_folder: Path | None) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The newest validation accuracy of the reward model and the true-return curve, from
    the run's ``metrics.csv`` (``None`` and ``[]`` without one)."""
    path = None if run_folder is None else run_folder / "metrics.csv"
    if path is None or not path.is_file():
        return None, []
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    curve = []
    model = None
    for row in rows:
        steps, value = _number(row.get("env_steps")), _number(row.get("true_return_mean"))
        round_index = _number(row.get("round"))
        if steps is not None and value is not None:
            curve.append({"round": round_index, "env_steps": steps, "true_return": value})
        accuracy = _number(row.get("val_accuracy"))
        if accuracy is not None:
            model = {"validation_accuracy": accuracy, "round": round_index}
    return model, curve

"""The end of a live lesson: whose labels make the better agent, and how much the class agreed.

The agents are ``agents.class_agents``'s: the run's own (the class's), the class's answers fit
again, the oracle's answers to the same queries, up to five students' answers alone, and the
constant-reward control, each PPO for the same env steps from the same seed. The agreement is
the dashboard's (``human_ui.server.dashboard``): Fleiss' kappa over the shared queries, each
student against the majority, and the pairwise matrix. All of it goes to
``comparison/comparison.json`` (written as each agent is done, so the dashboard shows the
progress), a figure ``comparison/comparison.png`` and a printed table.

Functions:
    class_students: the class's students and their number of answers.
    choose_students: the students whose agents are made (the named ones, or the five with
        the most answers).
    class_agreement: the agreement of the class's answers.
    compare_lesson: make the agents, write the comparison and its figure; return it.
    table: the comparison as printed lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from hfrl_gym.store import LabelStore
from human_ui.server import dashboard
from human_ui.server.class_db import ClassDatabase, class_database_path
from human_ui.server.live_folder import LessonFolder

MAX_CHOSEN = 5


def class_students(lesson: LessonFolder) -> dict[str, int]:
    """Each student of the class (the class's database) and their number of answered
    queries, in the order they joined."""
    store_path = lesson.run / "store.sqlite"
    classes = ClassDatabase(class_database_path(store_path))
    try:
        names = [member.name for member in classes.students()]
    finally:
        classes.close()
    with LabelStore(store_path, create=False) as store:
        latest = store.latest_answers_per_annotator()
    counts = {name: 0 for name in names}
    for record in latest:
        if record.annotator in counts:
            counts[record.annotator] += 1
    return counts


def choose_students(counts: dict[str, int], named: Sequence[str] | None) -> list[str]:
    """The named students, or the five with the most answers (at least one).

    Unknown names are refused later, with the class's names (``plan_agents``).

    Example:
        >>> choose_students({"a": 3, "b": 9, "c": 0, "d": 3}, None)
        ['b', 'a', 'd']
    """
    if named:
        return list(dict.fromkeys(named))
    ranked = sorted((name for name, n in counts.items() if n > 0), key=lambda n: -counts[n])
    return ranked[:MAX_CHOSEN]


def class_agreement(lesson: LessonFolder, names: Sequence[str]) -> dict[str, Any]:
    """The dashboard's agreement of the students ``names`` and their pairwise matrix."""
    with LabelStore(lesson.run / "store.sqlite", create=False) as store:
        latest = [r for r in store.latest_answers_per_annotator() if r.annotator in set(names)]
    result = dashboard.agreement(latest)
    answered = [name for name in names if any(r.annotator == name for r in latest)]
    result["pairwise"] = {"names": answered, "matrix": dashboard.pairwise(latest, answered)}
    return result


def compare_lesson(
    lesson: LessonFolder,
    *,
    named: Sequence[str] | None,
    num_env_steps: int,
    eval_episodes: int,
    jobs: int,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Make the comparison's agents and write it (JSON as it goes, the figure at the end).

    Raises:
        ConfigError: a named student is not in the class (before anything is trained or
            written; the lesson's run and answers are untouched).
    """
    from agents.class_agents import (
        compare_agents,
        comparison_figure,
        plan_agents,
        results_table,
    )

    counts = class_students(lesson)
    chosen = choose_students(counts, named)
    specs = plan_agents(
        lesson.run,
        students=list(counts),
        chosen=chosen,
        num_env_steps=num_env_steps,
        eval_episodes=eval_episodes,
    )
    settings = lesson.settings()
    comparison: dict[str, Any] = {
        "finished": False,
        "env_id": specs[0].env_id,
        "num_env_steps": num_env_steps,
        "eval_episodes": eval_episodes,
        "students": counts,
        "chosen": chosen,
        "presets": settings.get("presets") or {},
        "agreement": class_agreement(lesson, list(counts)),
        "agents": [],
    }
    lesson.write_comparison(comparison)
    started = time.monotonic()
    log = lesson.log_path.open("a", encoding="utf-8")

    def progress(line: str) -> None:
        say(line)
        log.write(line + "\n")
        log.flush()

    try:
        say(
            f"training {len(specs)} agents of {num_env_steps:,} env steps each, {jobs} at a "
            "time (meanwhile: the agreement is on the dashboard)"
        )
        results = compare_agents(
            lesson.run,
            specs,
            students=list(counts),
            eval_episodes=eval_episodes,
            jobs=jobs,
            say=progress,
        )
    finally:
        log.close()
    comparison["agents"] = results_table(results)
    comparison["seconds"] = round(time.monotonic() - started, 1)
    kappa = comparison["agreement"]["fleiss_kappa"]
    comparison_figure(
        results,
        comparison["agreement"],
        lesson.figure_path,
        title=f"{comparison['env_id']}: {sum(counts.values())} answers from {len(counts)} "
        f"students; agents of {num_env_steps:,} env steps"
        + ("" if kappa is None else f"; Fleiss' κ {kappa:.2f}"),
    )
    comparison["finished"] = True
    lesson.write_comparison(comparison)
    return comparison


def table(comparison: dict[str, Any]) -> list[str]:
    """The comparison as lines: one per agent, then the agreement.

    Example:
        >>> lines = table({"agents": [{"name": "oracle", "labels": 40, "true_return_mean":
        ...     500.0, "true_return_std": 0.0, "note": ""}], "agreement": {"fleiss_kappa": 0.5,
        ...     "shared_queries": 12, "with_majority": {"ana": 0.75}}, "presets": {}})
        >>> print("\\n".join(lines))
        agent                          labels   true return
        oracle                             40   500.0 ± 0.0
        Fleiss' kappa 0.50 over 12 shared queries; with the majority: ana 75%
    """
    lines = [f"{'agent':<28} {'labels':>8}   true return"]
    for agent in comparison["agents"]:
        mean = agent["true_return_mean"]
        value = (
            f"{mean:.1f} ± {agent['true_return_std']:.1f}" if mean is not None else agent["note"]
        )
        lines.append(f"{agent['name']:<28} {agent['labels']:>8}   {value}")
    agreement = comparison["agreement"]
    kappa = agreement["fleiss_kappa"]
    majority = ", ".join(
        f"{name} {round(100 * share)}%" for name, share in agreement["with_majority"].items()
    )
    lines.append(
        f"Fleiss' kappa {'–' if kappa is None else f'{kappa:.2f}'} over "
        f"{agreement['shared_queries']} shared queries; with the majority: {majority or '–'}"
    )
    return lines

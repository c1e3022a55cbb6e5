"""Classroom lessons on RLHF: ``hfrl lesson`` lists them, ``hfrl lesson N`` runs one.

Each lesson prints a short plain-language explanation, runs on a laptop CPU in about two
minutes or less at its default settings, writes its figures into ``--out`` (default
``lessons/<name>/``) and prints where they are. ``--quick`` runs it at a tiny budget (tests,
a first try). docs/TEACHING.md turns them into a 90-minute class.

Modules:
    common: options, explanations, the loop's parts set up for a lesson, and figure helpers.
    claims: what a lesson claims, checked on what its run did (``claims.json``).
    preferences (1), reward_model (2), learned_reward (3), termination (4), noisy_people
    (5), reward_hacking (6), new_behaviour (7), pipeline (8), feedback_kinds (9),
    active_queries (10): one lesson each, with ``run(args) -> figure paths``, its
    ``CLAIMS`` and, when it has options of its own, ``add_arguments``.
    handout_texts, handouts: a one-page handout per lesson and a reading list
    (``hfrl lesson handouts``), generated from the lessons.

Classes:
    Lesson: one entry of the registry.

Functions:
    lessons: the registry, in class order.
    find_lesson: a lesson by number or name.
    lesson_parser: a lesson's option parser (its own options and the common ones).
    run_lesson: parse a lesson's options and run it.
    main: ``hfrl lesson [N|NAME] [options]``, ``hfrl lesson handouts``.

Listing the lessons imports none of them (nor PyTorch): ``hfrl lesson`` answers at once.
"""

from __future__ import annotations

import argparse
import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from hfrl_gym.cli import seed
from hfrl_gym.errors import ConfigError

if TYPE_CHECKING:
    from agents.answerers import WindowFactory


@dataclass(frozen=True)
class Lesson:
    """One lesson of ``hfrl lesson``.

    Attributes:
        number: 1, 2, ...: the order of the class.
        name: the short name (``hfrl lesson NAME``), also the default output folder.
        summary: one line for the list.
        module: the module under ``agents.lessons`` that runs it.

    Example:
        >>> lesson = Lesson(4, "termination-leak", "a constant reward", "termination")
        >>> lesson.default_out
        PosixPath('lessons/termination-leak')
    """

    number: int
    name: str
    summary: str
    module: str

    @property
    def default_out(self) -> Path:
        """``lessons/<name>``."""
        return Path("lessons") / self.name

    def load(self) -> ModuleType:
        """The lesson's module (imported now: PyTorch and friends come with it)."""
        return importlib.import_module(f"agents.lessons.{self.module}")


_LESSONS = (
    Lesson(
        1,
        "preferences",
        "label pairs of clips yourself (or watch a scripted teacher); see the dataset",
        "preferences",
    ),
    Lesson(
        2,
        "reward-model",
        "fit a reward model on preferences: accuracy, learned vs true return",
        "reward_model",
    ),
    Lesson(
        3,
        "learned-reward",
        "PPO on the learned reward vs the true reward vs a constant reward (Acrobot)",
        "learned_reward",
    ),
    Lesson(
        4,
        "termination-leak",
        "a constant +1 reward solves CartPole-v1 (episodes end early), not the suite env",
        "termination",
    ),
    Lesson(
        5,
        "noisy-people",
        "six B-Pref teachers and a careless one: label and reward accuracy, agents vs a control",
        "noisy_people",
    ),
    Lesson(
        6,
        "reward-hacking",
        "optimise a reward model fit on too few labels: learned return up, true return not",
        "reward_hacking",
    ),
    Lesson(
        7,
        "new-behaviour",
        "teach the pendulum to spin from preferences alone; evaluated on that goal",
        "new_behaviour",
    ),
    Lesson(
        8,
        "full-pipeline",
        "as for language models: clone demonstrations, learn a reward, PPO with a KL leash",
        "pipeline",
    ),
    Lesson(
        9,
        "feedback-kinds",
        "preferences vs ratings vs demonstrations on one budget; mode collapse",
        "feedback_kinds",
    ),
    Lesson(
        10,
        "active-queries",
        "which pairs to ask: ensemble disagreement vs random pairs, accuracy per label",
        "active_queries",
    ),
)


def lessons() -> list[Lesson]:
    """The lessons, in the order of the class.

    Example:
        >>> [(lesson.number, lesson.name) for lesson in lessons()][:2]
        [(1, 'preferences'), (2, 'reward-model')]
    """
    return list(_LESSONS)


def find_lesson(key: str) -> Lesson:
    """The lesson numbered or named ``key``.

    Raises:
        ConfigError: no such lesson; the message lists them.

    Example:
        >>> find_lesson("4").name, find_lesson("reward-hacking").number
        ('termination-leak', 6)
    """
    for lesson in _LESSONS:
        if key in (str(lesson.number), lesson.name):
            return lesson
    names = ", ".join(f"{lesson.number} {lesson.name}" for lesson in _LESSONS)
    raise ConfigError(f"no lesson {key!r}; choose one of: {names} (list them with `hfrl lesson`)")


def _listing() -> str:
    lines = ["Lessons (run one with `hfrl lesson N` or `hfrl lesson NAME`):", ""]
    lines += [f"  {lesson.number:>2}  {lesson.name:<18} {lesson.summary}" for lesson in _LESSONS]
    lines += [
        "",
        "Options of a lesson: `hfrl lesson N --help`. A lesson plan: docs/TEACHING.md.",
        "A one-page handout per lesson and a reading list: `hfrl lesson handouts`.",
        "The live lesson, where the class labels one run from their browsers: "
        "`hfrl lesson live --help`.",
    ]
    return "\n".join(lines)


def lesson_parser(lesson: Lesson, module: ModuleType) -> argparse.ArgumentParser:
    """The option parser of ``lesson`` (its module ``module``): ``--out``, ``--quick``,
    ``--seed`` and the module's own (``add_arguments``)."""
    parser = argparse.ArgumentParser(
        prog=f"hfrl lesson {lesson.name}",
        description=f"Lesson {lesson.number}: {lesson.summary}",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=lesson.default_out,
        help=f"folder for the figures (default: {lesson.default_out})",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a tiny budget: draws the figures in seconds"
    )
    parser.add_argument("--seed", type=seed, default=0, help="seed of everything random")
    if hasattr(module, "add_arguments"):
        module.add_arguments(parser)
    return parser


def run_lesson(
    lesson: Lesson, argv: list[str], *, window_answerer: WindowFactory | None = None
) -> list[Path]:
    """Parse a lesson's options (``argv``, after its name) and run it; return its figures.

    ``window_answerer`` makes the comparison window's answerer, for lessons where a person
    labels (handed in by the ``hfrl`` command, since ``agents`` never imports ``human_ui``).

    PyTorch is limited to one thread while the lesson runs (and restored after): the
    networks are small, and on a laptop, or a shared machine, more threads make PPO several
    times slower.
    """
    import torch

    from agents.lessons.common import LessonArgs

    module = lesson.load()
    args = lesson_parser(lesson, module).parse_args(argv)
    common = {"out", "quick", "seed"}
    extra = {key: value for key, value in vars(args).items() if key not in common}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        lesson_args = LessonArgs(
            out=args.out,
            quick=args.quick,
            seed=args.seed,
            extra=extra,
            window_answerer=window_answerer,
        )
        return module.run(lesson_args)
    finally:
        torch.set_num_threads(threads)


def main(argv: list[str], *, window_answerer: WindowFactory | None = None) -> int:
    """``hfrl lesson``: list the lessons, run one, or write the handouts (``argv[0]`` is
    ``"lesson"``)."""
    rest = list(argv[1:])
    if not rest or rest[0] in ("-h", "--help", "list"):
        print(_listing())
        return 0
    if rest[0] == "handouts":
        from agents.lessons import handouts

        return handouts.main(rest[1:])
    lesson = find_lesson(rest[0])
    figures = run_lesson(lesson, rest[1:], window_answerer=window_answerer)
    print(f"\nLesson {lesson.number} ({lesson.name}) figures:")
    for path in figures:
        print(f"  {path}")
    return 0

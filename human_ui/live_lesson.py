"""``hfrl lesson live``: the class labels one run from their browsers; the agent improves on
the teacher's screen; at the end, whose labels made the better agent.

One command starts the lesson's parts (``human_ui.live_parts``): the run (``hfrl train
--async --teacher store``: PPO never waits for the class), the label server on it (``hfrl
serve``), and a filmer that films the agent at each checkpoint for the dashboard's row of
videos. It prints the join code, the students' address and the dashboard's. The lesson ends
when the run has spent its env steps (its labels, if the class is fast, before), or when the
teacher presses Ctrl-C (the run stops at once; its last checkpoint is the class's agent).
Then ``human_ui.live_compare`` trains the comparison's agents and writes the figure and the
table, shown on the dashboard too, which stays up until Ctrl-C (``--exit-at-end``: not).

``--dry-run --students K`` rehearses it unattended: K simulated students (each a B-Pref
teacher: oracle, noisy, mistaken, myopic in turn) label through the real server.
``--compare-only`` makes the comparison of a finished lesson again (other students, say).

Classes:
    LiveSettings: the lesson's settings, checked.

Functions:
    build_parser: the ``hfrl lesson live`` parser.
    main: the entry point (``main(argv)``, argv starting with ``lesson live``).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from hfrl_gym.cli import positive_int, seed
from hfrl_gym.errors import ConfigError
from human_ui.server.live_folder import LessonFolder

QUICK = {"labels": 12, "steps": 6_000, "rounds": 3, "compare_steps": 2_048, "eval_episodes": 2}
"""``--quick``: a tiny budget (tests, a first try): nothing is meant to learn."""
QUICK_TRAIN = ("--initial-steps", "400", "--clip-steps", "10", "--explore-fraction", "0")


@dataclass(frozen=True)
class LiveSettings:
    """A live lesson's settings (``lesson.json``).

    Attributes:
        env: the suite env; goal: what the class is asked to judge by.
        labels, steps, rounds: the run's label budget, env steps and checkpoints (videos).
        seed: the run's seed, and every comparison agent's.
        queue_low: unanswered queries the run keeps posted (enough for the whole class).
        shared_every, answers_per_query: one query in ``shared_every`` goes to
            ``answers_per_query`` students, so that agreement is measured.
        compare_steps: env steps of each comparison agent.
        eval_episodes: evaluation episodes of every agent.
        dry_run: simulated students label (``students`` of them, one answer every
            ``answer_every_s`` seconds each).
        presets: a simulated student's B-Pref teacher, by name.
    """

    env: str
    goal: str
    labels: int
    steps: int
    rounds: int
    seed: int
    queue_low: int
    shared_every: int
    answers_per_query: int
    compare_steps: int
    eval_episodes: int
    quick: bool
    dry_run: bool
    students: int
    answer_every_s: float
    presets: dict[str, str]

    def train_args(self) -> list[str]:
        """The run's ``hfrl train`` flags (``--out`` aside)."""
        args = [
            "--env", self.env, "--goal", self.goal, "--labels", str(self.labels),
            "--steps", str(self.steps), "--rounds", str(self.rounds), "--seed", str(self.seed),
            "--queue-low", str(self.queue_low), "--eval-episodes", str(self.eval_episodes),
        ]  # fmt: skip
        return [*args, *(QUICK_TRAIN if self.quick else ())]


def build_parser() -> argparse.ArgumentParser:
    """The ``hfrl lesson live`` parser."""
    parser = argparse.ArgumentParser(
        prog="hfrl lesson live",
        description="The live lesson: the class labels one run from their browsers (the label "
        "server, asynchronous training), watches the agent improve at each checkpoint on the "
        "dashboard, and ends comparing the class's agent with the oracle's and single "
        "students'. Rehearse it with --dry-run (docs/TEACHING.md).",
    )
    parser.add_argument("--out", type=Path, default=Path("lessons/live"), help="lesson folder")
    parser.add_argument("--env", default="hfrl/CartPole-v0", help="suite env id")
    parser.add_argument("--goal", default="task", help="goal the class judges by")
    parser.add_argument("--labels", type=positive_int, help="label budget (default 100)")
    parser.add_argument("--steps", type=positive_int, help="env steps (default 100000)")
    parser.add_argument("--rounds", type=positive_int, help="checkpoints filmed (default 10)")
    parser.add_argument("--seed", type=seed, default=0, help="seed of the run and the agents")
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0: the classroom's network")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--queue-low",
        type=positive_int,
        default=32,
        help="unanswered queries kept posted (default 32: a class of 30)",
    )
    parser.add_argument(
        "--shared-every",
        type=positive_int,
        default=3,
        help="one query in this many goes to several students (default 3)",
    )
    parser.add_argument(
        "--answers-per-query",
        type=positive_int,
        default=3,
        help="students who answer a shared query (default 3)",
    )
    parser.add_argument(
        "--compare-students",
        nargs="+",
        metavar="NAME",
        help="students whose own agents are compared (at most 5; default: "
        "the five with the most answers)",
    )
    parser.add_argument(
        "--compare-steps",
        type=positive_int,
        help="env steps of each comparison agent (default: --steps)",
    )
    parser.add_argument("--eval-episodes", type=positive_int, help="episodes per evaluation")
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=max(1, min(2, os.cpu_count() or 1)),
        help="comparison agents trained at a time (default: 2 CPUs' worth)",
    )
    parser.add_argument("--dry-run", action="store_true", help="simulated students label")
    parser.add_argument(
        "--students",
        type=positive_int,
        default=10,
        help="simulated students of --dry-run (default 10)",
    )
    parser.add_argument(
        "--answer-every",
        type=float,
        default=2.0,
        metavar="S",
        help="seconds between a simulated student's answers (default 2)",
    )
    parser.add_argument("--quick", action="store_true", help="a tiny budget (tests, a first try)")
    parser.add_argument(
        "--exit-at-end",
        action="store_true",
        help="stop the server after the comparison instead of at Ctrl-C",
    )
    parser.add_argument(
        "--compare-only",
        action="store_true",
        help="make the comparison of the finished lesson in --out again",
    )
    return parser  # fmt: skip


def _settings(args: argparse.Namespace) -> LiveSettings:
    from human_ui.live_parts import student_names
    from human_ui.simulated_students import class_presets

    def pick(name: str, full: int) -> int:
        given = getattr(args, name)
        return given if given is not None else QUICK[name] if args.quick else full

    steps = pick("steps", 100_000)
    if not 1 <= args.port <= 65535:
        raise ConfigError(f"--port must be 1-65535, got {args.port}")
    if not args.answer_every >= 0:
        raise ConfigError(f"--answer-every must be >= 0 seconds, got {args.answer_every}")
    if args.compare_students and len(args.compare_students) > 5:
        raise ConfigError(
            f"--compare-students takes at most 5 students, got {len(args.compare_students)}"
        )
    names = student_names(args.students) if args.dry_run else []
    return LiveSettings(
        env=args.env, goal=args.goal, labels=pick("labels", 100), steps=steps,
        rounds=pick("rounds", 10), seed=args.seed, queue_low=args.queue_low,
        shared_every=args.shared_every, answers_per_query=args.answers_per_query,
        compare_steps=args.compare_steps or (QUICK["compare_steps"] if args.quick else steps),
        eval_episodes=pick("eval_episodes", 10), quick=args.quick, dry_run=args.dry_run,
        students=len(names), answer_every_s=args.answer_every,
        presets=dict(zip(names, class_presets(len(names)), strict=True)),
    )  # fmt: skip


def _check_run(settings: LiveSettings, run: Path) -> None:
    """The run's flags parsed and its budgets planned as ``hfrl train`` will, before anything
    is made (a wrong env, goal or budget: one line, nothing written)."""
    from agents.config import add_config_arguments, config_from_args
    from agents.rlhf_loop import plan_run
    from hfrl_gym.envs import get_goal

    parser = argparse.ArgumentParser(prog="hfrl lesson live", add_help=False)
    add_config_arguments(parser)
    flags = ["--teacher", "store", "--async", *settings.train_args(), "--out", str(run)]
    config = config_from_args(parser.parse_args(flags))
    get_goal(config.env, config.goal)
    plan_run(config)


def _check_names(named: Sequence[str] | None, names: Sequence[str]) -> None:
    unknown = [name for name in named or () if name not in names]
    if unknown:
        raise ConfigError(
            f"no student {unknown[0]!r} in the simulated class; --compare-students takes its "
            f"names: {', '.join(names)}"
        )


def _say(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)


def _compare(lesson: LessonFolder, args: argparse.Namespace, settings: dict) -> None:
    from human_ui.live_compare import compare_lesson, table

    try:
        comparison = compare_lesson(
            lesson,
            named=args.compare_students,
            num_env_steps=int(args.compare_steps or settings["compare_steps"]),
            eval_episodes=int(settings["eval_episodes"]),
            jobs=args.jobs,
            say=_say,
        )
    except ConfigError as error:
        raise ConfigError(
            f"{error}; the lesson is kept: compare again with `hfrl lesson live --out "
            f"{lesson.root} --compare-only --compare-students NAME...`"
        ) from None
    print("\n".join(["", *table(comparison), ""]))
    print(f"figure: {lesson.figure_path}  (also on the dashboard)", flush=True)


def _run(lesson: LessonFolder, settings: LiveSettings, args: argparse.Namespace) -> None:
    from hfrl_gym.store import LabelStore
    from human_ui.live_parts import (
        RoundFilmer,
        join_students,
        local_url,
        start_server,
        start_training,
    )
    from human_ui.server.cli import build_parser as serve_parser
    from human_ui.server.cli import prepare

    training = start_training(lesson, settings.train_args(), timeout_s=300)
    server = filmer = None
    students = []
    try:
        with LabelStore(lesson.run / "store.sqlite", create=False) as store:
            store.set_shared_answers(every=settings.shared_every, k=settings.answers_per_query)
        serve_args = [str(lesson.run), "--host", args.host, "--port", str(args.port)]
        _, lines = prepare(serve_parser().parse_args(serve_args))  # the token, printed once
        server = start_server(lesson, host=args.host, port=args.port, timeout_s=120)
        for line in lines:
            print(line, flush=True)
        filmer = RoundFilmer(lesson, _say)
        filmer.start()
        if settings.dry_run:
            url = local_url(args.host, args.port)
            code = next(line.split()[2] for line in lines if line.startswith("join code:"))
            students = join_students(
                url, code, lesson, env_id=settings.env, goal=settings.goal,
                names=list(settings.presets), seed=settings.seed,
                answer_every_s=settings.answer_every_s,
            )  # fmt: skip
            _say(
                f"dry run: {len(students)} simulated students label ({', '.join(settings.presets)})"
            )
        _say("the class labels; the run ends by itself, or press Ctrl-C to end it now")
        try:
            while training.running():
                time.sleep(0.5)
        except KeyboardInterrupt:
            _say("ending the lesson's run (its last checkpoint is the class's agent)")
        status = training.stop()
        for student in students:
            student.stop()
        filmer.stop()
        if filmer.failures:
            _say(f"{len(filmer.failures)} checkpoint videos failed (last: {filmer.failures[-1]})")
        if status not in (0, 130, -2):
            _say(f"the run ended with status {status}: {training.tail()}")
        _compare(lesson, args, asdict(settings))
        if not args.exit_at_end:
            _say("the dashboard stays up; press Ctrl-C to stop the server")
            while server.running():
                time.sleep(0.5)
    except KeyboardInterrupt:
        _say("stopped")
    finally:  # the child processes first: nothing after them may keep them running
        training.stop()
        if server is not None:
            server.stop()
        for student in students:
            student.stop()
        if filmer is not None and filmer.is_alive():
            filmer.stop()


def main(argv: Sequence[str]) -> int:
    """``hfrl lesson live [options]`` (``argv`` starts with ``lesson live``)."""
    argv = list(argv)
    if argv[:2] == ["lesson", "live"]:
        argv = argv[2:]
    args = build_parser().parse_args(argv)
    lesson = LessonFolder(args.out)
    if args.compare_only:
        _compare(lesson, args, lesson.settings())
        return 0
    settings = _settings(args)
    _check_run(settings, lesson.run)
    if settings.dry_run:
        _check_names(args.compare_students, list(settings.presets))
    if lesson.exists() or (lesson.root.exists() and any(lesson.root.iterdir())):
        raise ConfigError(
            f"--out {lesson.root} is not empty; pass a new folder (or --compare-only to compare "
            "the lesson in it again)"
        )
    lesson.root.mkdir(parents=True, exist_ok=True)
    lesson.write_settings(asdict(settings))
    _run(lesson, settings, args)
    return 0

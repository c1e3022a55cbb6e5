"""The parts of a live lesson: its run and its label server as processes, the filmer, a
simulated class.

The run is ``hfrl train --async --teacher store`` and the server ``hfrl serve``, each started
as a person starts them (``python -m human_ui.cli ...``), in a session of its own: the
teacher's Ctrl-C reaches the lesson alone, which then stops the run and keeps the dashboard
up for the comparison. Their output goes to ``train.log`` and ``server.log`` in the lesson's
folder.

Classes:
    Child: one child process of the lesson (its command, its log, stopping it).
    RoundFilmer: films the run's agent at each new checkpoint (``rounds/``).

Functions:
    start_training: the run, started.
    start_server: the label server on the run, started and answering.
    join_students: simulated students (``--dry-run``) joined to the class and labelling.
    student_names: the names of a simulated class.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from hfrl_gym.errors import ConfigError, HfrlError
from human_ui.server.live_folder import LessonFolder
from human_ui.server_client import ServerClient
from human_ui.simulated_students import SimulatedStudent, TeacherChooser, class_presets
from human_ui.source_errors import SourceError

Say = Callable[[str], None]
FIRST_NAMES = ("ada", "ben", "cai", "dee", "eli", "fay", "gus", "hal", "ivy", "jon", "kim", "lou")


class Child:
    """A child process of the lesson, in its own session, its output in ``log``.

    Args:
        name: what it is, for messages (``training``, ``server``).
        args: the command.
        log: the file its stdout and stderr go to.
    """

    def __init__(self, name: str, args: Sequence[str], log: Path) -> None:
        self.name, self.log = name, log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                list(args), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def running(self) -> bool:
        """Whether it still runs."""
        return self.process.poll() is None

    def tail(self, num_lines: int = 5) -> str:
        """The last lines of its log, on one line."""
        try:
            lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return " | ".join(line.strip() for line in lines[-num_lines:] if line.strip())

    def stop(self, timeout_s: float = 60.0) -> int | None:
        """``SIGINT`` (as Ctrl-C), then ``SIGKILL`` if it does not end; its exit status."""
        if self.running():
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        return self.process.returncode


def _hfrl(*args: str) -> list[str]:
    return [sys.executable, "-m", "human_ui.cli", *args]


def start_training(lesson: LessonFolder, train_args: Sequence[str], *, timeout_s: float) -> Child:
    """Start ``hfrl train --async --teacher store`` into ``lesson.run``; return once its store
    holds the first queries (the server serves that store).

    Raises:
        ConfigError: the run ended or made no store within ``timeout_s`` (its log's tail).
    """
    args = _hfrl("train", "--async", "--teacher", "store", "--no-progress", *train_args)
    child = Child("training", [*args, "--out", str(lesson.run)], lesson.root / "train.log")
    deadline = time.monotonic() + timeout_s
    store = lesson.run / "store.sqlite"
    while not (store.is_file() and (lesson.run / "status.json").is_file()):
        if not child.running() or time.monotonic() > deadline:
            child.stop()
            raise ConfigError(f"the lesson's run did not start ({child.tail()}); see {child.log}")
        time.sleep(0.2)
    return child


def start_server(lesson: LessonFolder, *, host: str, port: int, timeout_s: float) -> Child:
    """Start ``hfrl serve`` on the lesson's run; return once it answers.

    Raises:
        ConfigError: it ended, or did not answer within ``timeout_s`` (its log's tail).
    """
    args = _hfrl("serve", str(lesson.run), "--host", host, "--port", str(port))
    child = Child("server", args, lesson.root / "server.log")
    client = ServerClient(local_url(host, port), timeout_s=5)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            client.health()
            return child
        except SourceError:
            if not child.running() or time.monotonic() > deadline:
                child.stop()
                raise ConfigError(
                    f"the label server did not start on {host}:{port} ({child.tail()}); is the "
                    "port taken? pass another --port"
                ) from None
            time.sleep(0.2)


def local_url(host: str, port: int) -> str:
    """The address this machine reaches the server at.

    Example:
        >>> local_url("0.0.0.0", 8000)
        'http://127.0.0.1:8000'
    """
    reach = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{reach}:{port}"


def student_names(num_students: int) -> list[str]:
    """A simulated class's names: a first name and the student's B-Pref teacher.

    Example:
        >>> student_names(3)
        ['ada-oracle', 'ben-noisy', 'cai-mistake']
    """
    firsts = [
        FIRST_NAMES[i] if i < len(FIRST_NAMES) else f"student{i + 1}" for i in range(num_students)
    ]
    return [
        f"{first}-{preset}"
        for first, preset in zip(firsts, class_presets(num_students), strict=True)
    ]


def join_students(
    url: str,
    join_code: str,
    lesson: LessonFolder,
    *,
    env_id: str,
    goal: str,
    names: Sequence[str],
    seed: int,
    answer_every_s: float,
) -> list[SimulatedStudent]:
    """Join ``names`` to the class (each judging as its B-Pref teacher) and start them."""
    students = []
    for index, (name, preset) in enumerate(zip(names, class_presets(len(names)), strict=True)):
        token = ServerClient(url).join(join_code, name)["token"]
        chooser = TeacherChooser(
            lesson.run / "store.sqlite", env_id=env_id, goal=goal, preset=preset, seed=seed + index
        )
        student = SimulatedStudent(
            ServerClient(url, token),
            name,
            chooser=chooser,
            seed=seed + index,
            interval_s=answer_every_s,
        )
        student.start()
        students.append(student)
    return students


class RoundFilmer(threading.Thread):
    """Films the run's agent whenever the run writes a new checkpoint (a ``metrics.csv`` row).

    Each video is the newest policy played for one episode (``agents.video``), saved as
    ``rounds/round-NN.mp4`` with the row's round, env steps and true return in
    ``rounds/rounds.json``; the dashboard shows them side by side. Checkpoints that come
    faster than filming are passed over (the newest is filmed).

    Args:
        lesson: the lesson's folder.
        say: prints a line for the teacher.
        every_s: seconds between looks at the run.
    """

    def __init__(self, lesson: LessonFolder, say: Say, *, every_s: float = 1.0) -> None:
        super().__init__(name="round-filmer", daemon=True)
        self.lesson, self.say, self.every_s = lesson, say, every_s
        self._halt = threading.Event()
        self.failures: list[str] = []

    def run(self) -> None:
        while not self._halt.wait(self.every_s):
            try:
                self.film_new()
            except Exception as error:  # the lesson goes on without this checkpoint's video
                self.failures.append(f"{type(error).__name__}: {error}")

    def stop(self) -> None:
        """Stop looking, and film the last checkpoint if it is not filmed yet."""
        self._halt.set()
        if self.is_alive():
            self.join()
        self.film_new()

    def film_new(self) -> None:
        """Film the newest checkpoint when it is newer than the last filmed."""
        from agents.run_folder import RunFolder
        from agents.video import write_policy_video

        run = RunFolder(self.lesson.run)
        try:
            rows = run.read_metrics() if run.metrics_path.is_file() else []
        except HfrlError:  # a row being written: looked at again next time
            return
        filmed = self.lesson.rounds()
        last = filmed[-1]["round"] if filmed else -1
        fresh = [row for row in rows if row["round"] > last]
        if not fresh or run.saved_policy() is None:
            return
        row = fresh[-1]
        target = self.lesson.round_video(len(filmed))
        part = target.with_name(f".{target.stem}.part.mp4")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_policy_video(run.root, part, width=360, height=240)
            os.replace(part, target)
        except (HfrlError, OSError, ValueError, RuntimeError) as error:
            self.failures.append(str(error))  # a policy being replaced: tried again
            return
        value = row.get("true_return_mean", math.nan)
        entry = self.lesson.add_round(
            {
                "round": int(row["round"]),
                "env_steps": int(row["env_steps"]),
                "labels_used": int(row.get("labels_used", 0)),
                "true_return": value if math.isfinite(value) else None,
            }
        )
        shown = "–" if entry["true_return"] is None else f"{entry['true_return']:.1f}"
        self.say(
            f"checkpoint {entry['round'] + 1}: {entry['env_steps']:,} env steps, "
            f"{entry['labels_used']} labels, true return {shown} (video {target})"
        )

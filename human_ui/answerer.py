"""The comparison window as the loop's answerer (``hfrl train --teacher human``, lessons).

Classes:
    RunWindow: one window for a whole training run, in a child process; the loop waits for
        each round's answers in the store, as with the ``store`` teacher.
    WindowAnswerer: opens the window in this process on a set of queries; returns when all are
        answered (the lessons).

Both meet ``agents.answerers.Answerer`` by their shape: the command that composes a run (the
top layer, ``human_ui.cli``) hands one to the loop, so ``agents`` never imports ``human_ui``.
pygame is imported only when a window opens.

Why a child process for a run: PPO holds this process while it trains, so a window here
could not redraw or take answers between rounds; it had to close after each round and open
again at the next one. The child is the ordinary window (``hfrl label STORE
--close-with-run``): it shows the run's status (``hfrl_gym.run_status``), the next round's
pairs as soon as they are posted, and closes itself when the run's status says it has
finished or stopped, or the training process is gone. It runs in its own session, so Ctrl-C
in the terminal stops the training, whose status then closes the window.
"""

from __future__ import annotations

import atexit
import contextlib
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from hfrl_gym.errors import ConfigError
from hfrl_gym.store import LabelStore, Query


class RunWindow:
    """A person answers in one comparison window that stays open for the whole run.

    The window opens (in a child process) when the first queries need answers; each
    :meth:`answer` waits until the round's queries are answered in the store. When the person
    closes the window before that, the run stops with a ``ConfigError`` saying how to resume
    (every answer given is saved). Closing it while PPO trains lets the round finish and be
    saved; the run stops when it next needs answers.

    Args:
        annotator: the person's name (``None``: ``HFRL_ANNOTATOR``, the saved name, or ask).
        script: scripted input instead of a person's (tests, rehearsals; docs/UI.md).
        resume_command: what resumes the run if the window is closed early.
        max_frames: the window closes after this many frames (tests).
        poll_s: seconds between looks at the store and the window while waiting.
        close_timeout_s: at exit, seconds the window gets to close itself before it is ended.
    """

    def __init__(
        self,
        annotator: str | None = None,
        *,
        script: Path | None = None,
        resume_command: str | None = None,
        max_frames: int | None = None,
        poll_s: float = 0.2,
        close_timeout_s: float = 15.0,
    ) -> None:
        self.annotator, self.script, self.resume_command = annotator, script, resume_command
        self.max_frames, self.poll_s, self.close_timeout_s = max_frames, poll_s, close_timeout_s
        self.opened = 0  # windows opened (one per run)
        self._child: subprocess.Popen[bytes] | None = None

    def command(self, store_path: Path) -> list[str]:
        """The child's command line: the ordinary ``hfrl label`` window, closing with the run."""
        argv = [sys.executable, "-m", "human_ui.cli", "label", str(store_path), "--close-with-run"]
        if self.annotator is not None:
            argv += ["--annotator", self.annotator]
        if self.script is not None:
            argv += ["--script", str(self.script)]
        if self.max_frames is not None:
            argv += ["--max-frames", str(self.max_frames)]
        return argv

    @property
    def is_open(self) -> bool:
        """Whether the window's process runs."""
        return self._child is not None and self._child.poll() is None

    def open(self, store_path: Path) -> None:
        """Open the window on the run's store, once (a window the person closed stays closed)."""
        if self._child is not None:
            return
        self._child = subprocess.Popen(self.command(Path(store_path)), start_new_session=True)
        self.opened += 1
        atexit.register(self.close)

    def answer(self, store: LabelStore, queries: Sequence[Query]) -> None:
        """Wait until every query is answered in the window; ``ConfigError`` (how to resume)
        if the window closes first."""
        from agents.answerers import unanswered  # not at import: `hfrl --help` stays light

        pending = unanswered(store, queries)
        if not pending:
            return
        self.open(store.path)
        ids = [q.id for q in pending]
        while True:
            window_was_open = self.is_open  # looked at first: answers given before it closed
            got = store.wait_for_answers(ids, timeout_s=self.poll_s, poll_s=self.poll_s)
            if len(got) == len(ids):
                return
            if not window_was_open:
                raise ConfigError(self._closed_message(store.path, len(ids) - len(got), len(ids)))

    def _closed_message(self, store_path: Path, unanswered: int, total: int) -> str:
        assert self._child is not None
        code = self._child.returncode
        how = "closed" if code == 0 else f"stopped (exit status {code}; its error is above)"
        resume = self.resume_command or f"hfrl train --resume {Path(store_path).parent}"
        return (
            f"the labelling window was {how} with {unanswered} of this round's {total} "
            f"queries unanswered; the answers given are saved. Resume with `{resume}` (or "
            f"answer them first with `hfrl label {store_path}`)"
        )

    def close(self) -> None:
        """Let the window close itself (the run's status has ended), else end it."""
        child = self._child
        if child is None or child.poll() is not None:
            return
        try:
            child.wait(timeout=self.close_timeout_s)
        except subprocess.TimeoutExpired:
            child.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=5)


class WindowAnswerer:
    """A person answers in the comparison window, opened in this process for each round.

    Args:
        annotator: the person's name (``None``: ``HFRL_ANNOTATOR``, the saved name, or ask).
        script: scripted input instead of a person's (tests, rehearsals; docs/UI.md).
        resume_command: what resumes the work if the window is closed early.
    """

    def __init__(
        self,
        annotator: str | None = None,
        *,
        script: Path | None = None,
        resume_command: str | None = None,
    ) -> None:
        self.annotator, self.script, self.resume_command = annotator, script, resume_command

    def answer(self, store: LabelStore, queries: Sequence[Query]) -> None:
        """Show the unanswered queries; ``ConfigError`` (how to resume) if the window closes
        before every one is answered."""
        from agents.answerers import unanswered  # not at import: `hfrl --help` stays light

        pending = unanswered(store, queries)
        if not pending:
            return
        from human_ui import app  # the window (and pygame) only when a person labels

        app.label_queries(
            store.path,
            [q.id for q in pending],
            annotator=self.annotator,
            script=self.script,
            resume_command=self.resume_command,
        )

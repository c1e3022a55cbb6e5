"""The comparison window as the loop's answerer (``hfrl train --teacher human``).

Classes:
    WindowAnswerer: opens the window on a round's unanswered queries; returns when all are
        answered.

It meets ``agents.answerers.Answerer`` by its shape: the command that composes a run (the top
layer, ``human_ui.cli``) hands it to the loop, so ``agents`` never imports ``human_ui``.
pygame is imported only when the window opens.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hfrl_gym.store import LabelStore, Query


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

"""Who answers a round's queries: the Answerer part of the loop, and the answerers of agents.

The loop hands each round's queries to one :class:`Answerer` and goes on once every query has
an answer in the store. Answerers are interchangeable: a scripted teacher in this process, other
processes answering the store (``hfrl label`` windows), and the comparison window
(``human_ui.answerer.RunWindow``, one window for a whole run; ``WindowAnswerer`` for the
lessons), handed in by the command that composes the run, since ``agents`` never imports
``human_ui``.

Classes:
    Answerer: the protocol, ``answer(store, queries)``.
    TeacherAnswerer: a given teacher (scripted, or any ``label(pairs)``) answers.
    ScriptedAnswerer: a B-Pref scripted teacher judging by a goal, made from the first pairs.
    StoreAnswerers: wait for other processes to answer through the store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from hfrl_gym.clips import ClipPair
from hfrl_gym.envs import get_goal, get_spec
from hfrl_gym.errors import ConfigError
from hfrl_gym.store import LabelStore, Query
from hfrl_gym.teachers import Teacher, estimate_mean_episode_return, make_teacher


class Answerer(Protocol):
    """Sees to it that queries get answered."""

    def answer(self, store: LabelStore, queries: Sequence[Query]) -> None:
        """Return once every query of ``queries`` has an answer in ``store``.

        Queries already answered (a resumed round) are not asked again. Raises an
        ``HfrlError`` saying how to resume when answers cannot be had.
        """
        ...


class WindowFactory(Protocol):
    """Makes the comparison window's answerer (``human_ui.answerer.RunWindow`` is one).

    The ``hfrl`` command hands it to ``hfrl train`` and ``hfrl lesson``, for a person to
    answer in the window, since ``agents`` never imports ``human_ui``.
    """

    def __call__(
        self,
        annotator: str | None,
        *,
        script: Path | None = None,
        resume_command: str | None = None,
    ) -> Answerer:
        """The window's answerer for this person (``script``: scripted keys instead)."""
        ...


def unanswered(store: LabelStore, queries: Sequence[Query]) -> list[Query]:
    """The queries of ``queries`` that have no answer yet, in posting order."""
    return store.pending_queries(query_ids=[q.id for q in queries])


class TeacherAnswerer:
    """A teacher in this process (anything with ``label(pairs) -> answers``) answers.

    Args:
        teacher: the teacher, e.g. ``hfrl_gym.teachers.make_teacher("oracle", rng=rng)``.
    """

    def __init__(self, teacher: Teacher | None) -> None:
        self.teacher = teacher

    def _teacher_for(self, pairs: Sequence[ClipPair]) -> Teacher:
        if self.teacher is None:
            raise ConfigError("TeacherAnswerer was given no teacher")
        return self.teacher

    def answer(self, store: LabelStore, queries: Sequence[Query]) -> None:
        """Answer every unanswered query; each answer is committed as it is given."""
        pending = unanswered(store, queries)
        if not pending:
            return
        pairs = [store.pair(q) for q in pending]
        self.teacher = self._teacher_for(pairs)
        for query, answer in zip(pending, self.teacher.label(pairs), strict=True):
            store.add_answer(query.id, answer)


class ScriptedAnswerer(TeacherAnswerer):
    """A scripted teacher (a B-Pref preset) judging by a goal, made when first needed.

    Its skip and equal thresholds scale with the mean episode return, estimated from the clips
    of the first queries it answers (the teacher is made then).

    Args:
        preset: ``oracle``, ``noisy``, ``mistake``, ``skip``, ``myopic`` or ``equal``.
        env_id: the suite env the clips come from.
        goal: the goal the teacher judges by (``task`` or an alternative goal).
        clip_num_steps: steps per clip.
        rng: the teacher's random source.
    """

    def __init__(
        self,
        preset: str,
        *,
        env_id: str,
        goal: str,
        clip_num_steps: int,
        rng: np.random.Generator,
    ) -> None:
        super().__init__(None)
        self.preset, self.goal = preset, get_goal(env_id, goal)
        self.clip_num_steps, self.rng = clip_num_steps, rng
        self.horizon = get_spec(env_id).horizon

    def _teacher_for(self, pairs: Sequence[ClipPair]) -> Teacher:
        if self.teacher is not None:
            return self.teacher
        clips = [clip for pair in pairs for clip in (pair.left, pair.right)]
        mean_return = estimate_mean_episode_return(clips, horizon=self.horizon, goal=self.goal)
        return make_teacher(
            self.preset,
            goal=self.goal,
            rng=self.rng,
            mean_episode_return=mean_return,
            clip_num_steps=self.clip_num_steps,
            horizon=self.horizon,
        )


class StoreAnswerers:
    """Other processes answer (``hfrl label`` windows, scripts): wait for their answers.

    Args:
        timeout_s: seconds to wait for a round's answers (``None``: forever).
        resume_command: the command that resumes the run, for the timeout's message.
        on_progress: called with ``(answered, total)`` while waiting.
    """

    def __init__(
        self,
        *,
        timeout_s: float | None,
        resume_command: str,
        on_progress: Callable[[int | None, int], None] | None = None,
    ) -> None:
        self.timeout_s, self.resume_command = timeout_s, resume_command
        self.on_progress = on_progress or (lambda answered, total: None)

    def answer(self, store: LabelStore, queries: Sequence[Query]) -> None:
        """Wait until every query is answered; raise ``ConfigError`` at the timeout."""
        pending = unanswered(store, queries)
        if not pending:
            return
        self.on_progress(0, len(pending))
        got = store.wait_for_answers(
            [q.id for q in pending], timeout_s=self.timeout_s, progress=self.on_progress
        )
        self.on_progress(None, len(pending))
        if len(got) < len(pending):
            raise ConfigError(
                f"{len(pending) - len(got)} queries got no answer within --wait-timeout "
                f"{self.timeout_s} s; answer them with `hfrl label {store.path}` and resume "
                f"with `{self.resume_command}`"
            )

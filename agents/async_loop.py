"""The asynchronous schedule of the RLHF loop (``hfrl train --async``): PPO never waits for people.

Classes:
    AsyncPlan: the budgets of an asynchronous run: labels, the query low-water mark, the
        first queries, PPO's rollouts and the checkpoint interval.
    AsyncLog: what the schedule did: refits, handovers, PPO's pauses, how the run ended.
    AsyncLoop: the schedule, given the loop's parts (the same parts as the synchronous one).

The schedule, as in Christiano et al. (2017), where the person labels while the agent trains:

1. Before the first fit PPO has no reward to learn from: the run explores (or records the
   untrained policy) as the synchronous round 0 does, posts the synchronous plan's first
   round of queries of those clips (``RunPlan.labels[0]``: 40% of the labels with the default
   decay 0.6 over 10 rounds, so both schedules start PPO from the same feedback), and waits
   for their answers (topping the queue up from the same clips, so the person is never left
   without a pair). Then it fits the reward model once, in this thread.
2. From then on PPO trains one rollout at a time on the current learned reward, and between
   rollouts (never during one) it
   - takes up the newest reward model the background fit has published
     (``agents.background_fit``: a thread refitting a copy whenever new answers arrive);
   - posts queries of the newest policy's clips while fewer than ``--queue-low`` (or twice
     what people answered during the last rollout, when that is more) are unanswered, until
     the label budget is posted (also every :data:`POST_EVERY_S` seconds during a rollout,
     from the clips of the rollout before: ``agents.rollout_ticker``);
   - saves a checkpoint every ``--steps / --rounds`` env steps (policy, reward model,
     metrics row, ``state.json``: a killed run resumes from the last one; answers are in the
     store, so nothing answered is lost).
3. The run ends when PPO's env steps are spent. If the labels ran out first, PPO spent its
   last env steps on the final reward model. If the env steps ran out first, queries not yet
   posted are never asked, and posted ones left unanswered stay in the store, unused by this
   run; the run says so (:meth:`AsyncLog.ending`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from agents.background_fit import BackgroundRefitter, FittedModel
from agents.disagreement_bonus import DisagreementBonus
from agents.pair_selector import post_pairs
from agents.plan import RunPlan
from agents.reward_fitter import RewardFitter
from agents.rlhf_loop import LoopParts
from agents.rollout_ticker import RolloutTicker
from agents.status_hooks import StatusReporter
from hfrl_gym.clips import Clip
from hfrl_gym.errors import ConfigError
from hfrl_gym.queries import num_possible_pairs
from hfrl_gym.run_status import Phase
from hfrl_gym.store import Query

POST_EVERY_S = 0.25
"""Seconds between looks at the query queue during a PPO rollout (a store count: cheap)."""


@dataclass(frozen=True)
class AsyncPlan:
    """How an asynchronous run spends its budgets.

    Attributes:
        num_labels: the label budget: queries posted at most.
        queue_low: unanswered queries kept posted (the low-water mark).
        first_queries: queries posted before the first fit, which waits for their answers:
            the synchronous plan's first round (``run.labels[0]``).
        num_env_steps: the env-step budget (recordings, exploration and PPO).
        rollout_env_steps: env steps of one PPO rollout (the unit PPO trains in).
        checkpoint_env_steps: env steps between checkpoints (whole rollouts).
        run: the synchronous plan, for the first clips (exploration or recording).

    Example:
        >>> run = RunPlan.create(num_labels=50, num_env_steps=20_000, num_rounds=4,
        ...                      label_decay=0.6, initial_env_steps=2_000, rollout_env_steps=512)
        >>> plan = AsyncPlan.create(run, num_labels=50, queue_low=4, num_checkpoints=4)
        >>> run.labels[0], plan.first_queries, plan.checkpoint_env_steps
        (23, 23, 4608)
    """

    num_labels: int
    queue_low: int
    first_queries: int
    num_env_steps: int
    rollout_env_steps: int
    checkpoint_env_steps: int
    run: RunPlan

    @classmethod
    def create(
        cls, run: RunPlan, *, num_labels: int, queue_low: int, num_checkpoints: int
    ) -> AsyncPlan:
        """The asynchronous budgets of ``run``'s (checkpoints: ``--rounds``).

        The first fit waits for the answers the synchronous schedule asks before PPO starts
        (``run.labels[0]``): a smaller first batch leaves PPO spending its early, largest
        learning-rate steps on a reward fit on a handful of answers (docs/BENCHMARKS.md,
        asynchronous training).
        """
        rollout = run.rollout_env_steps
        interval = max(1, run.num_env_steps // num_checkpoints // rollout) * rollout
        return cls(
            num_labels=num_labels,
            queue_low=queue_low,
            first_queries=max(1, min(num_labels, run.labels[0])),
            num_env_steps=run.num_env_steps,
            rollout_env_steps=rollout,
            checkpoint_env_steps=interval,
            run=run,
        )


@dataclass
class AsyncLog:
    """What an asynchronous run did in this process.

    Attributes:
        refits: reward-model fits (the first one and the background ones).
        handovers: ``(ppo_env_steps, version)`` each time PPO took up a new reward model.
        first_fit_at: ``time.monotonic()`` when the first fit of this process ended (``None``:
            the run resumed after it).
        first_wait_s: seconds PPO waited for the first answers (the only wait for answers).
        rollout_gaps_s: seconds between consecutive rollouts after the first fit (taking up
            a model, posting queries, checkpoints): PPO's pauses; none waits for answers.
        labels_done_at: env steps when every label was posted and answered (``None``: never).
        largest_queue: the most unanswered queries kept posted (``--queue-low``, or twice
            what people answered during a rollout when that was more).
        rollout_top_ups: looks at the queue from inside PPO's rollouts (``RolloutTicker``).
        posted, answered, pending: queries at the end.
        num_labels, env_steps, num_env_steps: the budgets and the env steps taken.
    """

    refits: int = 0
    handovers: list[tuple[int, int]] = field(default_factory=list)
    first_fit_at: float | None = None
    first_wait_s: float = 0.0
    rollout_gaps_s: list[float] = field(default_factory=list)
    labels_done_at: int | None = None
    largest_queue: int = 0
    rollout_top_ups: int = 0
    posted: int = 0
    answered: int = 0
    pending: int = 0
    num_labels: int = 0
    env_steps: int = 0
    num_env_steps: int = 0

    def ending(self) -> str:
        """How the run ended, in one sentence: which budget ran out first, and what is left.

        Example:
            >>> AsyncLog(posted=20, answered=17, pending=3, num_labels=50, env_steps=10_000,
            ...          num_env_steps=10_000).ending().split(";")[0]
            'the env steps ran out before the labels: 17 of 50 labels answered'
        """
        if self.labels_done_at is not None:
            return (
                f"the labels ran out first: all {self.num_labels} answered by env step "
                f"{self.labels_done_at:,}; PPO spent the last "
                f"{self.env_steps - self.labels_done_at:,} env steps on the final reward model"
            )
        return (
            f"the env steps ran out before the labels: {self.answered} of {self.num_labels} "
            f"labels answered; {self.num_labels - self.posted} never posted, and {self.pending} "
            "posted queries left unanswered in the store (this run does not use them)"
        )


class AsyncLoop:
    """The asynchronous schedule (module docstring) over the synchronous loop's parts.

    Args:
        parts: the loop's parts (``agents.rlhf_loop.build_parts``); ``parts.reward`` is the
            fitter whose model PPO scores with, replaced at each handover.
        fitter: the same fitter (its :meth:`RewardFitter.adopt` takes up background refits).
        plan: the asynchronous budgets.
        rng: the background fit's own random source.
        status: writes the run's status file (``agents.status_hooks``; the agent's phases are
            reported by the agent itself, the waiting and fitting here).
        round_index: checkpoints saved so far (a resumed run's ``state.json``).
        wait_timeout_s: seconds to wait for the first answers (``None``: forever).
        resume_command: the command that resumes the run, for the timeout's message.
        say: prints a line for the person running the command.
        poll_s: seconds between looks at the store while waiting for the first answers.
    """

    def __init__(
        self,
        parts: LoopParts,
        fitter: RewardFitter,
        plan: AsyncPlan,
        *,
        rng: np.random.Generator,
        status: StatusReporter,
        round_index: int,
        wait_timeout_s: float | None,
        resume_command: str,
        say: Callable[[str], None],
        poll_s: float = 0.1,
    ) -> None:
        self.parts, self.store, self.agent = parts, parts.store, parts.agent
        self.fitter, self.plan, self.rng, self.status = fitter, plan, rng, status
        self.round, self.wait_timeout_s = round_index, wait_timeout_s
        self.resume_command = resume_command
        self.say, self.poll_s = say, poll_s
        self.log = AsyncLog(num_labels=plan.num_labels, num_env_steps=plan.num_env_steps)
        self.newest: list[Clip] = []  # replaced whole, never changed: the refit thread reads it
        self._last_saved_steps = self.agent.env_steps
        self._fitted_answers: int | None = None  # answers the model was fit on, when known
        self.queue_size = plan.queue_low  # unanswered queries kept posted (_size_queue)

    # The schedule -----------------------------------------------------------------------

    def run(self) -> AsyncLog:
        """Run to the end of the env-step budget (resuming where the run stopped)."""
        if not self.fitter.fitted:
            self.first_fit()  # (1) PPO waits here, and only here, for answers
        refitter = BackgroundRefitter(
            self.store.path,
            self.fitter.model,
            rng=self.rng,
            version=self.log.refits,
            probe_clips=lambda: self.newest,
            fitted_answers=self._fitted_answers,  # None (resumed): refit at once
            fit_config=self.fitter.config,
        )
        refitter.start()
        try:
            self.train_until_spent(refitter)  # (2) PPO never waits for answers
        finally:
            refitter.stop()
        self.log.refits += refitter.num_fits
        counts = self.store.counts()
        self.log.posted, self.log.answered = counts["queries"], counts["answered"]
        self.log.pending, self.log.env_steps = counts["pending"], self.agent.env_steps
        self.say(self.log.ending())  # (3)
        return self.log

    def first_fit(self) -> None:
        """Post the first queries (or reuse a resumed run's), wait for their answers, fit once.

        The fit waits for :attr:`AsyncPlan.first_queries` answers. They are posted at once
        (at most the pairs the first clips make: a budget too large for them is topped up
        from the same clips as answers come, never posted in bulk).
        """
        if self.store.queries():  # a resumed run killed before its first fit: they stay asked
            clips = self.store.get_clips(self.store.clip_uids())
        else:
            clips = self._first_clips()
            self._post(clips, min(self.plan.first_queries, num_possible_pairs(clips)))
        self.newest = clips
        started = time.monotonic()
        self._wait_for(self.plan.first_queries, clips)
        self.log.first_wait_s = time.monotonic() - started
        self._top_up(clips)  # pairs for the person while the first fit and checkpoint run
        self._fitted_answers = self._answers()  # those coming during the fit: refit at once
        self.parts.reward.fit(self.store, probe=clips)  # self.fitter's, reporting its phase
        self.log.refits += 1
        self.log.first_fit_at = time.monotonic()
        self.say(f"first reward fit on {self._fitted_answers} answers; PPO starts")
        self._checkpoint()

    def train_until_spent(self, refitter: BackgroundRefitter) -> None:
        """PPO, one rollout at a time, until the env steps are spent; between rollouts: take
        up a newer reward model, top the queries up, save a checkpoint when one is due.
        During rollouts the queries are topped up too, every :data:`POST_EVERY_S` seconds."""
        ticker = RolloutTicker(self._top_up, POST_EVERY_S)  # also during rollouts
        self.agent.extra_callbacks.append(ticker)
        try:
            self._rollouts(refitter)
        finally:
            self.agent.extra_callbacks.remove(ticker)
            self.log.rollout_top_ups += ticker.calls

    def _rollouts(self, refitter: BackgroundRefitter) -> None:
        rollout = self.plan.rollout_env_steps
        ended: float | None = None
        while self.plan.num_env_steps - self.agent.env_steps >= rollout:
            self._take_up(refitter.take())
            self._top_up()
            self._note_labels_done()
            if ended is not None:
                self.log.rollout_gaps_s.append(time.monotonic() - ended)
            answers_before = self._answers()
            self.agent.train(rollout, round_index=self.round)
            ended = time.monotonic()
            self._size_queue(self._answers() - answers_before)
            clips = self.agent.harvested_clips()
            if len(clips) >= 2:
                self.newest = clips
            if self.agent.env_steps - self._last_saved_steps >= self.plan.checkpoint_env_steps:
                self._checkpoint()
        self._take_up(refitter.take())
        self._note_labels_done()
        if self.agent.env_steps > self._last_saved_steps:
            self._checkpoint()

    # Between rollouts ---------------------------------------------------------------------

    def _take_up(self, refit: FittedModel | None) -> None:
        """PPO scores with the refit model from its next rollout on (an atomic handover)."""
        if refit is None:
            return
        self.fitter.adopt(refit.model, refit.report, refit.probe)
        scoring = self.agent.train_venv.reward_fn
        if isinstance(scoring, DisagreementBonus):  # the bonus stays, on the new model
            scoring.model = refit.model
        else:
            self.agent.train_venv.set_reward_fn(refit.model)
        self.log.handovers.append((int(self.agent.ppo.num_timesteps), refit.version))

    def _size_queue(self, answered_in_rollout: int) -> None:
        """Keep twice what people answered during the last rollout queued, ``queue_low`` at least.

        Queries are posted between rollouts only: people who answer faster than a rollout
        lasts (a long Pendulum rollout, several windows) would otherwise run out of pairs.
        """
        self.queue_size = max(self.plan.queue_low, 2 * answered_in_rollout)
        self.log.largest_queue = max(self.log.largest_queue, self.queue_size)

    def _top_up(self, clips: Sequence[Clip] | None = None) -> None:
        """Post queries of the newest clips while fewer than :attr:`queue_size` are unanswered."""
        counts = self.store.counts()
        want = min(self.plan.num_labels - counts["queries"], self.queue_size - counts["pending"])
        clips = self.newest if clips is None else clips
        if want > 0 and len(clips) >= 2:
            self._post(clips, min(want, num_possible_pairs(clips)))

    def _post(self, clips: Sequence[Clip], num_pairs: int) -> list[Query]:
        return post_pairs(self.store, self.round, self.parts.pairs.select(clips, num_pairs))

    def _note_labels_done(self) -> None:
        counts = self.store.counts()
        done = counts["queries"] >= self.plan.num_labels and counts["pending"] == 0
        if done and self.log.labels_done_at is None:
            self.log.labels_done_at = self.agent.env_steps
            self.say(
                f"all {self.plan.num_labels} labels answered at env step "
                f"{self.agent.env_steps:,}; PPO goes on with the last reward model"
            )

    def _checkpoint(self) -> None:
        evaluation = self.agent.evaluate()
        labels = len(self.store.queries(round=self.round))
        self.parts.checkpoint.save(self.round, evaluation, labels_round=labels)
        self.round += 1
        self._last_saved_steps = self.agent.env_steps

    # Before the first fit -----------------------------------------------------------------

    def _first_clips(self) -> list[Clip]:
        """Round 0's clips, as planned: exploration (PEBBLE) or the untrained policy."""
        run = self.plan.run
        if run.explore_env_steps > 0:
            return self.agent.explore(run.explore_env_steps, round_index=self.round)
        return self.agent.record(
            run.record_env_steps, round_index=self.round, clip_num_steps=self.parts.clip_num_steps
        )

    def _wait_for(self, num_answered: int, clips: Sequence[Clip]) -> None:
        """Wait until ``num_answered`` queries are answered, topping the queue up from ``clips``."""
        deadline = None if self.wait_timeout_s is None else time.monotonic() + self.wait_timeout_s
        reported = None
        while True:
            left = num_answered - int(self.store.counts()["answered"])
            if left <= 0:
                return
            self._top_up(clips)
            if left != reported:  # the status file, when the count changes
                self.status.report(Phase.WAITING)
                reported = left
            if deadline is not None and time.monotonic() > deadline:
                raise ConfigError(
                    f"{left} of the {num_answered} answers the first fit waits for did not come "
                    f"within --wait-timeout {self.wait_timeout_s} s; answer the queries with "
                    f"`hfrl label {self.store.path}` and resume with `{self.resume_command}`"
                )
            time.sleep(self.poll_s)

    def _answers(self) -> int:
        return int(self.store.counts()["answers"])

"""The comparison state machine: which pair is shown, answers, undo and review. No surfaces.

The window turns key presses and clicks into :class:`Command` s; :class:`CompareState` keeps
the queue of pending queries, commits each answer to its
:class:`~human_ui.label_source.LabelSource` (a :class:`~hfrl_gym.store.LabelStore`, or the
label server) the moment it is given, undoes (backspace deletes the annotator's newest answer
row, so undo works across restarts), and browses answered pairs in review mode, where a new
answer is appended as a new row and the history is kept. It polls the source every ``poll_s``
seconds, so queries posted by a training job after the window opened show up.

Which queries are pending is the source's business: on a store
(:class:`~human_ui.label_source.StoreSource`) a round's, or those nobody answered, claimed so
that windows never show the same query at once (``hfrl label --each``: those this annotator
has not answered); on a server (:class:`~human_ui.server_source.ServerSource`) the leased ones.

Keys map to commands in :mod:`human_ui.commands`.

Classes:
    CompareState: the state machine.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

import pygame

from hfrl_gym.answers import Answer, Choice, Confidence
from hfrl_gym.clips import ClipPair
from hfrl_gym.store import AnswerRecord, LabelStore
from human_ui.commands import (
    ANSWER_COMMANDS,
    CONFIDENCE_COMMANDS,
    Command,
    HelpPage,
    Mode,
    Progress,
    answer_text,
    command_for_key,
)
from human_ui.label_source import (
    AnswerRefusedError,
    LabelSource,
    SourceUnavailableError,
    StoreSource,
)
from human_ui.playback import Playback

NO_PAIR = "no pair to answer: waiting for queries"
"""What an answer key says when no pair is shown (until one is)."""

CLAIM_AHEAD = 1
"""Sharing a store, a window claims the shown query and this many more (others get the rest)."""


class CompareState:
    """Which pair is shown and what happened to it; every answer is committed when given.

    Args:
        store: the open label store (shared with nothing but this window's thread), or any
            :class:`~human_ui.label_source.LabelSource` (then ``annotator``, ``query_ids``,
            ``share`` and ``claim_s`` are the source's business and ignored).
        annotator: the person's name, stored with each answer.
        query_ids: label only these queries (a training round), else every query.
        share: without ``query_ids``: show only queries nobody answered, claimed in the
            store (``True``), or every query this annotator has not answered (``False``).
        clip_fps: clip frames per second at speed 1.
        poll_s: seconds between looks at the store for new queries and progress.
        lookahead: pending queries kept ahead of the current one (for prefetching).
        claim_s: seconds a claim on a query lasts without being renewed.
        clock: monotonic seconds; answer times are measured from when the clips appear.

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> from hfrl_gym.clips import Clip
        >>> folder = tempfile.TemporaryDirectory()
        >>> def clip() -> Clip:
        ...     return Clip("hfrl/CartPole-v0", np.zeros((6, 4), np.float32),
        ...                 np.zeros(5, np.int64), np.ones(5), states=np.zeros((6, 4)))
        >>> store = LabelStore(f"{folder.name}/labels.db")
        >>> _ = store.add_queries([tuple(store.add_clips([clip(), clip()])) for _ in range(2)])
        >>> state = CompareState(store, "ana")
        >>> state.update(0.0, frames_ready=True)
        >>> state.apply(Command.LEFT)
        >>> state.current, state.progress.text
        (2, 'answered 1 / pending 1 / total 2')
        >>> state.apply(Command.UNDO); state.current
        1
        >>> store.close(); folder.cleanup()
    """

    def __init__(
        self,
        store: LabelStore | LabelSource,
        annotator: str,
        *,
        query_ids: Sequence[int] | None = None,
        share: bool = True,
        clip_fps: float = 30.0,
        poll_s: float = 1.0,
        lookahead: int = 3,
        claim_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(store, LabelStore):
            self.store: LabelStore | None = store
            self.source: LabelSource = StoreSource(
                store, annotator, query_ids=query_ids, share=share, claim_s=claim_s, poll_s=poll_s
            )
        else:
            self.store, self.source = None, store
        self.annotator = self.source.annotator
        self.claimant = self.source.claimant
        self.poll_s = poll_s
        self.lookahead = lookahead
        self.clock = clock
        self.mode = Mode.LABEL
        self.queue: list[int] = []
        self.current: int | None = None
        self.pair: ClipPair | None = None
        self.playback = Playback(clip_fps=clip_fps)
        self.progress = Progress(0, 0, 0)
        self.review_ids: list[int] = []
        self.review_index = 0
        self.history: list[AnswerRecord] = []  # this annotator's answers to the shown pair
        self.help_page: HelpPage | None = None
        self.show_teaching = False
        self.message = ""
        self.last_answer: tuple[int, Choice] | None = None
        self.session_answers = 0
        self.quit_requested = False
        self.ready = False
        self._ready_since = 0.0
        self._wait_notice = ""  # the message saying an answer waits for the clips
        self._source_notice = ""  # the message saying the source cannot be reached
        self._peek: list[int] = []  # pending, not (yet) claimed: prefetched just in case
        self._pinned: list[int] = []  # undone or put-back queries, shown before the rest
        self._label_current: int | None = None  # the pending pair left to enter review
        self._pairs: OrderedDict[int, ClipPair] = OrderedDict()
        self._last_poll = -math.inf
        self.refresh()

    # -- the source ----------------------------------------------------------------------

    def refresh(self) -> None:
        """Look at the source: new queries, queries answered elsewhere, progress.

        A source that cannot be reached leaves the queue as it was and says so in the message
        (the next poll tries again).
        """
        self._last_poll = self.clock()
        try:
            self._refresh()
        except SourceUnavailableError as error:
            self._unavailable(error)
        else:
            if self.message and self.message == self._source_notice:  # reachable again
                self.message = ""
        if self.mode is Mode.LABEL and self.current is None:
            self._show_next()

    def _refresh(self) -> None:
        source = self.source
        ahead = CLAIM_AHEAD if source.claiming else self.lookahead
        fetched = source.fetch(ahead + 1 + len(self._pinned))
        waiting = set(fetched)
        self._pinned = [q for q in self._pinned if q in waiting or not self._answered_by_me(q)]
        rest = [q for q in fetched if q not in self._pinned]
        self.queue = [q for q in [*self._pinned, *rest] if q != self.current]
        self._peek = source.peek(self.lookahead + 2)
        self.progress = source.progress()

    def _unavailable(self, error: SourceUnavailableError) -> None:
        self.message = self._source_notice = f"{error}"

    def _update_progress(self) -> None:
        try:
            self.progress = self.source.progress()
        except SourceUnavailableError as error:
            self._unavailable(error)

    def release(self) -> None:
        """Give back this window's claims (it closes): a window opened next, or another
        person's, takes them at once. A window killed instead lets them lapse."""
        self.source.release()

    def _answered_by_me(self, query_id: int) -> bool:
        return bool(self.source.answers(query_id))

    def pair_for(self, query_id: int) -> ClipPair:
        """The clips of a query (the last few are kept in memory)."""
        if query_id in self._pairs:
            self._pairs.move_to_end(query_id)
        else:
            self._pairs[query_id] = self.source.pair(query_id)
            while len(self._pairs) > 2 * self.lookahead + 8:
                self._pairs.popitem(last=False)
        return self._pairs[query_id]

    # -- what is shown -------------------------------------------------------------------

    @property
    def wait_notice(self) -> str:
        """The message, while it says an answer key came before the clips were on screen."""
        return self.message if self.message == self._wait_notice else ""

    @property
    def show_help(self) -> bool:
        """Whether the help overlay (a page of it) covers the clips."""
        return self.help_page is not None

    @property
    def done(self) -> bool:
        """Labelling mode with nothing left to show (more may be posted later)."""
        return self.mode is Mode.LABEL and self.current is None and not self.queue

    def upcoming(self) -> list[int]:
        """Query ids to have rendered, most urgent first: the shown one, then the next ones."""
        ids = [] if self.current is None else [self.current]
        if self.mode is Mode.REVIEW:
            index = self.review_index
            ids += [
                self.review_ids[i] for i in (index + 1, index - 1) if 0 <= i < len(self.review_ids)
            ]
            ids += [] if self._label_current is None else [self._label_current]
        ahead = [q for q in dict.fromkeys([*self.queue, *self._peek]) if q not in ids]
        return list(dict.fromkeys(ids + ahead[: self.lookahead]))

    def _show(self, query_id: int | None) -> None:
        self.current = query_id
        self.ready = False
        self.history = []
        if query_id is None:
            self.pair = None
            return
        try:
            pair, history = self.pair_for(query_id), self.source.answers(query_id)
        except SourceUnavailableError as error:  # shown at a later poll
            self._unavailable(error)
            self.current, self.pair = None, None
            if self.mode is Mode.LABEL:
                self.queue.insert(0, query_id)
            return
        self.pair, self.history = pair, history
        if self.message == NO_PAIR:  # there is one now
            self.message = ""
        self.playback.reset(max(self.pair.left.num_steps, self.pair.right.num_steps) + 1)

    def _show_next(self) -> None:
        next_id = self.queue.pop(0) if self.queue else None
        if next_id in self._pinned:
            self._pinned.remove(next_id)
        self._show(next_id)

    # -- the loop ------------------------------------------------------------------------

    def update(self, dt_s: float, *, frames_ready: bool) -> None:
        """Advance ``dt_s`` seconds: poll the store when due, play when the frames are shown.

        Args:
            dt_s: wall-clock seconds since the last update.
            frames_ready: whether the window has the shown pair's frames (answers wait
                for them, and the time to answer is counted from then).
        """
        now = self.clock()
        if now - self._last_poll >= self.poll_s:
            self.refresh()
        ready = frames_ready and self.current is not None
        if ready and not self.ready:
            self._ready_since = now
            if self.wait_notice:  # the clips are on screen: the wait is over
                self.message = ""
        self.ready = ready
        if ready:
            self.playback.advance(dt_s)

    def handle_event(self, event: pygame.event.Event) -> None:
        """Act on one pygame event (key presses and the window's close button)."""
        if event.type == pygame.QUIT:
            self.quit_requested = True
        elif event.type == pygame.KEYDOWN:
            command = command_for_key(event)
            if command is not None:
                self.apply(command)

    def apply(self, command: Command) -> None:
        """Do what a key or button asks for."""
        if command in ANSWER_COMMANDS and self.show_help:
            self.help_page = None  # the overlay hid the clips: show them, answer after
            self.message = "help closed: watch the clips, then answer"
        elif command in ANSWER_COMMANDS:
            self.answer(ANSWER_COMMANDS[command], CONFIDENCE_COMMANDS.get(command))
        elif command is Command.UNDO:
            self.undo()
        elif command is Command.REVIEW:
            self.leave_review() if self.mode is Mode.REVIEW else self.enter_review()
        elif command in (Command.PREVIOUS, Command.NEXT):
            self.browse(-1 if command is Command.PREVIOUS else 1)
        elif command is Command.HELP:
            self.help_page = HelpPage.TASK if self.help_page is None else self.help_page.next
        elif command is Command.TEACHING:
            self.show_teaching = not self.show_teaching
        elif command is Command.QUIT:
            if self.show_help:
                self.help_page = None
            elif self.mode is Mode.REVIEW:
                self.leave_review()
            else:
                self.quit_requested = True
        else:
            self._apply_playback(command)

    def _apply_playback(self, command: Command) -> None:
        playback = self.playback
        actions = {
            Command.PAUSE: playback.toggle_pause,
            Command.STEP_FORWARD: lambda: playback.step(1),
            Command.STEP_BACK: lambda: playback.step(-1),
            Command.FASTER: playback.faster,
            Command.SLOWER: playback.slower,
            Command.RESTART: playback.restart,
        }
        actions[command]()

    def seek(self, fraction: float) -> None:
        """Jump to a fraction of the clips (the scrubber)."""
        self.playback.seek(fraction)

    # -- answers -------------------------------------------------------------------------

    def answer(self, choice: Choice, confidence: Confidence | None = None) -> None:
        """Commit an answer (with its confidence, if given) to the shown pair, then show the
        next one."""
        query_id = self.current
        if query_id is None:
            self.message = NO_PAIR
            return
        if not self.ready:  # a pair nobody has seen cannot be judged: say so, keep nothing
            self.message = f"{choice.value} not saved: wait until the clips appear, then answer"
            self._wait_notice = self.message
            return
        seconds = max(0.0, self.clock() - self._ready_since)
        answer = Answer(choice, annotator=self.annotator, seconds=seconds, confidence=confidence)
        try:
            self.source.add_answer(query_id, answer)
        except SourceUnavailableError as error:  # the pair stays: the same key again retries
            self.message = f"{choice.value} not saved ({error}): answer again"
            return
        except AnswerRefusedError as error:  # the query is not this window's any more
            self.message = f"{choice.value} not saved: {error}"
            self._show(None)
            self.refresh()
            return
        self.last_answer = (query_id, choice)
        self.session_answers += 1
        if self.mode is Mode.REVIEW:
            kept = len(self.source.answers(query_id))
            self.message = (
                f"query {query_id} changed to: {answer_text(choice, confidence)} "
                f"({kept} answers kept)"
            )
            self._update_progress()
            self.browse(1, at_end=f"{self.message}; last answered pair")
            return
        self.message = f"saved query {query_id}: {answer_text(choice, confidence)}"
        if self.queue:  # the next pair at once; the store is polled again within poll_s
            self._show_next()
            self._update_progress()
        else:
            self._show(None)
            self.refresh()

    def undo(self) -> None:
        """Delete this annotator's newest answer (in this round's queries) and show its pair."""
        try:
            record = self.source.undo()
        except SourceUnavailableError as error:
            self.message = f"nothing undone ({error}): undo again"
            return
        if record is None:  # none, outside this round, or another window undid it first
            self.message = "nothing to undo"
            return
        self.last_answer = None
        self.session_answers = max(0, self.session_answers - 1)
        query_id = record.query_id
        self.message = (
            f"undid {answer_text(record.choice, record.confidence)!r} on query {query_id}"
        )
        if self.mode is Mode.REVIEW:
            self.review_ids = self._answered_ids()
            if query_id in self.review_ids:
                self.review_index = self.review_ids.index(query_id)
                self._show(query_id)
                self._update_progress()
                return
            self.leave_review()
        if self.current is not None and self.current != query_id:
            self._pinned.insert(0, self.current)
        self._pinned = [query_id, *(q for q in self._pinned if q != query_id)]
        self._show(None)
        self.refresh()

    # -- review --------------------------------------------------------------------------

    def _answered_ids(self) -> list[int]:
        return self.source.answered_ids()

    def enter_review(self) -> None:
        """Browse this annotator's answered pairs, newest answer first shown."""
        if not self.source.can_review:
            self.message = "review is not available here: answered pairs stay on the server"
            return
        ids = self._answered_ids()
        if not ids:
            self.message = "nothing answered yet to review"
            return
        self._label_current = self.current
        self.mode = Mode.REVIEW
        self.review_ids = ids
        self.review_index = len(ids) - 1
        self.message = "review: b / n browse, an answer key changes the answer, r leaves"
        self._show(ids[-1])

    def leave_review(self) -> None:
        """Back to labelling, at the pair that was pending when review started."""
        if self.mode is not Mode.REVIEW:
            return
        self.mode = Mode.LABEL
        label_current, self._label_current = self._label_current, None
        self.message = "back to labelling"
        if label_current is not None and label_current not in self._pinned:
            self._pinned.insert(0, label_current)
        self._show(None)
        self.refresh()

    def browse(self, step: int, at_end: str = "") -> None:
        """Show the previous (``step=-1``) or next (``+1``) answered pair in review mode."""
        if self.mode is not Mode.REVIEW:
            self.message = "press r to review your answers"
            return
        index = self.review_index + step
        if not 0 <= index < len(self.review_ids):
            self.message = at_end or ("first answered pair" if step < 0 else "last answered pair")
            self._show(self.current)
            return
        self.review_index = index
        self._show(self.review_ids[index])

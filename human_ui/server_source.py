"""The comparison window's pairs from a label server: a :class:`LabelSource` over HTTP.

``hfrl label http://HOST:PORT --token T`` opens the desktop window on ``hfrl serve`` instead of
a store: the server leases the pairs (its leases are the store's claims, claimant
``<annotator>#<client id>``, the same mechanism as a window's), the window fetches each clip's
snapshots and renders them itself (it has the whole stack; the browser page plays the server's
videos instead), answers are committed by the server before it replies, and undo deletes this
student's newest answer and leases its query back. The true rewards never come over the API:
the clips rebuilt here carry zeros in their place, which nothing in the window reads (no
teaching overlay, a text-only task card).

Review mode is not available: a student may fetch only the clips of queries leased to them.

Classes:
    ServerSource: the source.

Functions:
    clip_from_snapshot: a :class:`~hfrl_gym.clips.Clip` from the API's snapshot JSON.
    run_view_from_status: the window's run line from ``GET /status``.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import OrderedDict
from typing import Any

import numpy as np

from hfrl_gym.answers import Answer, Choice, Confidence
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.errors import ConfigError
from hfrl_gym.run_status import FORMAT_NAME, FORMAT_VERSION, Phase, RunStatus
from hfrl_gym.run_status_poll import RunView
from hfrl_gym.store import AnswerRecord
from human_ui.commands import Progress
from human_ui.server_client import ServerClient, ServerRefusedError
from human_ui.source_errors import AnswerRefusedError, SourceError, SourceUnavailableError

MAX_LEASE = 5
"""The most pairs one ``POST /leases`` hands out (docs/API.md)."""

ANSWER_RETRY_S = (0.5, 1.0, 2.0)
"""Pauses before an unacknowledged answer is sent again (same ``request_id``)."""

KEPT_PAIRS = 16
"""Pairs whose clips are kept in memory (the shown one, the leased ones, the last answered)."""


def clip_from_snapshot(data: dict[str, Any]) -> Clip:
    """The clip the API's ``GET /clips/{uid}/snapshot`` describes, ready to render.

    Its ``true_rewards`` are zeros: the API never sends them.

    Raises:
        SourceError: a snapshot without states (a clip stored as frames), or damaged.

    Example:
        >>> clip = clip_from_snapshot({"clip_uid": "ab12", "env_id": "hfrl/CartPole-v0",
        ...     "num_steps": 2, "observations": [[0.0] * 4] * 3, "actions": [0, 1],
        ...     "states": [[0.0] * 4] * 3})
        >>> clip.uid, clip.num_steps, clip.states.shape, float(clip.true_rewards.sum())
        ('ab12', 2, (3, 4), 0.0)
    """
    uid = str(data.get("clip_uid", "?"))
    if data.get("states") is None:
        raise SourceError(
            f"clip {uid} has no snapshots (it was stored as frames): label it in the browser "
            "page, which plays the server's video"
        )
    try:
        actions = np.asarray(data["actions"])
        return Clip(
            env_id=str(data["env_id"]),
            observations=np.asarray(data["observations"], dtype=np.float32),
            actions=actions,
            true_rewards=np.zeros(len(actions)),
            states=np.asarray(data["states"], dtype=np.float64),
            policy="server",
            uid=uid,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise SourceError(f"clip {uid}: the server sent a damaged snapshot ({error})") from None


def run_view_from_status(reply: dict[str, Any]) -> RunView | None:
    """The run's line for the window from a ``GET /status`` reply (``None``: no run).

    Example:
        >>> view = run_view_from_status({"line": "waiting for answers", "run": {
        ...     "phase": "waiting", "env_id": "hfrl/CartPole-v0", "ended": False}})
        >>> view.text, view.ended, view.alive
        ('waiting for answers', False, None)
    """
    run = reply.get("run")
    if not isinstance(run, dict):
        return None
    fields = {key: value for key, value in run.items() if key != "ended"}
    try:
        status = RunStatus.from_dict(
            {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **fields}
        )
    except ConfigError as error:  # a newer server: say so rather than guess
        return RunView(RunStatus(Phase.STARTING, env_id=""), None, f"{error}", False)
    ended = bool(run.get("ended", status.phase.ended))
    return RunView(status, None, str(reply.get("line") or ""), ended)


class ServerSource:
    """A :class:`~human_ui.label_source.LabelSource` on the label server's API.

    Args:
        client: the student's client (its token is the student's).

    Raises:
        ConfigError: the token is unknown or expired (401), or the teacher's (the teacher
            does not answer).
        SourceUnavailableError: the server cannot be reached.
    """

    claiming = True
    can_review = False

    def __init__(self, client: ServerClient) -> None:
        self.client = client
        try:
            me = client.me()
        except ServerRefusedError as error:
            if error.status != 401:
                raise
            raise ConfigError(
                f"{client.url} refused the token ({error.detail}): join the class again "
                "(--join CODE --annotator NAME) or ask the teacher"
            ) from None
        if me.get("role") != "student" or not me.get("annotator"):
            raise ConfigError(
                f"the token given is the {me.get('role', 'unknown')}'s: the window answers "
                "as a student; join the class (the join code, a name) for a student token"
            )
        self.annotator = str(me["annotator"])
        self.claimant = f"{self.annotator}#{me['client_id']}"
        self.last_status: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._uids: dict[int, tuple[str, str]] = {}  # leased query -> (left, right) clip uid
        self._pairs: OrderedDict[int, ClipPair] = OrderedDict()

    def fetch(self, limit: int | None) -> list[int]:
        """Lease (and renew) up to ``limit`` pairs, at most :data:`MAX_LEASE`."""
        count = max(1, min(MAX_LEASE, limit or MAX_LEASE))
        pairs = self.client.lease(count)["pairs"]
        with self._lock:
            for pair in pairs:
                uids = (pair["left"]["clip_uid"], pair["right"]["clip_uid"])
                self._uids[int(pair["query_id"])] = uids
        return [int(pair["query_id"]) for pair in pairs]

    def peek(self, limit: int) -> list[int]:
        """Nothing: a student may fetch only the clips of the pairs leased to them."""
        return []

    def pair(self, query_id: int) -> ClipPair:
        """The leased query's clips, from their snapshots (kept for the last few pairs)."""
        with self._lock:
            if query_id in self._pairs:
                self._pairs.move_to_end(query_id)
                return self._pairs[query_id]
            uids = self._uids.get(query_id)
        if uids is None:
            raise SourceError(f"query {query_id} is not leased to this window: lease it first")
        left, right = (clip_from_snapshot(self.client.snapshot(uid)) for uid in uids)
        pair = ClipPair(left, right, query_id=query_id)
        with self._lock:
            self._pairs[query_id] = pair
            while len(self._pairs) > KEPT_PAIRS:
                self._pairs.popitem(last=False)
        return pair

    def _records(self) -> list[AnswerRecord]:
        return [
            AnswerRecord(
                id=index,
                query_id=int(row["query_id"]),
                choice=Choice(row["choice"]),
                annotator=self.annotator,
                seconds=float(row.get("seconds") or 0.0),
                created=float(row.get("created") or 0.0),
                confidence=None if row.get("confidence") is None else Confidence(row["confidence"]),
            )
            for index, row in enumerate(self.client.my_answers(), start=1)
        ]

    def answers(self, query_id: int) -> list[AnswerRecord]:
        """This student's answers to the query (none, for a query leased to them)."""
        return [record for record in self._records() if record.query_id == query_id]

    def add_answer(self, query_id: int, answer: Answer) -> None:
        """Send the answer; the server commits it before replying. A lost reply is sent again
        with the same ``request_id`` (the server stores it once) for a few seconds.

        Raises:
            AnswerRefusedError: the query is not leased to this window any more (409).
            SourceUnavailableError: no reply after the retries; nothing is known to be stored.
        """
        request_id = uuid.uuid4().hex
        confidence = None if answer.confidence is None else answer.confidence.value
        for pause_s in (*ANSWER_RETRY_S, None):
            try:
                self.client.answer(
                    query_id,
                    answer.choice.value,
                    seconds=answer.seconds,
                    confidence=confidence,
                    request_id=request_id,
                )
                return
            except SourceUnavailableError:
                if pause_s is None:
                    raise
                time.sleep(pause_s)
            except ServerRefusedError as error:
                if error.status == 409:
                    raise AnswerRefusedError(f"{error.detail}") from None
                raise

    def undo(self) -> AnswerRecord | None:
        """Delete this student's newest answer; the server leases its query back to them."""
        undone = self.client.undo().get("undone")
        if not undone:
            return None
        confidence = undone.get("confidence")
        return AnswerRecord(
            id=0,
            query_id=int(undone["query_id"]),
            choice=Choice(undone["choice"]),
            annotator=self.annotator,
            seconds=0.0,
            created=time.time(),
            confidence=None if confidence is None else Confidence(confidence),
        )

    def answered_ids(self) -> list[int]:
        """This student's answered queries, oldest first."""
        return list(dict.fromkeys(record.query_id for record in self._records()))

    def progress(self) -> Progress:
        """The class's queries answered and pending (``GET /status``, kept for the run line)."""
        self.last_status = self.client.status()
        queries = self.last_status.get("queries") or {}
        answered, pending = int(queries.get("answered", 0)), int(queries.get("pending", 0))
        return Progress(answered, pending, answered + pending)

    def run_view(self) -> RunView | None:
        """The run's line from the last ``GET /status`` (polled with the progress)."""
        return run_view_from_status(self.last_status)

    def release(self) -> None:
        """Give the server back every pair leased to this window (it closes), so the class may
        take them at once; a server that cannot be reached lets them lapse after the lease."""
        with contextlib.suppress(SourceError):
            self.client.release()

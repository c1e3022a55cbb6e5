"""What a label source raises when it cannot do what the window asked (no pygame, no numpy).

The comparison window catches these and says them in its message line; the HTTP client of the
label server (:mod:`human_ui.server_client`) raises them without loading the window.

Classes:
    SourceError: the family (an :class:`~hfrl_gym.errors.HfrlError`: one ``error:`` line).
    AnswerRefusedError: an answer refused for good (the query is no longer this window's).
    SourceUnavailableError: the source cannot be reached now; try again.
"""

from __future__ import annotations

from hfrl_gym.errors import HfrlError


class SourceError(HfrlError):
    """The label source could not do what was asked; the message says why and what to do."""


class AnswerRefusedError(SourceError):
    """The answer was not stored and never will be (the query is no longer this window's)."""


class SourceUnavailableError(SourceError):
    """The source cannot be reached now (a server down or restarting); try again later."""

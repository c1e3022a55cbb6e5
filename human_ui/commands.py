"""What keys and buttons ask for in the comparison window, and how progress is counted.

Classes:
    Command: what a key or a button asks for.
    Mode: labelling or reviewing.
    Progress: answered / pending / total.

Functions:
    command_for_key: the command of a ``KEYDOWN`` event, or ``None``.

Attributes:
    CHOICE_TEXT: how each choice is said in the window.
    ANSWER_COMMANDS: the commands that answer, and their choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pygame

from hfrl_gym.answers import Choice


class Command(StrEnum):
    """Everything a person can ask the comparison window to do.

    Example:
        >>> Command("step_back") is Command.STEP_BACK
        True
    """

    LEFT = "left"
    RIGHT = "right"
    EQUAL = "equal"
    SKIP = "skip"
    UNDO = "undo"
    PAUSE = "pause"
    STEP_FORWARD = "step_forward"
    STEP_BACK = "step_back"
    FASTER = "faster"
    SLOWER = "slower"
    RESTART = "restart"
    HELP = "help"
    TEACHING = "teaching"
    REVIEW = "review"
    PREVIOUS = "previous"
    NEXT = "next"
    QUIT = "quit"


class Mode(StrEnum):
    """Labelling pending queries, or reviewing answered ones.

    Example:
        >>> Mode.REVIEW.value
        'review'
    """

    LABEL = "label"
    REVIEW = "review"


CHOICE_TEXT = {
    Choice.LEFT: "left is better",
    Choice.RIGHT: "right is better",
    Choice.EQUAL: "equally good",
    Choice.SKIP: "skipped",
}
ANSWER_COMMANDS = {
    Command.LEFT: Choice.LEFT,
    Command.RIGHT: Choice.RIGHT,
    Command.EQUAL: Choice.EQUAL,
    Command.SKIP: Choice.SKIP,
}
_CHAR_COMMANDS = {
    "=": Command.EQUAL,
    "+": Command.FASTER,
    "]": Command.FASTER,
    "-": Command.SLOWER,
    "[": Command.SLOWER,
    "?": Command.HELP,
    "h": Command.HELP,
    "p": Command.PAUSE,
    ".": Command.STEP_FORWARD,
    ",": Command.STEP_BACK,
    "t": Command.TEACHING,
    "r": Command.REVIEW,
    "b": Command.PREVIOUS,
    "n": Command.NEXT,
    "q": Command.QUIT,
}
_KEY_COMMANDS = {
    pygame.K_LEFT: Command.LEFT,
    pygame.K_RIGHT: Command.RIGHT,
    pygame.K_DOWN: Command.EQUAL,
    pygame.K_KP_EQUALS: Command.EQUAL,
    pygame.K_SPACE: Command.SKIP,
    pygame.K_BACKSPACE: Command.UNDO,
    pygame.K_HOME: Command.RESTART,
    pygame.K_PAGEUP: Command.PREVIOUS,
    pygame.K_PAGEDOWN: Command.NEXT,
    pygame.K_KP_PLUS: Command.FASTER,
    pygame.K_KP_MINUS: Command.SLOWER,
    pygame.K_ESCAPE: Command.QUIT,
}


def command_for_key(event: pygame.event.Event) -> Command | None:
    """The command of a ``KEYDOWN`` event: by the character typed, else by the key.

    Example:
        >>> command_for_key(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_LEFT, unicode=""))
        <Command.LEFT: 'left'>
        >>> command_for_key(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_EQUALS, unicode="+"))
        <Command.FASTER: 'faster'>
    """
    char = str(getattr(event, "unicode", "") or "").lower()
    if char in _CHAR_COMMANDS:
        return _CHAR_COMMANDS[char]
    return _KEY_COMMANDS.get(getattr(event, "key", None))


@dataclass(frozen=True)
class Progress:
    """How far the labelling is: ``answered + pending == total`` queries.

    Example:
        >>> Progress(answered=3, pending=7, total=10).text
        'answered 3 / pending 7 / total 10'
    """

    answered: int
    pending: int
    total: int

    @property
    def text(self) -> str:
        """``"answered A / pending P / total T"``."""
        return f"answered {self.answered} / pending {self.pending} / total {self.total}"

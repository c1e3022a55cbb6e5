"""What keys and buttons ask for in the comparison window, and how progress is counted.

Classes:
    Command: what a key or a button asks for.
    Mode: labelling or reviewing.
    HelpPage: the pages of the help overlay (the task card, then the keys).
    Progress: answered / pending / total.

Functions:
    command_for_key: the command of a ``KEYDOWN`` event, or ``None``.
    answer_text: how an answer (a choice and its confidence, if any) is said in the window.

Attributes:
    CHOICE_TEXT: how each choice is said in the window.
    ANSWER_COMMANDS: the commands that answer, and their choice.
    CONFIDENCE_COMMANDS: the answer commands that also give a confidence, and which.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pygame

from hfrl_gym.answers import Choice, Confidence


class Command(StrEnum):
    """Everything a person can ask the comparison window to do.

    Example:
        >>> Command("step_back") is Command.STEP_BACK
        True
    """

    LEFT = "left"
    RIGHT = "right"
    LEFT_MUCH = "left_much"
    LEFT_SLIGHTLY = "left_slightly"
    RIGHT_MUCH = "right_much"
    RIGHT_SLIGHTLY = "right_slightly"
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


class HelpPage(StrEnum):
    """The help overlay's pages, in the order ``h`` shows them.

    Example:
        >>> HelpPage.TASK.next, HelpPage.KEYS.next
        (<HelpPage.KEYS: 'keys'>, None)
    """

    TASK = "task"
    KEYS = "keys"

    @property
    def next(self) -> HelpPage | None:
        """The page ``h`` shows after this one (``None``: the overlay closes)."""
        pages = list(HelpPage)
        index = pages.index(self) + 1
        return pages[index] if index < len(pages) else None


CHOICE_TEXT = {
    Choice.LEFT: "left is better",
    Choice.RIGHT: "right is better",
    Choice.EQUAL: "equally good",
    Choice.SKIP: "skipped",
}
ANSWER_COMMANDS = {
    Command.LEFT: Choice.LEFT,
    Command.RIGHT: Choice.RIGHT,
    Command.LEFT_MUCH: Choice.LEFT,
    Command.LEFT_SLIGHTLY: Choice.LEFT,
    Command.RIGHT_MUCH: Choice.RIGHT,
    Command.RIGHT_SLIGHTLY: Choice.RIGHT,
    Command.EQUAL: Choice.EQUAL,
    Command.SKIP: Choice.SKIP,
}
CONFIDENCE_COMMANDS = {
    # An arrow with shift: "much better"; with ctrl or alt: "slightly better" (a softer target
    # for the reward model, hfrl_gym.answers); the arrow alone gives no confidence.
    Command.LEFT_MUCH: Confidence.MUCH,
    Command.LEFT_SLIGHTLY: Confidence.SLIGHTLY,
    Command.RIGHT_MUCH: Confidence.MUCH,
    Command.RIGHT_SLIGHTLY: Confidence.SLIGHTLY,
}
_WITH_CONFIDENCE = {
    (Command.LEFT, Confidence.MUCH): Command.LEFT_MUCH,
    (Command.LEFT, Confidence.SLIGHTLY): Command.LEFT_SLIGHTLY,
    (Command.RIGHT, Confidence.MUCH): Command.RIGHT_MUCH,
    (Command.RIGHT, Confidence.SLIGHTLY): Command.RIGHT_SLIGHTLY,
}


def answer_text(choice: Choice, confidence: Confidence | None = None) -> str:
    """How an answer is said in the window.

    Example:
        >>> answer_text(Choice.LEFT), answer_text(Choice.RIGHT, Confidence.SLIGHTLY)
        ('left is better', 'right is slightly better')
    """
    if confidence is None:
        return CHOICE_TEXT[choice]
    return f"{choice.value} is {confidence.value} better"


def _confidence_of(mod: int) -> Confidence | None:
    """The confidence an arrow key's modifiers give: shift much, ctrl or alt slightly."""
    if mod & pygame.KMOD_SHIFT:
        return Confidence.MUCH
    if mod & (pygame.KMOD_CTRL | pygame.KMOD_ALT):
        return Confidence.SLIGHTLY
    return None


_KEY_COMMANDS = {
    # Keys that type no character. Answers come only from here: a character can come from
    # a key that means something else with or without shift (``+`` is shift and ``=`` on
    # many layouts), so no typed character ever answers.
    pygame.K_LEFT: Command.LEFT,
    pygame.K_RIGHT: Command.RIGHT,
    pygame.K_DOWN: Command.EQUAL,
    pygame.K_SPACE: Command.SKIP,
    pygame.K_BACKSPACE: Command.UNDO,
    pygame.K_HOME: Command.RESTART,
    pygame.K_PAGEUP: Command.PREVIOUS,
    pygame.K_PAGEDOWN: Command.NEXT,
    pygame.K_KP_PLUS: Command.FASTER,
    pygame.K_KP_MINUS: Command.SLOWER,
    pygame.K_ESCAPE: Command.QUIT,
}
_CHAR_COMMANDS = {
    # ``=`` and ``+`` (one key on many layouts, whatever the shift state) both mean faster.
    "+": Command.FASTER,
    "=": Command.FASTER,
    "]": Command.FASTER,
    "-": Command.SLOWER,
    "_": Command.SLOWER,
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
_CHAR_KEYS = {
    # The same keys when the event carries no character (some platforms, input methods).
    pygame.K_EQUALS: Command.FASTER,
    pygame.K_PLUS: Command.FASTER,
    pygame.K_RIGHTBRACKET: Command.FASTER,
    pygame.K_MINUS: Command.SLOWER,
    pygame.K_LEFTBRACKET: Command.SLOWER,
    pygame.K_SLASH: Command.HELP,
    pygame.K_h: Command.HELP,
    pygame.K_p: Command.PAUSE,
    pygame.K_PERIOD: Command.STEP_FORWARD,
    pygame.K_COMMA: Command.STEP_BACK,
    pygame.K_t: Command.TEACHING,
    pygame.K_r: Command.REVIEW,
    pygame.K_b: Command.PREVIOUS,
    pygame.K_n: Command.NEXT,
    pygame.K_q: Command.QUIT,
}


def command_for_key(event: pygame.event.Event) -> Command | None:
    """The command of a ``KEYDOWN`` event: keys without a character first, then the
    character typed, then the key of a character that was not reported.

    Answers come only from keys that type nothing (arrows, space), so a speed key pressed
    with or without shift, or quickly, never answers. An arrow held with shift answers
    "much better", with ctrl or alt "slightly better".

    Example:
        >>> command_for_key(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_LEFT, unicode=""))
        <Command.LEFT: 'left'>
        >>> command_for_key(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_EQUALS, unicode="+"))
        <Command.FASTER: 'faster'>
        >>> command_for_key(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_EQUALS, unicode="="))
        <Command.FASTER: 'faster'>
        >>> command_for_key(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RIGHT, unicode="",
        ...                                    mod=pygame.KMOD_LSHIFT))
        <Command.RIGHT_MUCH: 'right_much'>
    """
    key = getattr(event, "key", None)
    if key in _KEY_COMMANDS:
        command = _KEY_COMMANDS[key]
        confidence = _confidence_of(int(getattr(event, "mod", 0) or 0))
        return _WITH_CONFIDENCE.get((command, confidence), command)
    char = str(getattr(event, "unicode", "") or "").lower()
    if char:
        return _CHAR_COMMANDS.get(char)
    return _CHAR_KEYS.get(key)


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

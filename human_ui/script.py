"""Scripted input: a JSON-lines file of key presses and clicks, posted into pygame's queue.

``hfrl label --script FILE`` and ``hfrl play --script FILE`` run the real window with input
that comes from a file instead of a person: the end-to-end tests use it, and so do classroom
lessons that need a window without anyone at the keyboard. The events go through
``pygame.event.post``, so the window handles them exactly as it handles a person's.

Each non-blank line (``#`` starts a comment line) is one JSON object with one action and
``"frames"``, the number of window frames to wait before it (default 1)::

    {"until": "ready"}                      wait until the pair's clips are on screen
    {"frames": 30, "key": "left"}           press and release a key (pygame key names)
    {"key": "right", "hold": 20}            hold a key for 20 frames (play mode)
    {"click": "equal"}                      click a button by name (see docs/UI.md)
    {"click": [640, 700]}                   click at window pixel (x, y)
    {"text": "ana"}                         type text (the annotator-name prompt)
    {"print": "ready for a screenshot"}     print a line on stdout (to synchronise)
    {"screenshot": "shot.png"}              save the window's picture as PNG
    {"quit": true}                          close the window

Classes:
    ScriptStep: one parsed line.
    ScriptPlayer: posts the steps' events as the frames go by.

Functions:
    parse_script: lines of JSON to steps (``ConfigError`` naming the bad line).
    load_script: the same from a file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygame

from hfrl_gym.errors import ConfigError

ACTIONS = ("key", "click", "text", "until", "print", "screenshot", "quit")
_CHARS = {"space": " ", "return": "\r", "tab": "\t"}


@dataclass(frozen=True)
class ScriptStep:
    """One scripted action.

    Attributes:
        action: one of :data:`ACTIONS`.
        value: the key name, click target, text, condition, line or path.
        frames: window frames to wait before acting.
        hold: frames a key stays pressed.
        line: line number in the file (for messages).

    Example:
        >>> parse_script(['{"frames": 3, "key": "left"}'])[0]
        ScriptStep(action='key', value='left', frames=3, hold=1, line=1)
    """

    action: str
    value: Any
    frames: int = 1
    hold: int = 1
    line: int = 0


def _step(data: Any, where: str, line: int) -> ScriptStep:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: each line must be a JSON object, got {data!r}")
    actions = [name for name in ACTIONS if name in data]
    unknown = sorted(set(data) - {*ACTIONS, "frames", "hold"})
    if len(actions) != 1 or unknown:
        raise ConfigError(
            f"{where}: give exactly one of {', '.join(ACTIONS)} (and optionally frames, "
            f"hold); got keys {sorted(data)}"
        )
    action = actions[0]
    value = data[action]
    frames, hold = data.get("frames", 1), data.get("hold", 1)
    for name, number in (("frames", frames), ("hold", hold)):
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            raise ConfigError(f"{where}: {name} must be a whole number >= 0, got {number!r}")
    if action == "key":
        try:
            pygame.key.key_code(str(value))
        except ValueError:
            raise ConfigError(
                f"{where}: unknown key name {value!r}; use pygame key names such as left, "
                "right, down, space, backspace, escape, =, h"
            ) from None
    elif action == "click":
        is_point = (
            isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)
        )
        if not (isinstance(value, str) or is_point):
            raise ConfigError(f"{where}: click takes a button name or [x, y], got {value!r}")
    elif action == "until" and value != "ready":
        raise ConfigError(f'{where}: the only condition is {{"until": "ready"}}, got {value!r}')
    elif action in ("text", "print", "screenshot") and not isinstance(value, str):
        raise ConfigError(f"{where}: {action} takes a string, got {value!r}")
    return ScriptStep(action, value, frames=frames, hold=max(1, hold), line=line)


def parse_script(lines: Iterable[str], source: str = "script") -> list[ScriptStep]:
    """Parse JSON lines into steps.

    Args:
        lines: the lines; blank ones and ``#`` comments are skipped.
        source: the file name, for messages.

    Raises:
        ConfigError: a line is not JSON or not a valid step; the message names the line.
    """
    steps = []
    for number, text in enumerate(lines, start=1):
        text = text.strip()
        if not text or text.startswith("#"):
            continue
        where = f"{source} line {number}"
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(f"{where} is not JSON ({error.msg}): {text[:60]}") from None
        steps.append(_step(data, where, number))
    return steps


def load_script(path: str | Path) -> list[ScriptStep]:
    """Read and parse a script file (``ConfigError`` when it is missing or invalid)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read --script {path}: {error.strerror}") from None
    return parse_script(text.splitlines(), source=str(path))


def _key_event(kind: int, name: str) -> pygame.event.Event:
    key = pygame.key.key_code(name)
    char = name if len(name) == 1 else _CHARS.get(name, "")
    return pygame.event.Event(kind, key=key, mod=0, unicode=char, scancode=0)


class ScriptPlayer:
    """Posts the events of a script, one window frame at a time.

    Call :meth:`tick` once per frame, before the window reads its events.

    Args:
        steps: the parsed script.
        is_ready: whether the window is ready (``{"until": "ready"}`` waits for it).
        locate: the centre of a button by name, or ``None`` when there is no such button.
        save: saves the window's picture to a path.

    Example:
        >>> _ = pygame.init()  # key names need the video driver
        >>> player = ScriptPlayer(parse_script(['{"frames": 0, "key": "space"}']))
        >>> player.tick()
        >>> [pygame.event.event_name(e.type) for e in pygame.event.get()], player.finished
        (['KeyDown'], False)
        >>> player.tick()
        >>> [pygame.event.event_name(e.type) for e in pygame.event.get()], player.finished
        (['KeyUp'], True)
    """

    def __init__(
        self,
        steps: list[ScriptStep],
        *,
        is_ready: Callable[[], bool] = lambda: True,
        locate: Callable[[str], tuple[int, int] | None] = lambda name: None,
        save: Callable[[str], None] = lambda path: None,
    ) -> None:
        self.steps = list(steps)
        self.is_ready = is_ready
        self.locate = locate
        self.save = save
        self._index = 0
        self._tick = 0  # frames seen
        self._due = self.steps[0].frames if self.steps else 0  # frame the next step is due
        self._releases: list[tuple[int, pygame.event.Event]] = []  # (frames left, event)

    @property
    def finished(self) -> bool:
        """Every step done and every held key released."""
        return self._index >= len(self.steps) and not self._releases

    def tick(self) -> None:
        """Advance one frame: release held keys that are due, then run due steps."""
        releases = []
        for frames_left, event in self._releases:
            if frames_left <= 1:
                pygame.event.post(event)
            else:
                releases.append((frames_left - 1, event))
        self._releases = releases
        while self._index < len(self.steps):
            step = self.steps[self._index]
            if self._tick < self._due or (step.action == "until" and not self.is_ready()):
                break
            self._perform(step)
            self._index += 1
            if self._index < len(self.steps):
                self._due = self._tick + self.steps[self._index].frames
        self._tick += 1

    def _perform(self, step: ScriptStep) -> None:
        where = f"script line {step.line}"
        if step.action == "key":
            pygame.event.post(_key_event(pygame.KEYDOWN, step.value))
            self._releases.append((step.hold, _key_event(pygame.KEYUP, step.value)))
        elif step.action == "click":
            pos = self.locate(step.value) if isinstance(step.value, str) else tuple(step.value)
            if pos is None:
                raise ConfigError(f"{where}: no button named {step.value!r} in this window")
            for kind in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
                pygame.event.post(pygame.event.Event(kind, pos=pos, button=1, touch=False))
        elif step.action == "text":
            pygame.event.post(pygame.event.Event(pygame.TEXTINPUT, text=step.value))
        elif step.action == "print":
            print(step.value, flush=True)
        elif step.action == "screenshot":
            self.save(step.value)
        elif step.action == "quit":
            pygame.event.post(pygame.event.Event(pygame.QUIT))

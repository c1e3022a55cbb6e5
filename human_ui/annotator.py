"""Who is labelling: the annotator name, from a flag, the environment, or asked once.

The name is looked up in this order: ``--annotator NAME``; the ``HFRL_ANNOTATOR``
environment variable; the name saved the last time it was asked
(``$XDG_CONFIG_HOME/hfrl/annotator``, by default ``~/.config/hfrl/annotator``). When none
is found the window asks for it once, and saves it for next time.

Classes:
    NamePrompt: the state of the "what is your name?" prompt (no surfaces).

Functions:
    saved_name_path: where the name is saved.
    resolve_annotator: the name from the flag, environment or saved file, or ``None``.
    save_annotator: remember a name for next time.
    check_annotator: validate a name (``ConfigError`` saying what is allowed).
    ask_annotator: show the prompt in the open window and return the name typed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pygame

from hfrl_gym.errors import ConfigError
from human_ui.script import ScriptPlayer
from human_ui.widgets import Fonts, Theme, draw_text

MAX_NAME_LENGTH = 40


def saved_name_path() -> Path:
    """``$XDG_CONFIG_HOME/hfrl/annotator`` (``~/.config`` when the variable is unset)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "hfrl" / "annotator"


def check_annotator(name: str) -> str:
    """The name stripped of surrounding spaces, if it is a valid annotator name.

    Example:
        >>> check_annotator("  Ana ")
        'Ana'
    """
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise ConfigError(
            f"annotator name {name!r} is not valid: use 1 to {MAX_NAME_LENGTH} printable "
            "characters, e.g. --annotator ana"
        )
    return name


def resolve_annotator(flag: str | None) -> str | None:
    """The annotator name from the flag, ``HFRL_ANNOTATOR`` or the saved file, else ``None``."""
    for candidate in (flag, os.environ.get("HFRL_ANNOTATOR")):
        if candidate and candidate.strip():
            return check_annotator(candidate)
    path = saved_name_path()
    if path.is_file():
        saved = path.read_text(encoding="utf-8").strip()
        if saved:
            return check_annotator(saved)
    return None


def save_annotator(name: str) -> Path:
    """Save the name for next time; returns the file written."""
    path = saved_name_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(check_annotator(name) + "\n", encoding="utf-8")
    return path


class NamePrompt:
    """Typing a name: text input, backspace, return to accept, escape to give up.

    Example:
        >>> prompt = NamePrompt()
        >>> prompt.handle_event(pygame.event.Event(pygame.TEXTINPUT, text="ana"))
        >>> prompt.handle_event(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN))
        >>> prompt.accepted, prompt.text
        (True, 'ana')
    """

    def __init__(self, text: str = "") -> None:
        self.text = text
        self.accepted = False
        self.cancelled = False
        self.message = ""

    def handle_event(self, event: pygame.event.Event) -> None:
        """Act on one event."""
        if event.type == pygame.QUIT:
            self.cancelled = True
        elif event.type == pygame.TEXTINPUT:
            self.text = (self.text + event.text)[:MAX_NAME_LENGTH]
        elif event.type == pygame.KEYDOWN:
            if event.key == pygame.K_BACKSPACE:
                self.text = self.text[:-1]
            elif event.key == pygame.K_ESCAPE:
                self.cancelled = True
            elif event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
                try:
                    self.text = check_annotator(self.text)
                    self.accepted = True
                except ConfigError:
                    self.message = "type a name first (letters, digits, spaces)"


def ask_annotator(script: ScriptPlayer | None = None, *, max_frames: int | None = None) -> str:
    """Ask for the annotator's name in the open window; save and return it.

    Raises:
        ConfigError: the window was closed (or escape pressed) without a name.
    """
    prompt = NamePrompt(os.environ.get("USER", "")[:MAX_NAME_LENGTH])
    surface = pygame.display.get_surface()
    clock = pygame.time.Clock()
    pygame.key.start_text_input()
    frames = 0
    while not (prompt.accepted or prompt.cancelled):
        if script is not None:
            script.tick()
        for event in pygame.event.get():
            prompt.handle_event(event)
        surface = pygame.display.get_surface()
        fonts = Fonts(surface.get_height())
        surface.fill(Theme.BACKGROUND)
        centre_x, centre_y = surface.get_width() // 2, surface.get_height() // 2
        line = fonts.title.get_linesize()
        draw_text(
            surface,
            "Who is labelling?",
            fonts.title,
            Theme.TEXT,
            (centre_x, centre_y - 2 * line),
            anchor="center",
        )
        box = pygame.Rect(0, 0, 24 * fonts.unit, round(1.8 * fonts.unit))
        box.center = (centre_x, centre_y)
        pygame.draw.rect(surface, Theme.PANEL, box, border_radius=6)
        pygame.draw.rect(surface, Theme.LEFT, box, width=2, border_radius=6)
        cursor = "|" if (pygame.time.get_ticks() // 500) % 2 == 0 else ""
        draw_text(
            surface,
            prompt.text + cursor,
            fonts.body,
            Theme.TEXT,
            (box.left + fonts.unit // 2, box.centery),
            anchor="midleft",
        )
        hint = prompt.message or "type your name, then press Return (it is saved for next time)"
        draw_text(
            surface, hint, fonts.small, Theme.MUTED, (centre_x, box.bottom + line), anchor="center"
        )
        pygame.display.flip()
        clock.tick(30)
        frames += 1
        if max_frames is not None and frames >= max_frames:
            prompt.cancelled = True
    if prompt.cancelled:
        raise ConfigError("no annotator name was given; pass --annotator NAME")
    save_annotator(prompt.text)
    return prompt.text

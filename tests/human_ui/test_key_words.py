"""Every place that tells a person the comparison window's keys says what the keys do:
`hfrl label --help`, the README's window section and lesson 1 (docs/TEACHING.md and the
lesson's own words).

`=` is one key with `+` on many keyboards, so it means *faster* and never answers (issue 13);
words that still call it "equal" would send a person to the speed key to answer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pygame
import pytest

from agents.lessons import preferences
from human_ui.commands import Command, command_for_key
from human_ui.compare_layout import HELP_ROWS
from human_ui.window_cli import _EPILOG_LABEL

ROOT = Path(__file__).resolve().parents[2]
EQUALS_AS_ANSWER = re.compile(r"(?<!\w)=`?\s+(?:equal|equally)\b")
"""``= equal``, ``or = equally good``: the ``=`` key named as the "equal" answer."""


def _texts() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    teaching = (ROOT / "docs" / "TEACHING.md").read_text(encoding="utf-8")
    return {
        "hfrl label --help": _EPILOG_LABEL,
        "README.md": readme,
        "TEACHING.md": teaching,
        "lesson 1": preferences.TEXT,
    }


def test_the_equals_key_is_faster_and_never_an_answer() -> None:
    for unicode in ("=", "+"):
        event = pygame.event.Event(pygame.KEYDOWN, key=pygame.K_EQUALS, unicode=unicode, mod=0)
        assert command_for_key(event) is Command.FASTER
    down = pygame.event.Event(pygame.KEYDOWN, key=pygame.K_DOWN, unicode="", mod=0)
    assert command_for_key(down) is Command.EQUAL


def test_the_pattern_finds_the_old_words() -> None:
    for old in ("down or = equal", "↓ or = equally good", "↓ or `=` equal"):
        assert EQUALS_AS_ANSWER.search(old), old
    for new in ("down equal", "↓ equally good", "- + (or =) speed", "`=`: faster"):
        assert not EQUALS_AS_ANSWER.search(new), new


@pytest.mark.parametrize("name", ["hfrl label --help", "README.md", "TEACHING.md", "lesson 1"])
def test_no_text_calls_the_speed_key_equal(name: str) -> None:
    text = _texts()[name]
    found = [match.group(0) for match in EQUALS_AS_ANSWER.finditer(text)]
    assert not found, f"{name} says {found}: ↓ answers equal, = is faster"


def test_the_label_help_names_the_answer_keys_and_the_confidence() -> None:
    assert "down equal" in _EPILOG_LABEL
    assert "shift" in _EPILOG_LABEL
    assert "ctrl" in _EPILOG_LABEL


def test_the_help_says_only_slightly_better_is_a_softer_target() -> None:
    (keys, words) = next(row for row in HELP_ROWS if "shift" in row[0])
    assert "ctrl" in keys
    assert "much" in words
    assert "slightly" in words
    assert "slightly: a softer target" in words  # "much" fits as a plain arrow does

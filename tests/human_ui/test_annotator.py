"""The annotator name: flag, environment, saved file, or asked once in the window."""

from __future__ import annotations

from pathlib import Path

import pygame
import pytest

from hfrl_gym.errors import ConfigError
from human_ui.annotator import (
    NamePrompt,
    ask_annotator,
    check_annotator,
    resolve_annotator,
    save_annotator,
    saved_name_path,
)
from human_ui.app import open_window
from human_ui.script import ScriptPlayer, parse_script


@pytest.fixture(autouse=True)
def _config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("HFRL_ANNOTATOR", raising=False)


def test_flag_then_environment_then_saved_name(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_annotator(None) is None
    save_annotator("saved")
    assert resolve_annotator(None) == "saved"
    monkeypatch.setenv("HFRL_ANNOTATOR", "env")
    assert resolve_annotator(None) == "env"
    assert resolve_annotator(" flag ") == "flag"


def test_the_name_is_saved_under_the_config_home(tmp_path: Path) -> None:
    path = save_annotator("ana")
    assert path == saved_name_path() == tmp_path / "config" / "hfrl" / "annotator"
    assert path.read_text(encoding="utf-8") == "ana\n"


@pytest.mark.parametrize("name", ["", "   ", "x" * 41, "tab\there"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="--annotator"):
        check_annotator(name)


def _events(prompt: NamePrompt, *events: pygame.event.Event) -> None:
    for event in events:
        prompt.handle_event(event)


def test_prompt_types_erases_and_accepts() -> None:
    prompt = NamePrompt("ab")
    _events(
        prompt,
        pygame.event.Event(pygame.KEYDOWN, key=pygame.K_BACKSPACE),
        pygame.event.Event(pygame.TEXTINPUT, text="na"),
        pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN),
    )
    assert prompt.accepted
    assert prompt.text == "ana"


def test_prompt_refuses_an_empty_name_and_can_be_cancelled() -> None:
    prompt = NamePrompt("")
    _events(prompt, pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN))
    assert not prompt.accepted
    assert "type a name" in prompt.message
    _events(prompt, pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE))
    assert prompt.cancelled


def test_asking_in_the_window_saves_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "")
    open_window((640, 480), "test")
    lines = ['{"frames": 2, "text": "Bea"}', '{"frames": 2, "key": "return"}']
    try:
        assert ask_annotator(ScriptPlayer(parse_script(lines)), max_frames=100) == "Bea"
        assert resolve_annotator(None) == "Bea"
        with pytest.raises(ConfigError, match="no annotator name"):
            ask_annotator(ScriptPlayer(parse_script(['{"key": "escape"}'])), max_frames=100)
    finally:
        pygame.display.quit()

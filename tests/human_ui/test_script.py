"""Scripted input: parsing JSON lines and posting the events frame by frame."""

from __future__ import annotations

from pathlib import Path

import pygame
import pytest

from hfrl_gym.errors import ConfigError
from human_ui.script import ScriptPlayer, load_script, parse_script


@pytest.fixture(autouse=True)
def _pygame() -> None:
    pygame.init()
    pygame.event.clear()


def _frames(player: ScriptPlayer, num_frames: int) -> list[list[tuple[str, object]]]:
    """What each frame posts: (event name, key or pos or text)."""
    out = []
    for _ in range(num_frames):
        player.tick()
        frame = []
        for event in pygame.event.get():
            detail = getattr(event, "key", None) or getattr(event, "pos", None)
            frame.append(
                (pygame.event.event_name(event.type), detail or getattr(event, "text", None))
            )
        out.append(frame)
    return out


def test_waits_frames_holds_keys_and_posts_in_order() -> None:
    steps = parse_script(
        [
            '{"frames": 2, "key": "right", "hold": 3}',
            "# a comment",
            "",
            '{"frames": 0, "text": "ana"}',
            '{"frames": 1, "quit": true}',
        ]
    )
    frames = _frames(ScriptPlayer(steps), 7)
    right = pygame.K_RIGHT
    assert frames == [
        [],
        [],
        [("KeyDown", right), ("TextInput", "ana")],
        [("Quit", None)],
        [],
        [("KeyUp", right)],
        [],
    ]


def test_until_ready_blocks_until_the_window_is_ready() -> None:
    ready = {"now": False}
    player = ScriptPlayer(
        parse_script(['{"until": "ready"}', '{"frames": 0, "key": "left"}']),
        is_ready=lambda: ready["now"],
    )
    assert _frames(player, 5) == [[]] * 5
    ready["now"] = True
    assert _frames(player, 2) == [[("KeyDown", pygame.K_LEFT)], [("KeyUp", pygame.K_LEFT)]]
    assert player.finished


def test_clicks_by_name_and_by_point() -> None:
    player = ScriptPlayer(
        parse_script(['{"frames": 0, "click": "skip"}', '{"frames": 0, "click": [5, 6]}']),
        locate={"skip": (10, 20)}.get,
    )
    assert _frames(player, 1) == [
        [
            ("MouseButtonDown", (10, 20)),
            ("MouseButtonUp", (10, 20)),
            ("MouseButtonDown", (5, 6)),
            ("MouseButtonUp", (5, 6)),
        ]
    ]


def test_clicking_a_missing_button_names_the_line() -> None:
    player = ScriptPlayer(parse_script(['{"click": "nope"}']))
    player.tick()
    with pytest.raises(ConfigError, match=r"line 1.*nope"):
        player.tick()


def test_print_and_screenshot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    saved = []
    player = ScriptPlayer(
        parse_script(['{"frames": 0, "print": "hello"}', '{"frames": 0, "screenshot": "a.png"}']),
        save=saved.append,
    )
    player.tick()
    assert capsys.readouterr().out == "hello\n"
    assert saved == ["a.png"]


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"key": "left", "quit": true}', "exactly one"),
        ('{"kye": "left"}', "exactly one"),
        ('{"key": "nokey"}', "unknown key name"),
        ('{"key": "left", "frames": -1}', "frames must be"),
        ('{"key": "left", "hold": 1.5}', "hold must be"),
        ('{"click": [1]}', "button name or"),
        ('{"until": "later"}', "only condition"),
        ('{"text": 5}', "takes a string"),
    ],
)
def test_bad_lines_are_refused_with_their_number(line: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match) as error:
        parse_script(['{"key": "left"}', line], source="s.jsonl")
    assert "s.jsonl line 2" in str(error.value)


def test_load_script_reads_a_file_and_names_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"key": "space"}\n{"quit": true}\n', encoding="utf-8")
    assert [step.action for step in load_script(path)] == ["key", "quit"]
    with pytest.raises(ConfigError, match="cannot read --script"):
        load_script(tmp_path / "missing.jsonl")

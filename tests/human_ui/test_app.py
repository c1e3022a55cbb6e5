"""Entry points: label_queries (the lessons' window), goal lines, window and option errors.

The window of `hfrl train --teacher human`, kept open for a whole run, is tested in
test_run_window.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pygame
import pytest

from hfrl_gym.errors import ConfigError, RenderError, StoreError
from hfrl_gym.store import LabelStore
from human_ui.app import LabelConfig, goal_describer, label_queries, open_window, run_label
from human_ui.window_cli import build_parser, main
from tests.ui_helpers import answer_steps, make_query_store, write_script


@pytest.fixture(autouse=True)
def _headless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("HFRL_ANNOTATOR", raising=False)


@pytest.fixture
def run_store(tmp_path: Path) -> Path:
    path = tmp_path / "run" / "store.sqlite"
    path.parent.mkdir()
    make_query_store(path, 4)
    return path


def test_label_queries_answers_exactly_the_rounds_queries(run_store: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.jsonl", answer_steps(["left", "right"]))
    assert label_queries(run_store, [3, 2], annotator="ana", script=script) == 2
    with LabelStore(run_store, create=False) as store:
        answers = store.answers()
    assert [(a.query_id, a.choice.value, a.annotator) for a in answers] == [
        (2, "left", "ana"),
        (3, "right", "ana"),
    ]


def test_closing_the_window_early_says_how_to_resume(run_store: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.jsonl", [*answer_steps(["left"]), {"quit": True}])
    with pytest.raises(ConfigError, match="hfrl train --resume") as error:
        label_queries(run_store, [1, 2, 3], annotator="ana", script=script)
    message = str(error.value)
    assert "2 of this round's 3 queries unanswered" in message
    assert str(run_store.parent) in message
    with LabelStore(run_store, create=False) as store:
        assert len(store.answers()) == 1  # the answer given is kept


def test_label_queries_with_nothing_pending_returns_at_once(run_store: Path) -> None:
    with LabelStore(run_store, create=False) as store:
        from hfrl_gym.answers import Answer, Choice

        store.add_answer(1, Answer(Choice.LEFT, annotator="bob"))
    assert label_queries(run_store, [1], annotator="ana", max_frames=1000) == 0


def test_the_name_is_asked_when_unknown(run_store: Path, tmp_path: Path) -> None:
    script = write_script(
        tmp_path / "s.jsonl",
        [{"text": "Cai"}, {"key": "return"}, *answer_steps(["space"]), {"quit": True}],
    )
    outcome = run_label(LabelConfig(store=run_store, script=script, max_frames=2000))
    assert outcome.annotator == "Cai"
    assert outcome.answers_given == 1
    assert outcome.quit_early
    with LabelStore(run_store, create=False) as store:
        assert store.answers()[0].annotator == "Cai"


def test_goal_lines(run_store: Path) -> None:
    with LabelStore(run_store, create=False) as store:
        assert goal_describer(store, None)("hfrl/CartPole-v0") == (
            "hfrl/CartPole-v0 · task: push a cart left or right to keep its pole upright"
        )
        assert "goal left: balance left of centre" in goal_describer(store, "left")(
            "hfrl/CartPole-v0"
        )
        with pytest.raises(ConfigError, match="no such goal"):
            goal_describer(store, "backwards")
        (run_store.parent / "config.json").write_text(json.dumps({"goal": "left"}))
        assert "goal left" in goal_describer(store, None)("hfrl/CartPole-v0")
        store.set_meta("goal", "task")
        assert "task:" in goal_describer(store, None)("hfrl/CartPole-v0")


def test_a_missing_store_is_refused_before_any_window(tmp_path: Path) -> None:
    pygame.display.quit()
    with pytest.raises(StoreError, match="does not exist"):
        run_label(LabelConfig(store=tmp_path / "nope.sqlite", annotator="ana"))
    assert not pygame.display.get_init()


def test_no_display_is_a_render_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pygame.display.quit()
    monkeypatch.setenv("SDL_VIDEODRIVER", "no-such-driver")
    with pytest.raises(RenderError, match="SDL_VIDEODRIVER=dummy"):
        open_window((640, 480), "test")
    pygame.display.quit()


def test_cli_parses_options_and_refuses_bad_ones(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser("label").parse_args(["s.sqlite", "--queries", "3,4", "--size", "800x600"])
    assert (args.queries, args.size, args.prefetch) == ([3, 4], (800, 600), 3)
    args = build_parser("play").parse_args(["hfrl/Pendulum-v0", "--fps", "10"])
    assert (args.env, args.fps, args.store.name) == (
        "hfrl/Pendulum-v0",
        10,
        "demonstrations.sqlite",
    )
    with pytest.raises(SystemExit):
        build_parser("label").parse_args(["s.sqlite", "--size", "10x10"])
    assert "at least 320x240" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="label or play"):
        main(["train"])
    with pytest.raises(ConfigError, match="has no goal 'moon'"):
        main(["play", "hfrl/CartPole-v0", "--goal", "moon"])

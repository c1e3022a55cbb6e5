"""The window knows about training: the run's status line, closing with the run, and one
window kept open for a whole `hfrl train --teacher human` run."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pygame
import pytest

from hfrl_gym.answers import Answer, Choice
from hfrl_gym.errors import ConfigError
from hfrl_gym.run_status import Phase, StatusWriter
from hfrl_gym.run_status_poll import StatusPoller
from hfrl_gym.store import LabelStore
from human_ui.answerer import RunWindow
from human_ui.app import LabelConfig, _run_poller, open_window, run_label
from human_ui.compare import CompareWindow
from human_ui.compare_state import CompareState
from human_ui.prefetch import PairPrefetcher
from human_ui.widgets import Theme
from tests.ui_helpers import answer_steps, make_query_store, ui_env, write_script

SIZE = (1280, 800)


@pytest.fixture(autouse=True)
def _headless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("HFRL_ANNOTATOR", raising=False)


def _writer(run: Path) -> StatusWriter:
    return StatusWriter(
        run, env_id="hfrl/CartPole-v0", labels_budget=6, env_steps_budget=3000, num_rounds=2
    )


@pytest.fixture
def run(tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    folder.mkdir()
    make_query_store(folder / "store.sqlite", 2)
    return folder


def _window(run: Path, *, close_with_run: bool) -> Iterator[CompareWindow]:
    open_window(SIZE, "test")
    store = LabelStore(run / "store.sqlite", create=False)
    prefetcher = PairPrefetcher(store.pair)
    state = CompareState(store, "ana", lookahead=1)
    poller = StatusPoller(run, interval_s=0)
    yield CompareWindow(
        state,
        prefetcher,
        describe_goal=lambda env_id: env_id,
        run_status=poller.poll,
        close_with_run=close_with_run,
    )
    prefetcher.close()
    store.close()
    pygame.display.quit()


def _status_row_colours(window: CompareWindow) -> set[tuple[int, int, int]]:
    """The colours drawn in the right half of the bottom line (where the run line goes)."""
    window.update(1 / 60)
    window.draw()
    row = window.layout.status
    right = pygame.Rect(row.centerx, row.top, row.width // 2, row.height)
    pixels = pygame.surfarray.pixels3d(window.surface.subsurface(right))
    return {tuple(int(v) for v in colour) for colour in np.unique(pixels.reshape(-1, 3), axis=0)}


def test_the_runs_status_is_drawn_and_redrawn_when_it_changes(run: Path) -> None:
    for window in _window(run, close_with_run=False):
        assert _status_row_colours(window) == {Theme.BACKGROUND}  # no status yet: nothing
        assert window.run_view is None
        writer = _writer(run)
        writer.update(Phase.TRAINING, round_index=0, refits=1, env_steps=512)
        colours = _status_row_colours(window)
        assert Theme.MUTED in colours
        assert window.run_view.text.startswith("PPO training · round 1/2 · 1 refit")
        before = window.scene_key()
        writer.update(Phase.WAITING, pending_queries=2)
        window.update(1 / 60)
        assert window.scene_key() != before  # a redraw is due
        assert window.run_view.text.startswith("waiting for answers (2 pending)")
        assert not window.finished
        writer.finish()
        assert Theme.GOOD in _status_row_colours(window)  # finished: said in green
        assert not window.finished  # a window without close_with_run stays open


def test_a_stopped_run_is_said_in_red_and_closes_a_run_window(run: Path) -> None:
    for window in _window(run, close_with_run=True):
        writer = _writer(run)
        writer.update(Phase.TRAINING)
        window.update(1 / 60)
        assert not window.finished
        writer.stop("the labelling window was closed")
        assert Theme.BAD in _status_row_colours(window)
        assert window.run_view.text == (
            "run stopped: the labelling window was closed · labels 0/6 · env steps 0/3,000"
        )
        assert window.finished


def test_the_window_counts_labels_in_the_store_while_the_run_waits(run: Path) -> None:
    _writer(run).update(Phase.WAITING, round_index=0, labels_answered=0, pending_queries=2)
    with LabelStore(run / "store.sqlite", create=False) as store:
        store.add_answer(store.queries()[0].id, Answer(Choice.LEFT, annotator="ana"))
        view = _run_poller(run, store).poll()
    assert view is not None
    assert view.text.startswith("waiting for answers (1 pending) · round 1/2 · labels 1/6")


def test_a_run_folder_opens_its_store_and_a_finished_run_closes_the_window(run: Path) -> None:
    _writer(run).finish()
    outcome = run_label(
        LabelConfig(store=run, annotator="ana", close_with_run=True, max_frames=2000)
    )
    assert (outcome.answers_given, outcome.pending) == (0, 2)  # closed by the run, not frames


def test_closing_with_a_run_needs_a_run_status(run: Path, tmp_path: Path) -> None:
    pygame.display.quit()
    with pytest.raises(ConfigError, match="--close-with-run"):
        run_label(LabelConfig(store=run / "store.sqlite", annotator="ana", close_with_run=True))
    assert not pygame.display.get_init()
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"without store\.sqlite"):
        run_label(LabelConfig(store=tmp_path / "empty", annotator="ana"))


def test_a_window_that_cannot_start_stops_the_run_saying_how_to_resume(
    run: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    window = RunWindow("ana", resume_command="hfrl train --resume run", poll_s=0.05)
    with (
        LabelStore(run / "store.sqlite", create=False) as store,  # no status.json: refused
        pytest.raises(ConfigError, match=r"exit status 2.*2 of this round's 2") as error,
    ):
        window.answer(store, store.queries())
    assert "Resume with `hfrl train --resume run`" in str(error.value)
    assert "--close-with-run" in capfd.readouterr().err  # the window's own one-line error
    assert (window.opened, window.is_open) == (1, False)


_DRIVE = """
import functools
import sys
from pathlib import Path

import human_ui.cli as cli
from human_ui.answerer import RunWindow

script, labels, rounds = sys.argv[1:]
cli.WINDOWS["train"] = functools.partial(RunWindow, script=Path(script), max_frames=40000)
train = "train --env hfrl/CartPole-v0 --teacher human --annotator ana --steps 3000"
train += f" --labels {labels} --rounds {rounds} --initial-steps 500 --clip-steps 10"
train += " --eval-episodes 1 --out run --no-progress --no-video"
sys.exit(cli.main(train.split()))
"""


def _train(tmp_path: Path, steps: list[dict], labels: int, rounds: int) -> tuple:
    drive = tmp_path / "drive.py"
    drive.write_text(_DRIVE, encoding="utf-8")
    script = write_script(tmp_path / "keys.jsonl", steps)
    result = subprocess.run(
        [sys.executable, str(drive), str(script), str(labels), str(rounds)],
        cwd=tmp_path,
        env=ui_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )
    with LabelStore(tmp_path / "run" / "store.sqlite", create=False) as store:
        answers, queries = store.answers(), store.queries()
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    return result, answers, queries, status


@pytest.mark.slow
def test_one_window_stays_open_for_every_round_and_closes_with_the_run(tmp_path: Path) -> None:
    steps = [{"print": "window opened"}, *answer_steps(["left", "right"] * 3)]
    result, answers, queries, status = _train(tmp_path, steps, labels=6, rounds=2)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("window opened") == 1  # one window for both rounds
    assert sorted({q.round for q in queries}) == [0, 1]
    assert [(a.query_id, a.choice.value, a.annotator) for a in answers] == [
        (q.id, ("left", "right")[i % 2], "ana") for i, q in enumerate(queries)
    ]
    assert (status["phase"], status["refits"], status["labels_answered"]) == ("finished", 2, 6)
    assert "ana: 6 answers saved" in result.stdout  # the window closed itself with the run


@pytest.mark.slow
def test_closing_the_window_early_stops_the_run_saying_how_to_resume(tmp_path: Path) -> None:
    steps = [*answer_steps(["left"]), {"frames": 5, "quit": True}]
    result, answers, queries, status = _train(tmp_path, steps, labels=3, rounds=1)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "closed with 2 of this round's 3 queries unanswered" in result.stderr
    assert "hfrl train --resume run" in result.stderr
    assert [(a.query_id, a.choice.value) for a in answers] == [(queries[0].id, "left")]
    assert status["phase"] == "stopped"
    assert "hfrl train --resume run" in status["message"]

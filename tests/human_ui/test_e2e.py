"""End to end: the real `hfrl label` / `hfrl play` processes driven by --script files."""

from __future__ import annotations

import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hfrl_gym.answers import Answer, Choice
from hfrl_gym.store import LabelStore
from tests.ui_helpers import HFRL, answer_steps, make_query_store, run_hfrl, ui_env, write_script

pytestmark = pytest.mark.slow  # end-to-end: not in `make test-fast`


def _label(tmp_path: Path, steps: list[dict], *extra: str) -> subprocess.CompletedProcess[str]:
    script = write_script(tmp_path / "script.jsonl", steps)
    args = ["label", "labels.sqlite", "--annotator", "ana", "--script", str(script), *extra]
    return run_hfrl(args, tmp_path)


def _choices(path: Path, **where: object) -> list[tuple[int, str]]:
    with LabelStore(path, create=False) as store:
        return [(r.query_id, r.choice.value) for r in store.answers(**where)]


class Lines:
    """A running `hfrl` process whose stdout lines can be waited for."""

    def __init__(self, args: list[str], tmp_path: Path) -> None:
        self.process = subprocess.Popen(
            [str(HFRL), *args],
            cwd=tmp_path,
            env=ui_env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout_s: float = 60) -> None:
        while text not in self.seen:
            try:
                self.seen.append(self.lines.get(timeout=timeout_s))
            except queue.Empty:
                self.process.kill()
                raise AssertionError(f"{text!r} never printed; got {self.seen}") from None


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[[list[str]], Lines]]:
    """Start `hfrl` processes that are killed at the end of the test if still running."""
    started: list[Lines] = []

    def start(args: list[str]) -> Lines:
        started.append(Lines(args, tmp_path))
        return started[-1]

    yield start
    for lines in started:
        if lines.process.poll() is None:
            lines.process.kill()
        lines.process.wait(timeout=30)


def test_scripted_keys_answer_every_query(tmp_path: Path) -> None:
    make_query_store(tmp_path / "labels.sqlite", 4)
    result = _label(tmp_path, answer_steps(["left", "right", "down", "space"]), "--exit-when-done")
    assert result.returncode == 0, result.stderr
    assert _choices(tmp_path / "labels.sqlite") == [
        (1, "left"),
        (2, "right"),
        (3, "equal"),
        (4, "skip"),
    ]
    assert "ana: 4 answers saved" in result.stdout
    assert "0 queries pending" in result.stdout


def test_sigkill_while_labelling_loses_no_answer(
    tmp_path: Path, spawn: Callable[[list[str]], Lines]
) -> None:
    path = tmp_path / "labels.sqlite"
    make_query_store(path, 8)
    steps = []
    for number, name in enumerate(["left", "right"] * 4, start=1):
        steps += [{"until": "ready"}, {"frames": 15, "key": name}, {"print": f"answered {number}"}]
    script = write_script(tmp_path / "script.jsonl", [*steps, {"frames": 100000, "quit": True}])
    running = spawn(["label", "labels.sqlite", "--annotator", "ana", "--script", str(script)])
    running.wait_for("answered 3")
    running.process.send_signal(signal.SIGKILL)
    running.process.wait(timeout=30)
    printed = max(int(line.split()[1]) for line in running.seen if line.startswith("answered"))
    with LabelStore(path, create=False) as store:
        assert store.check() == []
        answers = store.answers()
    assert len(answers) >= printed >= 3
    assert [a.query_id for a in answers] == list(range(1, len(answers) + 1))
    assert [a.choice.value for a in answers] == (["left", "right"] * 4)[: len(answers)]
    # reopening continues where it stopped, once the killed window's claims have gone three
    # polls (3 s) unrenewed: until then a new window (maybe the person's second) skips them
    time.sleep(3.5)
    result = _label(tmp_path, [*answer_steps(["down"]), {"frames": 2, "quit": True}])
    assert result.returncode == 0, result.stderr
    assert _choices(path)[-1] == (len(answers) + 1, "equal")


def test_undo_works_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    make_query_store(path, 4)
    first = _label(tmp_path, [*answer_steps(["left", "left", "left"]), {"frames": 2, "quit": True}])
    assert first.returncode == 0, first.stderr
    assert len(_choices(path)) == 3
    second = _label(
        tmp_path,
        [
            {"until": "ready"},
            {"frames": 2, "key": "backspace"},
            *answer_steps(["right"]),
            {"frames": 2, "quit": True},
        ],
    )
    assert second.returncode == 0, second.stderr
    assert _choices(path) == [(1, "left"), (2, "left"), (3, "right")]


def test_review_changes_an_answer_keeping_its_history(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    make_query_store(path, 3)
    steps = [
        *answer_steps(["left", "left"]),
        {"frames": 2, "key": "r"},  # review: the newest answer (query 2) first
        {"frames": 2, "key": "b"},  # back to query 1
        *answer_steps(["right"]),
        {"frames": 2, "quit": True},
    ]
    result = _label(tmp_path, steps)
    assert result.returncode == 0, result.stderr
    with LabelStore(path, create=False) as store:
        history = store.answers(query_id=1)
        assert [r.choice for r in history] == [Choice.LEFT, Choice.RIGHT]
        assert history[0].id < history[1].id
        assert store.latest_answers()[1].choice is Choice.RIGHT
        assert store.counts()["answers"] == 3


def test_queries_posted_after_the_window_opened_are_shown(
    tmp_path: Path, spawn: Callable[[list[str]], Lines]
) -> None:
    path = tmp_path / "labels.sqlite"
    make_query_store(path, 1)
    with LabelStore(path) as store:
        store.add_answer(1, Answer(Choice.SKIP, annotator="bob"))  # nothing pending at start
    steps = [{"frames": 0, "print": "open"}, {"frames": 150, "until": "ready"}, {"key": "left"}]
    script = write_script(tmp_path / "script.jsonl", [*steps, {"frames": 2, "quit": True}])
    running = spawn(["label", "labels.sqlite", "--annotator", "ana", "--script", str(script)])
    running.wait_for("open")
    with LabelStore(path) as store:
        uids = store.clip_uids()
        (posted,) = store.add_queries([(uids[1], uids[0])], round=1)
    assert running.process.wait(timeout=60) == 0
    assert _choices(path, annotator="ana") == [(posted, "left")]


def test_play_records_the_persons_clips(tmp_path: Path) -> None:
    script = write_script(tmp_path / "play.jsonl", [{"frames": 0, "key": "right", "hold": 25}])
    args = ["play", "hfrl/CartPole-v0", "--store", "demos.sqlite", "--clip-steps", "10"]
    result = run_hfrl(
        [*args, "--fps", "120", "--max-frames", "35", "--script", str(script)], tmp_path
    )
    assert result.returncode == 0, result.stderr
    with LabelStore(tmp_path / "demos.sqlite", create=False) as store:
        clips = store.get_clips(store.clip_uids())
    assert len(clips) == 3
    assert {clip.policy for clip in clips} == {"human"}
    assert clips[0].actions.tolist() == [1] * 10
    assert "recorded 3 clips" in result.stdout


def test_user_mistakes_are_one_line_errors(tmp_path: Path) -> None:
    result = run_hfrl(["play", "hfrl/HalfCheetah-v0"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: hfrl/HalfCheetah-v0 is not playable with a keyboard")
    result = run_hfrl(["label", "missing.sqlite", "--annotator", "ana"], tmp_path)
    assert result.returncode == 2
    assert "missing.sqlite does not exist" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

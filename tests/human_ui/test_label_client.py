"""The desktop window as a client of the label server: ``hfrl label http://HOST:PORT --token T``.

A real ``hfrl serve`` in its own process on a loopback port; the real window (dummy video
driver) driven by ``--script`` files, or its state machine on a
:class:`~human_ui.server_source.ServerSource`; answers read back from the store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hfrl_gym.answers import Answer, Choice
from hfrl_gym.errors import ConfigError
from hfrl_gym.store import LabelStore
from human_ui import window_cli
from human_ui.commands import Command
from human_ui.compare_state import CompareState
from human_ui.server_client import ServerClient, ServerRefusedError
from human_ui.server_source import ServerSource
from human_ui.source_errors import AnswerRefusedError
from tests.server_process import ServerProcess
from tests.ui_helpers import answer_steps, make_query_store, run_hfrl, ui_env, write_script

pytestmark = pytest.mark.slow  # server processes: not in `make test-fast`


def _serve(folder: Path, num_queries: int) -> ServerProcess:
    """``hfrl serve`` on a new store (no shared queries: one answer each), started."""
    make_query_store(folder / "labels.sqlite", num_queries)
    with LabelStore(folder / "labels.sqlite") as store:
        store.set_shared_answers(1, 1)
    return ServerProcess(folder / "labels.sqlite", cwd=folder, env=ui_env(folder)).start()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of its own on 6 queries."""
    process = _serve(tmp_path, 6)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def classroom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server on 40 queries for the tests below, each with students of its own names."""
    process = _serve(tmp_path_factory.mktemp("classroom"), 40)
    yield process
    process.stop()


def _answers(folder: Path, annotator: str) -> list[tuple[int, str]]:
    with LabelStore(folder / "labels.sqlite", create=False) as store:
        return [(r.query_id, r.choice.value) for r in store.answers(annotator=annotator)]


def _state(client: ServerClient) -> CompareState:
    source = ServerSource(client)
    state = CompareState(source, source.annotator, poll_s=3600)
    state.update(0.0, frames_ready=True)
    return state


def test_window_answers_undoes_and_shows_progress_through_the_server(
    tmp_path: Path, server: ServerProcess
) -> None:
    token = server.join("Ana").token
    steps = [
        *answer_steps(["left", "right"]),
        {"until": "ready"},
        {"frames": 3, "key": "backspace"},  # undoes query 2: shown again
        *answer_steps(["down", "space", "left", "right", "left"]),
    ]
    script = write_script(tmp_path / "script.jsonl", steps)
    result = run_hfrl(
        ["label", server.url, "--token", token, "--script", str(script), "--exit-when-done"],
        tmp_path,
        timeout_s=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert _answers(tmp_path, "Ana") == [
        (1, "left"),
        (2, "equal"),
        (3, "skip"),
        (4, "left"),
        (5, "right"),
        (6, "left"),
    ]
    assert "Ana: 6 answers saved on http://127.0.0.1:" in result.stdout
    assert "0 queries pending" in result.stdout


def test_joining_from_the_window_prints_the_token_to_continue_with(
    tmp_path: Path, classroom: ServerProcess
) -> None:
    script = write_script(tmp_path / "s.jsonl", [*answer_steps(["left"]), {"quit": True}])
    args = ["label", classroom.url, "--join", classroom.join_code.lower(), "--annotator", "Bo"]
    result = run_hfrl([*args, "--script", str(script)], tmp_path, timeout_s=120)
    assert result.returncode == 0, result.stdout + result.stderr
    token = result.stdout.split("--token ")[1].split()[0]
    assert ServerClient(classroom.url, token).me()["annotator"] == "Bo"
    assert [choice for _, choice in _answers(classroom.cwd, "Bo")] == ["left"]


def test_two_students_never_share_a_query_and_undo_only_their_own(
    classroom: ServerProcess,
) -> None:
    ana, bo = _state(classroom.join("Cy")), _state(classroom.join("Di"))
    assert {ana.current, *ana.queue}.isdisjoint({bo.current, *bo.queue})
    first, bos = ana.current, bo.current
    ana.apply(Command.LEFT)
    bo.apply(Command.RIGHT)
    assert bo.current != bos
    bo.apply(Command.UNDO)  # Bo's own answer goes, Ana's stays; Bo sees the pair again
    assert _answers(classroom.cwd, "Cy") == [(first, "left")]
    assert _answers(classroom.cwd, "Di") == []
    assert bo.message == f"undid 'right is better' on query {bos}"
    assert bo.current == bos
    ana.refresh()  # progress is polled: look again after Bo's undo
    with LabelStore(classroom.cwd / "labels.sqlite", create=False) as store:
        assert ana.progress.answered == store.counts()["answered"]  # the class's progress


def test_an_answer_to_a_query_no_longer_leased_is_refused(classroom: ServerProcess) -> None:
    source = ServerSource(classroom.join("Ed"))
    (query_id,) = source.fetch(1)
    source.add_answer(query_id, Answer(Choice.LEFT, annotator="Ed", seconds=1.0))
    with pytest.raises(AnswerRefusedError, match="not leased"):
        source.add_answer(query_id, Answer(Choice.RIGHT, annotator="Ed", seconds=1.0))
    assert _answers(classroom.cwd, "Ed") == [(query_id, "left")]


def test_review_is_refused_out_loud_and_no_true_reward_reaches_the_window(
    classroom: ServerProcess,
) -> None:
    state = _state(classroom.join("Fa"))
    state.apply(Command.LEFT)
    state.apply(Command.REVIEW)
    assert state.message.startswith("review is not available here")
    assert state.pair is not None
    assert state.pair.left.true_rewards.sum() == 0 == state.pair.right.true_rewards.sum()


def test_a_wrong_token_a_teachers_token_and_store_options_are_clear_errors(
    tmp_path: Path, classroom: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = classroom
    monkeypatch.delenv("HFRL_TOKEN", raising=False)
    cases = [
        (["--token", "nope"], "refused the token"),
        (["--token", server.teacher_token or ""], "the token given is the teacher's"),
        (["--token", "x", "--each"], "--each: not available on a label server"),
        (["--token", "x", "--annotator", "Ana"], "the name you joined with"),
        ([], "give your student token"),
    ]
    for extra, message in cases:
        with pytest.raises(ConfigError, match=message):
            window_cli.main(["label", server.url, *extra])
    with pytest.raises(ConfigError, match="--token and --join are for a label server"):
        window_cli.main(["label", "labels.sqlite", "--token", "x"])
    with pytest.raises(ServerRefusedError) as refused:
        ServerClient(server.url, "nope").me()
    assert refused.value.status == 401
    result = run_hfrl(["label", server.url, "--token", "nope"], tmp_path)  # as a person sees it
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {server.url} refused the token (")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_window_that_closes_gives_its_pairs_back_to_the_class(classroom: ServerProcess) -> None:
    gu = _state(classroom.join("Gu"))
    held = {gu.current, *gu.queue}
    assert held
    gu.release()  # what the window does when it closes
    free = {pair["query_id"] for pair in classroom.join("Ha").lease(5)["pairs"]}
    assert held & free  # at once, not after the 300 s lease

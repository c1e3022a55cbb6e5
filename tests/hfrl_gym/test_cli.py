"""The `hfrl` command: sub-commands of the foundation, and one clear line for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hfrl_gym.store import LabelStore

HFRL = str(Path(sys.executable).with_name("hfrl"))


def hfrl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HFRL, *args], capture_output=True, text=True, timeout=120, check=False)


def assert_one_error_line(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_envs_lists_the_suite() -> None:
    result = hfrl("envs")
    assert result.returncode == 0
    for env_id in ("hfrl/CartPole-v0", "hfrl/Pendulum-v0", "hfrl/HalfCheetah-v0"):
        assert env_id in result.stdout


def test_record_then_gif_re_renders_a_stored_pair(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    result = hfrl("record", "--env", "hfrl/Pendulum-v0", "--store", str(store), "--clips", "4",
                  "--clip-steps", "10", "--queries", "2")  # fmt: skip
    assert result.returncode == 0, result.stderr
    with LabelStore(store, create=False) as opened:
        assert opened.counts()["clips"] == 4
        assert opened.counts()["queries"] == 2
    gif = tmp_path / "pair.gif"
    result = hfrl("gif", str(store), str(gif), "--query", "1", "--width", "80", "--height", "60")
    assert result.returncode == 0, result.stderr
    assert gif.stat().st_size > 1000


def test_bad_input_gets_one_clear_line_and_loses_nothing(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    assert (
        hfrl("record", "--store", str(store), "--clips", "3", "--clip-steps", "5").returncode == 0
    )
    before = store.read_bytes()

    assert_one_error_line(hfrl("store", "info", str(tmp_path / "missing.sqlite")), "missing")
    assert_one_error_line(
        hfrl("record", "--env", "hfrl/Nope-v0", "--store", str(store)), "hfrl/CartPole-v0"
    )
    foreign = tmp_path / "notes.sqlite"
    foreign.write_text("these are my notes, not a label store\n")
    assert_one_error_line(hfrl("store", "info", str(foreign)), "not an hfrl label store")
    assert foreign.read_text() == "these are my notes, not a label store\n"
    assert_one_error_line(hfrl("gif", str(store), str(tmp_path / "x.webm")), ".gif")
    assert store.read_bytes() == before


@pytest.mark.parametrize("command", ["train", "label", "play", "lesson", "report", "video"])
def test_every_sub_command_has_help(command: str) -> None:
    result = hfrl(command, "--help")
    assert result.returncode == 0, result.stderr
    assert f"hfrl {command}" in result.stdout.lower()


def test_an_unexpected_error_is_one_line_with_where_its_traceback_is(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import hfrl_gym.cli
    from human_ui.cli import main

    def broken(args: object) -> int:
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr(hfrl_gym.cli, "_cmd_envs", broken)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    assert main(["envs"]) == 1
    err = capsys.readouterr().err
    (line,) = err.strip().splitlines()
    assert line.startswith("error: unexpected RuntimeError (a bug over two lines)")
    (written,) = tmp_path.glob("hfrl-error-*.txt")
    assert str(written) in line
    text = written.read_text()
    assert "Traceback" in text
    assert "RuntimeError: a bug" in text


def test_a_file_the_system_refuses_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import hfrl_gym.cli
    from human_ui.cli import main

    def full_disk(args: object) -> int:
        raise OSError(28, "No space left on device", str(tmp_path / "big.bin"))

    monkeypatch.setattr(hfrl_gym.cli, "_cmd_envs", full_disk)
    assert main(["envs"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: cannot use ")
    assert "big.bin" in line
    assert "No space left on device" in line

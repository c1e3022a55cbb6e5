"""The classroom lessons: each runs end to end at a tiny budget (--quick) and draws its figures."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from matplotlib.image import imread

from agents.bc import record_demonstrations
from agents.lessons import find_lesson, lessons, main, run_lesson
from hfrl_gym.answers import Choice
from hfrl_gym.errors import ConfigError
from hfrl_gym.store import LabelStore
from human_ui.answerer import WindowAnswerer

pytestmark = pytest.mark.slow  # end-to-end: not in `make test-fast`

HFRL = str(Path(sys.executable).with_name("hfrl"))


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """The lessons set one thread themselves; keep the rest of the session as it was."""
    threads = torch.get_num_threads()
    yield
    assert torch.get_num_threads() == threads
    torch.set_num_threads(threads)


def _assert_figures(paths: list[Path], names: list[str]) -> None:
    assert [path.name for path in paths] == names
    for path in paths:
        image = imread(path)
        assert image.shape[0] >= 300
        assert image.shape[1] >= 500
        assert image[..., :3].std() > 0.02, f"{path} is blank"


def _quick(name: str, tmp_path: Path, *extra: str) -> list[Path]:
    argv = ["--quick", "--out", str(tmp_path / name), *extra]
    return run_lesson(find_lesson(name), argv, window_answerer=WindowAnswerer)


def test_the_list_names_every_lesson(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lesson"]) == 0
    listing = capsys.readouterr().out
    assert [lesson.number for lesson in lessons()] == list(range(1, 11))
    for lesson in lessons():
        assert f"{lesson.number}  {lesson.name}" in listing
        assert lesson.summary in listing
    with pytest.raises(ConfigError, match="no lesson 'nine'"):
        find_lesson("nine")


def test_lesson_1_answered_in_the_window_by_scripted_keys(tmp_path: Path) -> None:
    steps = [{"until": "ready"}, {"frames": 2, "key": "left"}] * 4  # 3 pairs + 1 repeat
    script = tmp_path / "keys.jsonl"
    script.write_text("".join(json.dumps(step) + "\n" for step in steps))
    paths = _quick("preferences", tmp_path, "--annotator", "ana", "--script", str(script))
    _assert_figures(paths, ["preferences.png"])
    with LabelStore(tmp_path / "preferences" / "labels.sqlite", create=False) as store:
        answers = store.latest_answers()
        queries = store.queries()
        assert len(queries) == 4
        assert {a.annotator for a in answers.values()} == {"ana"}
        assert {a.choice for a in answers.values()} == {Choice.LEFT}
        assert (queries[-1].left_uid, queries[-1].right_uid) == (
            queries[0].right_uid,
            queries[0].left_uid,
        )  # the repeated pair, swapped


def test_lessons_1_and_2_chain_a_scripted_teacher_into_a_reward_model(tmp_path: Path) -> None:
    _assert_figures(_quick("1", tmp_path, "--teacher", "oracle"), ["preferences.png"])
    store = tmp_path / "1" / "labels.sqlite"
    with LabelStore(store, create=False) as opened:
        assert opened.counts()["pending"] == 0
    _assert_figures(_quick("2", tmp_path, "--store", str(store)), ["reward_model.png"])
    _assert_figures(_quick("reward-model", tmp_path), ["reward_model.png"])


def test_lesson_3_learned_true_and_constant_reward(tmp_path: Path) -> None:
    _assert_figures(_quick("learned-reward", tmp_path), ["learned_reward.png"])


def test_lesson_4_through_the_real_command(tmp_path: Path) -> None:
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    out = tmp_path / "leak"
    result = subprocess.run(
        [HFRL, "lesson", "4", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "termination leak" in result.stdout
    assert str(out / "termination_leak.png") in result.stdout
    _assert_figures([out / "termination_leak.png"], ["termination_leak.png"])
    unknown = subprocess.run(
        [HFRL, "lesson", "99"], capture_output=True, text=True, timeout=60, check=False, env=env
    )
    assert unknown.returncode == 2
    assert unknown.stderr.count("\n") == 1
    assert unknown.stderr.startswith("error: no lesson '99'")


def test_lesson_5_teachers_and_a_class_store(tmp_path: Path) -> None:
    quality = [
        "agreement.png",
        "consistency.png",
        "left_bias.png",  # no response-times panel: scripted teachers answer at once
        "beta.png",
        "label_quality.png",
    ]
    paths = _quick("noisy-people", tmp_path)
    _assert_figures(paths[:1], ["noisy_people.png"])
    _assert_figures(paths[1:], quality)
    store = tmp_path / "noisy-people" / "labels.sqlite"
    _assert_figures(_quick("5", tmp_path, "--store", str(store), "--goal", "spin"), quality)


def test_lesson_6_reward_hacking(tmp_path: Path) -> None:
    _assert_figures(_quick("reward-hacking", tmp_path), ["reward_hacking.png"])


def test_lesson_7_new_behaviour(tmp_path: Path) -> None:
    _assert_figures(_quick("new-behaviour", tmp_path), ["new_behaviour.png"])


def test_lesson_8_from_played_episodes(tmp_path: Path) -> None:
    played = [
        dataclasses.replace(clip, policy="human")
        for clip in record_demonstrations(
            "hfrl/CartPole-v0", num_clips=6, clip_num_steps=50, seed=0
        )
    ]
    with LabelStore(tmp_path / "played.sqlite") as store:
        store.add_clips(played)
    paths = _quick("8", tmp_path, "--store", str(tmp_path / "played.sqlite"), "--kl-coefs", "0,1")
    _assert_figures(paths, ["pipeline.png"])
    assert (tmp_path / "8" / "bc_policy.pt").is_file()

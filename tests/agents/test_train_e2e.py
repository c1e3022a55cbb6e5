"""End to end: the real `hfrl train` as a subprocess, at a tiny budget."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from matplotlib.image import imread

from agents.summary import SUMMARY_KEYS

pytestmark = pytest.mark.slow  # end-to-end: not in `make test-fast`
HFRL = str(Path(sys.executable).with_name("hfrl"))
TINY = [
    "--env", "hfrl/CartPole-v0", "--steps", "2400", "--rounds", "2", "--initial-steps", "400",
    "--clip-steps", "20", "--eval-episodes", "2", "--seed", "0", "--no-progress",
]  # fmt: skip


def hfrl(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}  # the same answers on a GPU machine
    return subprocess.run(
        [HFRL, *args], capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


@pytest.mark.slow
def test_train_with_a_scripted_teacher_writes_a_complete_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = hfrl("train", *TINY, "--teacher", "oracle", "--labels", "12", "--out", str(out))
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert set(SUMMARY_KEYS) <= set(summary)
    assert summary["labels_used"] == 12
    assert summary["env"] == "hfrl/CartPole-v0"
    assert summary["teacher"] == "oracle"
    assert summary["device"] == "cpu"
    rollout = 8 * 64  # PPO's whole rollouts (n_steps x envs) never overrun the budget
    assert 2400 - rollout < summary["env_steps"] <= 2400
    assert 0.0 <= summary["reward_val_accuracy"] <= 1.0
    for name in ("config.json", "store.sqlite", "policy.pt", "metrics.csv", "episodes.csv"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "reward_model" / "meta.json").exists()
    status = json.loads((out / "status.json").read_text())  # what a window shows, no returns
    assert (status["phase"], status["refits"], status["round"], status["num_rounds"]) == (
        "finished",
        2,
        1,
        2,
    )
    assert (status["labels_answered"], status["labels_budget"]) == (12, 12)
    assert (status["env_steps"], status["env_steps_budget"]) == (summary["env_steps"], 2400)
    assert not [key for key in status if "return" in key or "reward" in key]
    assert any((out / "tensorboard").rglob("events.out.tfevents*"))
    for name in ("true_return", "learned_vs_true", "val_accuracy", "labels_per_round", "report"):
        image = imread(out / "figures" / f"{name}.png")
        assert image.shape[0] > 100
        assert image.shape[1] > 100
        assert image[..., :3].std() > 0.01, f"{name}.png is blank"
    assert (out / "video.mp4").stat().st_size > 1000


@pytest.mark.slow
def test_baseline_uses_no_labels(tmp_path: Path) -> None:
    out = tmp_path / "constant"
    result = hfrl("train", *TINY, "--reward", "constant", "--no-video", "--out", str(out))
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["labels_used"] == 0
    assert summary["reward_val_accuracy"] is None


ANSWERER = """
import sys, time
from hfrl_gym.answers import Answer
from hfrl_gym.store import LabelStore

path, wanted = sys.argv[1], int(sys.argv[2])
deadline = time.time() + 200
answered = 0
while answered < wanted and time.time() < deadline:
    try:
        store = LabelStore(path, create=False)
    except Exception:
        time.sleep(0.2)
        continue
    with store:
        for query in store.pending_queries():
            pair = store.pair(query)
            better = "left" if pair.left.true_return >= pair.right.true_return else "right"
            store.add_answer(query.id, Answer(better, annotator="other-process", seconds=0.1))
            answered += 1
    time.sleep(0.2)
"""


@pytest.mark.slow
def test_store_teacher_waits_for_answers_from_another_process(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    answerer = subprocess.Popen(
        [sys.executable, "-c", ANSWERER, str(out / "store.sqlite"), "10"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        result = hfrl(
            "train", *TINY, "--teacher", "store", "--labels", "10", "--no-video",
            "--wait-timeout", "120", "--out", str(out),
        )  # fmt: skip
    finally:
        answerer.wait(timeout=60)
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["labels_used"] == 10

    from hfrl_gym.store import LabelStore

    with LabelStore(out / "store.sqlite", create=False) as store:
        annotators = {record.annotator for record in store.answers()}
    assert annotators == {"other-process"}


@pytest.mark.slow
def test_resume_after_sigkill_keeps_and_reuses_the_labels(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = [
        "train", "--env", "hfrl/CartPole-v0", "--steps", "6000", "--rounds", "4",
        "--initial-steps", "400", "--clip-steps", "20", "--eval-episodes", "2",
        "--labels", "16", "--seed", "1", "--no-progress", "--no-video", "--out", str(out),
    ]  # fmt: skip
    process = subprocess.Popen([HFRL, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    state = out / "state.json"
    deadline = time.time() + 180
    while time.time() < deadline and process.poll() is None:
        if state.exists() and json.loads(state.read_text())["next_round"] >= 1:
            break
        time.sleep(0.1)
    assert process.poll() is None, "the run finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    from hfrl_gym.store import LabelStore

    with LabelStore(out / "store.sqlite", create=False) as store:
        answers_before = {(a.query_id, a.choice) for a in store.answers()}
    assert answers_before

    result = hfrl("train", "--resume", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["labels_used"] == 16
    with LabelStore(out / "store.sqlite", create=False) as store:
        answers = store.answers()
        assert len(answers) == 16 == store.counts()["queries"]
        assert answers_before <= {(a.query_id, a.choice) for a in answers}
    metrics = (out / "metrics.csv").read_text().splitlines()[1:]
    rounds = [int(float(line.split(",")[0])) for line in metrics]
    assert rounds == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "hfrl/Nope-v0"], "hfrl/CartPole-v0"),
        (["--labels", "-3"], "--labels"),
        (["--teacher", "wizard"], "oracle"),
        (["--out", "/proc/forbidden/run"], "cannot write"),
        (["--device", "cuda"], "CUDA"),
    ],
)
def test_bad_arguments_get_one_clear_line(tmp_path: Path, args: list[str], message: str) -> None:
    if "--out" not in args:
        args = [*args, "--out", str(tmp_path / "run")]
    result = hfrl("train", "--steps", "5000", *args, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    assert message in lines[0]


@pytest.mark.slow
def test_demo_writes_report_and_video_and_says_where(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = hfrl("demo", "--out", str(out), "--steps", "6200", "--labels", "10")
    assert result.returncode == 0, result.stderr
    assert f"report: {out / 'figures' / 'report.png'}" in result.stdout
    assert f"video:  {out / 'rlhf' / 'video.mp4'}" in result.stdout
    assert (out / "figures" / "report.png").stat().st_size > 10_000
    assert (out / "rlhf" / "video.mp4").stat().st_size > 1000
    assert json.loads((out / "constant" / "summary.json").read_text())["labels_used"] == 0
    again = hfrl("demo", "--out", str(out), "--steps", "6200", "--labels", "10")
    assert again.returncode == 0, again.stderr  # a new demo replaces the last one


def test_bad_demo_arguments_get_one_line_and_keep_the_last_demo(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    (out / "rlhf").mkdir(parents=True)
    (out / "rlhf" / "config.json").write_text("{}")  # a previous demo's run
    for args in (["--env", "hfrl/Nope-v0"], ["--labels", "-1"], ["--steps", "0"]):
        result = hfrl("demo", "--out", str(out), *args, timeout=60)
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error:")
        assert (out / "rlhf" / "config.json").read_text() == "{}"

"""End to end: `hfrl train --algo sac` as a subprocess at a tiny budget: kill and resume with
the same replay buffer, baselines, report and video; a discrete env is one clear error."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hfrl_gym.envs import make_env
from hfrl_gym.reward_model import RewardModel

pytestmark = pytest.mark.slow  # real SAC runs

HFRL = str(Path(sys.executable).with_name("hfrl"))
PENDULUM = "hfrl/Pendulum-v0"
TRAIN = [
    "train", "--algo", "sac", "--env", PENDULUM, "--steps", "1200", "--rounds", "3",
    "--clip-steps", "10", "--initial-steps", "200", "--eval-episodes", "1", "--ensemble", "2",
    "--no-progress",
]  # fmt: skip


def _hfrl(*args: str, timeout: float = 300, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HFRL_")}
    env |= {"SDL_VIDEODRIVER": "dummy", "OMP_NUM_THREADS": "1", **extra}
    return subprocess.run(
        [HFRL, *args], capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


def _buffer(run: Path) -> dict[str, np.ndarray]:
    with np.load(run / "replay_buffer.npz", allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def test_a_discrete_env_is_one_clear_error(tmp_path: Path) -> None:
    result = _hfrl(
        "train", "--algo", "sac", "--env", "hfrl/CartPole-v0", "--out", str(tmp_path / "r")
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: --algo sac needs continuous actions")
    assert not (tmp_path / "r").exists()  # refused before anything was written


def test_a_killed_run_resumes_with_the_same_replay_buffer(tmp_path: Path) -> None:
    run = tmp_path / "run"
    killed = _hfrl(
        *TRAIN, "--labels", "8", "--no-video", "--out", str(run), HFRL_KILL_AT="after_fit@1"
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    at_kill = _buffer(run)  # round 0's checkpoint: exploration and round 0's SAC steps
    rows = len(at_kill["rewards"])
    assert rows == json.loads((run / "state.json").read_text())["ppo_steps"] > 0
    shutil.copy(run / "replay_buffer.npz", tmp_path / "at_kill.npz")

    resumed = _hfrl("train", "--resume", str(run), "--no-progress")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    final = _buffer(run)
    assert len(final["rewards"]) > rows
    for name in ("observations", "actions", "next_observations", "dones"):  # kept, then grown
        np.testing.assert_array_equal(final[name][:rows], at_kill[name], err_msg=name)
    # every reward is the final reward model's (relabelled after each refit), none the env's
    env = make_env(PENDULUM)
    model = RewardModel.load(
        run / "reward_model",
        env_id=PENDULUM,
        observation_space=env.observation_space,
        action_space=env.action_space,
        device="cpu",
    )
    actions = final["actions"][:, 0] * 2.0  # stored in [-1, 1]; Pendulum's torque is [-2, 2]
    learned = model.predict_rewards(
        final["observations"][:, 0], actions, final["next_observations"][:, 0]
    )
    np.testing.assert_allclose(final["rewards"][:, 0], learned, atol=1e-5)
    assert not np.allclose(final["rewards"][:rows], at_kill["rewards"], atol=1e-3)  # relabelled
    summary = json.loads((run / "summary.json").read_text())
    assert summary["labels_used"] == 8
    assert summary["env_steps"] <= 1200
    assert json.loads((run / "policy.json").read_text())["algorithm"] == "SAC"


def test_a_crafted_buffer_stops_the_resume_with_one_line(tmp_path: Path) -> None:
    run = tmp_path / "run"
    killed = _hfrl(
        *TRAIN, "--labels", "8", "--no-video", "--out", str(run), HFRL_KILL_AT="after_save@0"
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    (run / "replay_buffer.npz").write_bytes(b"PK\x03\x04 not a zip of arrays")
    resumed = _hfrl("train", "--resume", str(run), "--no-progress")
    assert resumed.returncode == 2
    assert resumed.stderr.strip().splitlines() == [
        line for line in resumed.stderr.strip().splitlines() if line.startswith("error:")
    ]
    assert "is not a replay buffer" in resumed.stderr
    assert (run / "store.sqlite").exists()  # nothing stored is lost


@pytest.mark.parametrize("reward", ["true", "constant", "random"])
def test_baselines_report_and_video(tmp_path: Path, reward: str) -> None:
    run = tmp_path / reward
    video = ["--video"] if reward == "constant" else ["--no-video"]
    short = ["--steps", "600", "--rounds", "2"]  # later flags win
    result = _hfrl(*TRAIN, *short, "--reward", reward, "--labels", "0", *video, "--out", str(run))
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["labels_used"] == 0
    rewards = _buffer(run)["rewards"]
    if reward == "constant":
        assert np.all(rewards == 1.0)
        assert (run / "video.mp4").stat().st_size > 10_000
    elif reward == "true":  # Pendulum's own reward: at most 0, and it varies
        assert np.all(rewards <= 0.0)
        assert rewards.std() > 0.1
    report = _hfrl("report", str(run), "--out", str(tmp_path / "figures"))
    assert report.returncode == 0, report.stderr[-2000:]
    assert any(path.suffix == ".png" for path in (tmp_path / "figures").iterdir())

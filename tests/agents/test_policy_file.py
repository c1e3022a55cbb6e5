"""Policies as tensors plus JSON: round trip, old SB3 zips, and no code run from a run folder."""

from __future__ import annotations

import base64
import json
import os
import pickle
import shlex
import shutil
import zipfile
from pathlib import Path

import pytest
import torch

from agents.policy_file import load_policy, policy_ppo, read_policy, save_policy
from agents.ppo import untrained_ppo
from hfrl_gym.errors import ConfigError
from human_ui.cli import main

LEGACY = Path(__file__).resolve().parent.parent / "data" / "legacy" / "run_v1"
CARTPOLE = "hfrl/CartPole-v0"


class _RunsCommand:
    """Unpickled, it would run ``touch MARKER`` (what a crafted policy file could do)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {shlex.quote(str(self.marker))}",))


def _hostile_sb3_zip(path: Path, marker: Path) -> None:
    """An SB3-shaped zip whose pickled ``data`` entry and ``policy.pth`` both run a command."""
    payload = base64.b64encode(pickle.dumps(_RunsCommand(marker))).decode()
    data = {"policy_class": {":type:": "<class 'abc.ABCMeta'>", ":serialized:": payload}}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data", json.dumps(data))
        archive.writestr("policy.pth", pickle.dumps(_RunsCommand(marker)))
        archive.writestr("_stable_baselines3_version", "2.3.2")


def _hostile_pt(path: Path, marker: Path) -> None:
    """A ``policy.pt`` (with a proper ``policy.json``) whose tensors are a pickled command."""
    save_policy(untrained_ppo(CARTPOLE, seed=0), path, env_id=CARTPOLE)
    torch.save({"policy": _RunsCommand(marker), "optimizer": None}, path)


def _one_error_line(capsys: pytest.CaptureFixture[str], *fragments: str) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0], err
    return lines[0]


def test_a_policy_and_its_optimizer_round_trip(tmp_path: Path) -> None:
    ppo = untrained_ppo(CARTPOLE, seed=1)
    ppo.learn(512)  # the optimizer has state
    save_policy(ppo, tmp_path / "policy.pt", env_id=CARTPOLE)
    meta = json.loads((tmp_path / "policy.json").read_text())
    assert meta["env_id"] == CARTPOLE
    assert meta["observation_space"]["shape"] == [4]
    other = untrained_ppo(CARTPOLE, seed=2)
    load_policy(other, tmp_path / "policy.pt", env_id=CARTPOLE)
    for a, b in zip(ppo.policy.parameters(), other.policy.parameters(), strict=True):
        assert torch.equal(a, b)
    saved, loaded = ppo.policy.optimizer.state_dict(), other.policy.optimizer.state_dict()
    assert torch.equal(saved["state"][0]["exp_avg"], loaded["state"][0]["exp_avg"])
    with pytest.raises(ConfigError, match="not 'hfrl/Pendulum-v0'"):
        policy_ppo("hfrl/Pendulum-v0", tmp_path / "policy.pt")


def test_an_old_run_folders_sb3_zip_is_read_without_its_pickled_data() -> None:
    saved = read_policy(LEGACY / "policy.zip")
    assert saved.meta is None
    assert saved.optimizer is not None
    ppo = policy_ppo(CARTPOLE, LEGACY / "policy.zip")
    assert torch.equal(ppo.policy.action_net.weight, saved.policy["action_net.weight"])


@pytest.mark.parametrize("kind", ["zip", "pt"])
def test_hfrl_video_of_a_crafted_policy_runs_no_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    run, marker = tmp_path / "run", tmp_path / "marker"
    run.mkdir()
    shutil.copy(LEGACY / "config.json", run / "config.json")
    if kind == "zip":
        _hostile_sb3_zip(run / "policy.zip", marker)
    else:
        _hostile_pt(run / "policy.pt", marker)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    assert main(["video", str(run), "--out", str(tmp_path / "v.gif")]) == 2
    _one_error_line(capsys, f"policy.{kind}", "plain tensors")
    assert not marker.exists()
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before
    assert not (tmp_path / "v.gif").exists()


def test_resuming_a_run_with_a_crafted_policy_runs_no_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run, marker = tmp_path / "run", tmp_path / "marker"
    shutil.copytree(LEGACY, run)
    _hostile_sb3_zip(run / "policy.zip", marker)
    assert main(["train", "--resume", str(run), "--no-progress"]) == 2
    _one_error_line(capsys, "policy.zip")
    assert not marker.exists()


def test_a_crafted_reference_policy_runs_no_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "marker"
    _hostile_sb3_zip(tmp_path / "bc.zip", marker)
    argv = ["train", "--steps", "1200", "--rounds", "1", "--labels", "4", "--initial-steps",
            "400", "--clip-steps", "20", "--no-video", "--no-progress", "--kl-coef", "1",
            "--reference", str(tmp_path / "bc.zip"), "--out", str(tmp_path / "run")]  # fmt: skip
    assert main(argv) == 2
    _one_error_line(capsys, "bc.zip")
    assert not marker.exists()


def test_sb3s_own_loader_would_have_run_the_command(tmp_path: Path) -> None:
    """The crafted zip is a real threat: SB3's ``PPO.load`` runs it (why we never call it)."""
    from stable_baselines3 import PPO

    marker = tmp_path / "marker"
    _hostile_sb3_zip(tmp_path / "policy.zip", marker)
    with pytest.raises(pickle.UnpicklingError):  # its policy.pth, after running the data's
        PPO.load(tmp_path / "policy.zip")
    assert marker.exists()

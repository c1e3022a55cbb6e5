"""A reward-model checkpoint's two files are replaced as a pair: a kill never tears them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from hfrl_gym.reward_model.checkpoint import read_checkpoint, write_checkpoint


class Killed(BaseException):
    """Stands for SIGKILL at one file-system step of a save."""


@pytest.mark.parametrize("kill_at", range(6))
def test_a_save_killed_at_any_rename_leaves_the_old_or_the_new_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kill_at: int
) -> None:
    folder = tmp_path / "reward_model"
    write_checkpoint(folder, {"w": torch.zeros(3)}, {"env_id": "old"})
    calls = {"n": 0}
    real = {"rename": os.rename, "replace": os.replace}

    def dying(name: str):
        def step(source, target):
            if calls["n"] == kill_at:
                raise Killed
            calls["n"] += 1
            return real[name](source, target)

        return step

    monkeypatch.setattr(os, "rename", dying("rename"))
    monkeypatch.setattr(os, "replace", dying("replace"))
    try:
        write_checkpoint(folder, {"w": torch.ones(3)}, {"env_id": "new"})
        finished = True
    except Killed:
        finished = False
    monkeypatch.undo()
    state, meta = read_checkpoint(folder)  # never a torn pair
    assert meta["env_id"] in ("old", "new")
    assert torch.equal(state["w"], torch.ones(3) if meta["env_id"] == "new" else torch.zeros(3))
    if finished:
        assert meta["env_id"] == "new"
    write_checkpoint(folder, {"w": torch.full((3,), 2.0)}, {"env_id": "next"})
    assert read_checkpoint(folder)[1]["env_id"] == "next"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reward_model"]

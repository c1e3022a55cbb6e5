"""The teaching overlay's numbers: the reward model's rewards, P(left better), agreement."""

from __future__ import annotations

import os
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from hfrl_gym.answers import Choice
from hfrl_gym.clips import ClipPair
from hfrl_gym.errors import ConfigError
from hfrl_gym.reward_model import RewardModel
from human_ui.teaching import TeachingModel, agreement, find_reward_model
from tests.ui_helpers import synthetic_clip


def _model(seed: int) -> RewardModel:
    return RewardModel(
        gym.spaces.Box(-np.inf, np.inf, (4,), np.float32),
        gym.spaces.Discrete(2),
        env_id="hfrl/CartPole-v0",
        num_members=3,
        hidden_sizes=(16,),
        device="cpu",
        seed=seed,
    )


@pytest.fixture
def pair() -> ClipPair:
    rng = np.random.default_rng(0)
    return ClipPair(synthetic_clip(rng, 6), synthetic_clip(rng, 6), 1)


def test_explains_a_pair_with_the_models_own_numbers(tmp_path: Path, pair: ClipPair) -> None:
    model = _model(0)
    model.save(tmp_path / "reward_model")
    info = TeachingModel(tmp_path / "reward_model").explain(pair)
    assert info is not None
    left = pair.left
    expected = model.predict_rewards(left.observations[:-1], left.actions, left.observations[1:])
    np.testing.assert_allclose(info.left_rewards, expected, rtol=1e-6)
    members = model.member_preference_probs([pair])[:, 0]
    np.testing.assert_allclose(info.p_left_members, members, rtol=1e-6)
    assert info.p_left == pytest.approx(members.mean())
    assert info.right_rewards.shape == (6,)


def test_a_new_checkpoint_is_picked_up(tmp_path: Path, pair: ClipPair) -> None:
    folder = tmp_path / "reward_model"
    _model(0).save(folder)
    teaching = TeachingModel(folder)
    first = teaching.explain(pair)
    _model(1).save(folder)
    stat = (folder / "meta.json").stat()
    os.utime(folder / "meta.json", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    second = teaching.explain(pair)
    assert not np.allclose(first.left_rewards, second.left_rewards)


def test_no_model_or_another_env_gives_a_note(tmp_path: Path, pair: ClipPair) -> None:
    empty = TeachingModel(None)
    assert empty.explain(pair) is None
    assert "no reward model" in empty.note
    other = RewardModel(
        gym.spaces.Box(-8, 8, (3,), np.float32),
        gym.spaces.Box(-2, 2, (1,), np.float32),
        env_id="hfrl/Pendulum-v0",
        hidden_sizes=(8,),
        device="cpu",
        seed=0,
    )
    other.save(tmp_path / "pendulum")
    teaching = TeachingModel(tmp_path / "pendulum")
    assert teaching.explain(pair) is None
    assert "hfrl/Pendulum-v0" in teaching.note


@pytest.mark.parametrize(
    ("p_left", "choice", "verdict"),
    [
        (0.9, Choice.LEFT, "agreed"),
        (0.9, Choice.RIGHT, "disagreed"),
        (0.1, Choice.RIGHT, "agreed"),
        (0.52, Choice.EQUAL, "agreed"),
        (0.9, Choice.EQUAL, "disagreed"),
        (0.52, Choice.LEFT, "disagreed"),
    ],
)
def test_agreement(p_left: float, choice: Choice, verdict: str) -> None:
    assert f"the model {verdict} " in agreement(p_left, choice)


def test_skip_is_neither_agreement_nor_disagreement() -> None:
    assert "agreed" not in agreement(0.9, Choice.SKIP)


def test_find_reward_model(tmp_path: Path) -> None:
    store = tmp_path / "run" / "store.sqlite"
    assert find_reward_model(store) is None  # a store in no run folder, no model beside it
    store.parent.mkdir()
    (store.parent / "config.json").write_text("{}")
    assert find_reward_model(store) == tmp_path / "run" / "reward_model"  # before the 1st fit
    _model(0).save(tmp_path / "run" / "reward_model")
    assert find_reward_model(store) == tmp_path / "run" / "reward_model"
    assert find_reward_model(store, tmp_path / "run" / "reward_model").name == "reward_model"
    with pytest.raises(ConfigError, match="no reward-model checkpoint"):
        find_reward_model(store, tmp_path / "elsewhere")


def test_a_model_written_after_the_window_opened_is_picked_up(
    tmp_path: Path, pair: ClipPair
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    teaching = TeachingModel(find_reward_model(run / "store.sqlite"))
    assert teaching.explain(pair) is None
    assert "training writes" in teaching.note
    model = _model(0)
    model.save(run / "reward_model")  # the first fit
    first = teaching.explain(pair)
    assert first is not None
    assert teaching.loads == 1
    model.save(run / "reward_model")  # rewritten, same weights: not loaded again
    teaching.explain(pair)
    assert teaching.loads == 1
    model.num_fits = 5
    _model(1).save(run / "reward_model")  # a refit
    second = teaching.explain(pair)
    assert teaching.loads == 2
    assert not np.allclose(first.left_rewards, second.left_rewards)


def test_the_window_never_repairs_the_runs_model_folder(
    tmp_path: Path, pair: ClipPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finishing a save that looks interrupted is the trainer's job: from the window it could
    race the training process's own renames, so the window reads a private copy."""
    import hfrl_gym.reward_model.checkpoint as checkpoint

    repaired: list[Path] = []
    original = checkpoint.finish_interrupted_save

    def spy(directory: Path) -> None:
        repaired.append(Path(directory))
        original(directory)

    monkeypatch.setattr(checkpoint, "finish_interrupted_save", spy)
    _model(0).save(tmp_path / "reward_model")
    repaired.clear()
    teaching = TeachingModel(tmp_path / "reward_model")
    assert teaching.explain(pair) is not None
    assert repaired  # the checkpoint was read...
    assert all(tmp_path not in path.parents for path in repaired)  # ...never in the run folder
    (tmp_path / "reward_model").rename(tmp_path / ".reward_model.old")  # a save in progress
    assert teaching.explain(pair) is not None  # the model it has, until the save is done
    assert [p.name for p in tmp_path.iterdir()] == [".reward_model.old"]

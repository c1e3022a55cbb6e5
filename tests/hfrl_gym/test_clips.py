"""Clip and Answer: validation on construction and (de)serialisation."""

from __future__ import annotations

import numpy as np
import pytest

from hfrl_gym.answers import Answer, Choice
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.errors import ClipShapeError
from tests.conftest import make_clip


def test_clip_round_trips_through_parts(rng: np.random.Generator) -> None:
    clip = make_clip(rng, num_steps=7)
    again = Clip.from_parts(clip.provenance(), clip.arrays())
    assert again.uid == clip.uid
    assert again.num_steps == 7
    for name, array in clip.arrays().items():
        np.testing.assert_array_equal(getattr(again, name), array)


@pytest.mark.parametrize(
    ("field", "bad", "message"),
    [
        ("observations", np.zeros((5, 4)), "T\\+1=8"),
        ("actions", np.zeros(6), "T=7"),
        ("states", np.zeros((7, 4)), "states must have shape"),
        ("true_rewards", np.array([np.nan] * 7), "NaN"),
    ],
)
def test_inconsistent_shapes_are_refused(
    rng: np.random.Generator, field: str, bad: np.ndarray, message: str
) -> None:
    parts = make_clip(rng, num_steps=7).arrays()
    parts[field] = bad
    with pytest.raises(ClipShapeError, match=message):
        Clip(env_id="hfrl/CartPole-v0", **parts)


def test_clip_needs_states_or_frames(rng: np.random.Generator) -> None:
    parts = make_clip(rng, num_steps=3).arrays()
    del parts["states"]
    with pytest.raises(ClipShapeError, match=r"states .* or frames"):
        Clip(env_id="hfrl/CartPole-v0", **parts)
    frames = np.zeros((4, 8, 8, 3), np.uint8)
    assert Clip(env_id="hfrl/CartPole-v0", frames=frames, **parts).frames.shape == (4, 8, 8, 3)
    with pytest.raises(ClipShapeError, match="uint8"):
        Clip(env_id="hfrl/CartPole-v0", frames=frames.astype(np.float32), **parts)


def test_clip_is_frozen(rng: np.random.Generator) -> None:
    clip = make_clip(rng)
    with pytest.raises(AttributeError):
        clip.env_id = "other"  # type: ignore[misc]


def test_pair_refuses_two_envs(rng: np.random.Generator) -> None:
    with pytest.raises(ClipShapeError, match="one env"):
        ClipPair(make_clip(rng), make_clip(rng, env_id="hfrl/Acrobot-v0", obs_dim=6))


def test_answer_targets() -> None:
    assert [Answer(c).target for c in Choice] == [1.0, 0.0, 0.5, None]
    with pytest.raises(ValueError, match="maybe"):
        Answer("maybe")  # type: ignore[arg-type]

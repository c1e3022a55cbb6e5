"""Tests for hfrl_gym.render: clip frames from snapshots, side by side, GIF/MP4 export."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image, ImageSequence

from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.envs import get_state, make_env
from hfrl_gym.errors import ClipShapeError, ConfigError, UnknownEnvError
from hfrl_gym.render import ClipRenderer, export_clip, render_clip, side_by_side, write_video


def _record(
    env_id: str, num_steps: int, seed: int, width: int | None = None, height: int | None = None
) -> tuple[Clip, np.ndarray]:
    """A clip with snapshots and the frames rendered live while it was recorded."""
    env = make_env(env_id, render_mode="rgb_array", width=width, height=height)
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    observations, actions, rewards = [obs], [], []
    states, frames = [get_state(env)], [env.render()]
    for _ in range(num_steps):
        action = env.action_space.sample()
        obs, reward, _, _, _ = env.step(action)
        observations.append(obs)
        actions.append(action)
        rewards.append(reward)
        states.append(get_state(env))
        frames.append(env.render())
    env.close()
    clip = Clip(
        env_id=env_id,
        observations=np.asarray(observations),
        actions=np.asarray(actions),
        true_rewards=np.asarray(rewards),
        states=np.asarray(states),
        seed=seed,
    )
    return clip, np.asarray(frames)


@pytest.fixture(scope="module")
def cartpole() -> tuple[Clip, np.ndarray]:
    return _record("hfrl/CartPole-v0", 12, seed=0)


def test_classic_clip_renders_its_live_frames_and_resizes(
    cartpole: tuple[Clip, np.ndarray],
) -> None:
    clip, live = cartpole
    with ClipRenderer() as renderer:
        frames = renderer.render_frames(clip)
        assert frames.shape == (13, 400, 600, 3)
        assert frames.dtype == np.uint8
        assert np.array_equal(frames, live)
        small = renderer.render_frames(clip, width=150)
        assert small.shape == (13, 100, 150, 3)
        squeezed = renderer.render_frames(clip, width=60, height=80)
        assert squeezed.shape == (13, 80, 60, 3)
        # Resizing keeps the picture: the downscaled frame is close to a box-filtered original.
        coarse = live[0].reshape(100, 4, 150, 4, 3).mean(axis=(1, 3))
        assert np.abs(small[0].astype(float) - coarse).mean() < 12.0


def test_mujoco_clip_renders_natively_at_the_size_asked() -> None:
    clip, live = _record("hfrl/HalfCheetah-v0", 6, seed=1, width=64, height=48)
    with ClipRenderer() as renderer:
        frames = renderer.render_frames(clip, width=64, height=48)
        assert np.array_equal(frames, live)
        assert renderer.render_frames(clip, width=40).shape == (7, 40, 40, 3)
        one = renderer.render_state(clip.env_id, clip.states[3], width=64, height=48)
        assert np.array_equal(one, live[3])


def test_mujoco_without_multisampling_is_the_same_picture_at_the_size_asked() -> None:
    clip, live = _record("hfrl/HalfCheetah-v0", 3, seed=1, width=96, height=64)
    with ClipRenderer(multisample=False) as renderer:
        frames = renderer.render_frames(clip, width=96, height=64)
    assert frames.shape == live.shape
    assert not np.array_equal(frames, live)  # edges are not smoothed ...
    difference = np.abs(frames.astype(np.int16) - live.astype(np.int16))
    assert difference.mean() < 2.0  # ... and nothing else changes
    assert np.mean(difference.max(axis=3) > 64) < 0.02


def test_clip_with_frames_is_only_resized() -> None:
    rng = np.random.default_rng(0)
    stored = rng.integers(0, 256, size=(4, 30, 40, 3), dtype=np.uint8)
    clip = Clip(
        env_id="hfrl/CartPole-v0",
        observations=np.zeros((4, 4), np.float32),
        actions=np.zeros(3, np.int64),
        true_rewards=np.ones(3),
        frames=stored,
    )
    assert np.array_equal(render_clip(clip), stored)
    assert render_clip(clip, width=20).shape == (4, 15, 20, 3)


def test_renderer_keeps_one_env_per_id_and_closes_them(
    cartpole: tuple[Clip, np.ndarray],
) -> None:
    clip, live = cartpole
    renderer = ClipRenderer()
    renderer.render_frames(clip)
    first = dict(renderer._envs)
    renderer.render_frames(clip, width=100)
    assert renderer._envs == first  # classic control: one env, frames resized
    renderer.close()
    assert renderer._envs == {}
    assert np.array_equal(renderer.render_state(clip.env_id, clip.states[5]), live[5])
    renderer.close()


def test_bad_states_and_sizes_are_refused(cartpole: tuple[Clip, np.ndarray]) -> None:
    clip, _ = cartpole
    with ClipRenderer() as renderer:
        with pytest.raises(ClipShapeError, match=r"shape \(4,\)"):
            renderer.render_state("hfrl/CartPole-v0", np.zeros(3))
        with pytest.raises(UnknownEnvError):
            renderer.render_state("CartPole-v1", np.zeros(4))
        with pytest.raises(ConfigError, match="width"):
            renderer.render_frames(clip, width=0)


def test_side_by_side_holds_the_shorter_clip_on_its_last_frame() -> None:
    left = np.full((3, 4, 5, 3), 10, np.uint8)
    left[2] = 20
    right = np.full((5, 6, 7, 3), 30, np.uint8)
    both = side_by_side(left, right, gap_px=2)
    assert both.shape == (5, 6, 14, 3)
    assert np.all(both[:, :4, :5] == np.array([10, 10, 20, 20, 20])[:, None, None, None])
    assert np.all(both[:, 4:, :5] == 255)  # shorter frame padded below
    assert np.all(both[:, :, 5:7] == 255)  # the gap
    assert np.array_equal(both[:, :, 7:], right)
    with pytest.raises(ConfigError, match="uint8"):
        side_by_side(left.astype(np.float32), right)


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_write_video_reads_back_with_the_frame_count_and_shape(tmp_path: Path, suffix: str) -> None:
    rng = np.random.default_rng(1)
    frames = np.repeat(rng.integers(0, 256, size=(6, 1, 1, 3), dtype=np.uint8), 32, axis=1)
    frames = np.repeat(frames, 48, axis=2)  # 6 flat-coloured 32x48 frames
    path = write_video(tmp_path / "sub" / f"clip{suffix}", frames, fps=10)
    assert path.exists()
    back = iio.imread(path, index=None)
    assert back.shape[0] == 6
    assert back.shape[1:3] == (32, 48)
    assert back.shape[-1] in (3, 4)
    tolerance = 2 if suffix == ".gif" else 12  # lossy H.264 on flat colours
    assert np.abs(back[..., :3].astype(int) - frames.astype(int)).mean() < tolerance


def test_mp4_of_odd_size_is_padded_to_even(tmp_path: Path) -> None:
    frames = np.zeros((3, 31, 45, 3), np.uint8)
    back = iio.imread(write_video(tmp_path / "odd.mp4", frames), index=None)
    assert back.shape[:3] == (3, 32, 46)


def test_write_video_refuses_other_suffixes_and_writes_nothing(tmp_path: Path) -> None:
    frames = np.zeros((2, 8, 8, 3), np.uint8)
    with pytest.raises(ConfigError, match=r"\.gif or \.mp4"):
        write_video(tmp_path / "clip.avi", frames)
    with pytest.raises(ConfigError, match="fps"):
        write_video(tmp_path / "clip.gif", frames, fps=0)
    assert list(tmp_path.iterdir()) == []


def test_gif_merges_repeated_frames_but_keeps_the_playing_time(tmp_path: Path) -> None:
    frames = np.zeros((5, 8, 8, 3), np.uint8)
    frames[3], frames[4] = 200, 100  # frames 0-2 are identical: Pillow writes them as one
    path = write_video(tmp_path / "still.gif", frames, fps=10)
    with Image.open(path) as image:
        durations = [frame.info["duration"] for frame in ImageSequence.Iterator(image)]
    assert durations == [300, 100, 100]


def test_export_pair_side_by_side(tmp_path: Path, cartpole: tuple[Clip, np.ndarray]) -> None:
    clip, _ = cartpole
    other, _ = _record("hfrl/CartPole-v0", 8, seed=2)
    path = export_clip(tmp_path / "pair.mp4", ClipPair(clip, other), width=90, height=60, fps=5)
    back = iio.imread(path, index=None)
    assert back.shape[:3] == (13, 60, 90 + 8 + 90)
    single = iio.imread(export_clip(tmp_path / "one.mp4", other, width=90), index=None)
    assert single.shape[:3] == (9, 60, 90)
    gif = iio.imread(export_clip(tmp_path / "one.gif", other, width=90), index=None)
    assert gif.shape[1:3] == (60, 90)


def test_render_module_does_not_import_pygame_itself() -> None:
    code = "import sys, hfrl_gym.render; print('pygame' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"

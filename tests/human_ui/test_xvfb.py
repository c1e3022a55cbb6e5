"""Real windows on an X server (Xvfb): screenshots of the compare and play windows.

The screenshots are taken from outside the process (ffmpeg's x11grab, the binary that
imageio-ffmpeg ships) and checked for content. They are kept in ``tmp_path`` and, when
``HFRL_ARTIFACTS_DIR`` is set, copied there as test artefacts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pygame
import pytest
from PIL import Image

from hfrl_gym.recording import record_clips
from hfrl_gym.store import LabelStore
from human_ui.compare_layout import compare_layout, task_card_rect
from human_ui.play import play_layout
from human_ui.widgets import Theme
from tests.ui_helpers import HFRL, ui_env, write_script

pytestmark = pytest.mark.slow  # end-to-end: not in `make test-fast`

SIZE = (1280, 800)


def _free_display() -> int:
    for number in range(90, 400):
        taken = Path(f"/tmp/.X{number}-lock").exists() or Path(f"/tmp/.X11-unix/X{number}").exists()
        if not taken:
            return number
    raise AssertionError("no free X display number between :90 and :399")


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    xvfb = shutil.which("Xvfb") or "/usr/bin/Xvfb"
    if not Path(xvfb).exists():
        pytest.fail(
            "Xvfb is missing: install it with `apt-get install xvfb` to run the window tests"
        )
    for _ in range(5):
        number = _free_display()
        screen = f"{SIZE[0]}x{SIZE[1]}x24"
        server = subprocess.Popen(
            [xvfb, f":{number}", "-screen", "0", screen, "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        socket = Path(f"/tmp/.X11-unix/X{number}")
        deadline = time.monotonic() + 10
        while server.poll() is None and not socket.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if server.poll() is None and socket.exists():
            break
        server.kill()
        server.wait()
    else:
        raise AssertionError("Xvfb did not start on any display tried")
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


def _screenshot(display: str, path: Path) -> np.ndarray:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    command += ["-f", "x11grab", "-draw_mouse", "0", "-video_size", f"{SIZE[0]}x{SIZE[1]}"]
    command += ["-i", display, "-frames:v", "1", str(path)]
    subprocess.run(command, check=True, timeout=30)
    artefacts = os.environ.get("HFRL_ARTIFACTS_DIR")
    if artefacts:
        Path(artefacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(artefacts) / path.name)
    return np.asarray(Image.open(path).convert("RGB"))


def _show_and_grab(
    display: str, tmp_path: Path, args: list[str], name: str, *, keys: tuple[str, ...] = ()
) -> np.ndarray:
    """Run `hfrl ARGS` in a window on ``display``; screenshot it once the script says so
    (``keys`` pressed once it is ready, then a few seconds to settle)."""
    pressed = [{"key": key} for key in keys]
    settle = 240 if keys else 20
    steps = [{"until": "ready"}, *pressed, {"frames": settle, "print": "ready"}]
    script = write_script(tmp_path / f"{name}.jsonl", [*steps, {"frames": 3000, "quit": True}])
    env = ui_env(tmp_path, SDL_VIDEODRIVER="x11", DISPLAY=display, SDL_VIDEO_WINDOW_POS="0,0")
    command = [str(HFRL), *args, "--size", f"{SIZE[0]}x{SIZE[1]}", "--script", str(script)]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until the window is ready (or the process ends)
        assert line.strip() == "ready", process.stderr.read() if process.stderr else line
        return _screenshot(display, tmp_path / f"{name}.png")
    finally:
        process.terminate()
        process.wait(timeout=30)


def _crop(image: np.ndarray, rect: pygame.Rect) -> np.ndarray:
    return image[rect.top : rect.bottom, rect.left : rect.right].astype(np.int64)


def _assert_picture(crop: np.ndarray) -> None:
    assert crop.std() > 10, "a flat area, not a picture"
    differs = np.abs(crop - np.array(Theme.PANEL)).sum(axis=2) > 30
    assert differs.mean() > 0.3, "mostly the empty panel colour"


def _pair_store(path: Path, env_id: str, num_steps: int) -> None:
    def steady(obs: np.ndarray, rng: np.random.Generator) -> int:
        return int(obs[2] + 0.5 * obs[3] > 0)  # lean-following: the pole stays up

    good = record_clips(env_id, num_clips=1, clip_num_steps=num_steps, seed=1, policy=steady
                        if env_id == "hfrl/CartPole-v0" else None)  # fmt: skip
    bad = record_clips(env_id, num_clips=1, clip_num_steps=num_steps, seed=2)
    with LabelStore(path) as store:
        store.add_queries([tuple(store.add_clips([good[0], bad[0]]))])


@pytest.mark.parametrize(
    ("env_id", "num_steps"), [("hfrl/CartPole-v0", 40), ("hfrl/HalfCheetah-v0", 8)]
)
def test_compare_window_shows_two_different_clips(
    display: str, tmp_path: Path, env_id: str, num_steps: int
) -> None:
    _pair_store(tmp_path / "labels.sqlite", env_id, num_steps)
    name = f"compare-{env_id.split('/')[1].split('-')[0].lower()}"
    image = _show_and_grab(
        display, tmp_path, ["label", "labels.sqlite", "--annotator", "ana"], name
    )
    assert image.shape == (SIZE[1], SIZE[0], 3)
    pygame.font.init()
    layout = compare_layout(SIZE, teaching=False)
    left, right = _crop(image, layout.left_box), _crop(image, layout.right_box)
    _assert_picture(left)
    _assert_picture(right)
    assert np.abs(left - right).mean() > 1.0, "the two clips look the same"
    header = _crop(image, layout.header)
    assert (np.abs(header - np.array(Theme.BACKGROUND)).sum(axis=2) > 100).mean() > 0.01  # text


def test_the_task_card_shows_its_words_and_a_good_and_a_bad_clip(
    display: str, tmp_path: Path
) -> None:
    _pair_store(tmp_path / "labels.sqlite", "hfrl/CartPole-v0", 40)  # a steady and a random clip
    args = ["label", "labels.sqlite", "--annotator", "ana"]
    image = _show_and_grab(display, tmp_path, args, "task-card-cartpole", keys=("h",))
    pygame.font.init()
    layout = compare_layout(SIZE, teaching=False)
    card = _crop(image, task_card_rect(layout))
    for colour in (Theme.TEXT, Theme.GOOD, Theme.BAD):  # title, "Good: …", "Bad: …"
        assert (np.abs(card - np.array(colour)).sum(axis=2) < 40).sum() > 50, colour
    white = (card >= 245).all(axis=2)  # CartPole's white sky: only the example clips have it
    assert white.mean() > 0.03, "no example clip on the card"
    columns = np.flatnonzero(white.any(axis=0))
    assert columns.min() < card.shape[1] // 2 < columns.max(), "not two examples side by side"


def test_play_window_shows_the_env(display: str, tmp_path: Path) -> None:
    args = ["play", "hfrl/CartPole-v0", "--store", "demos.sqlite"]
    image = _show_and_grab(display, tmp_path, args, "play-cartpole")
    pygame.font.init()
    _, header, view, footer = play_layout(SIZE)
    picture = _crop(image, view)
    assert picture.std() > 10
    assert (np.abs(picture - np.array(Theme.BACKGROUND)).sum(axis=2) > 30).mean() > 0.3
    for rect in (header, footer):
        text = _crop(image, rect)
        assert (np.abs(text - np.array(Theme.BACKGROUND)).sum(axis=2) > 100).mean() > 0.01

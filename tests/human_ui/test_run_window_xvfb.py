"""The run's status line on a real window (Xvfb), screenshotted from outside the process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame
import pytest

from hfrl_gym.run_status import Phase, StatusWriter
from human_ui.compare_layout import compare_layout
from human_ui.widgets import Theme
from tests.human_ui.test_xvfb import SIZE, _crop, _pair_store, _show_and_grab, display

pytestmark = pytest.mark.slow  # end-to-end: not in `make test-fast`
__all__ = ["display"]  # the X server fixture, shared with test_xvfb.py


def _colour_pixels(image: np.ndarray, colour: tuple[int, int, int]) -> int:
    return int((np.abs(image - np.array(colour)).sum(axis=2) < 40).sum())


@pytest.mark.parametrize(
    ("phase", "colour"), [(Phase.FINISHED, Theme.GOOD), (Phase.STOPPED, Theme.BAD)]
)
def test_a_window_on_a_run_folder_shows_the_runs_status(
    display: str, tmp_path: Path, phase: Phase, colour: tuple[int, int, int]
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    _pair_store(run / "store.sqlite", "hfrl/CartPole-v0", 40)
    writer = StatusWriter(
        run, env_id="hfrl/CartPole-v0", labels_budget=6, env_steps_budget=3000, num_rounds=2
    )
    writer.update(phase, round_index=1, refits=2, env_steps=3000, message="closed early")
    image = _show_and_grab(display, tmp_path, ["label", "run", "--annotator", "ana"], phase.value)
    pygame.font.init()
    row = compare_layout(SIZE, teaching=False).status
    quarter = row.width // 4  # the run line takes 3/5 of the row at most, at the right
    right = _crop(image, pygame.Rect(row.right - quarter, row.top, quarter, row.height))
    left = _crop(image, pygame.Rect(row.left, row.top, quarter, row.height))
    assert _colour_pixels(right, colour) > 40, "no run line in the run's colour"
    assert _colour_pixels(left, colour) == 0  # the feedback line stays on the left, muted

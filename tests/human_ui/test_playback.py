"""Playback: looping with a hold on the last frame, pause, step, seek, speeds."""

from __future__ import annotations

import pytest

from hfrl_gym.errors import ConfigError
from human_ui.playback import SPEEDS, Playback


def test_plays_at_clip_fps_times_speed_and_loops_after_the_hold() -> None:
    playback = Playback(num_frames=10, clip_fps=10.0, hold_s=0.5)
    playback.advance(0.95)
    assert playback.frame == 9
    playback.advance(0.3)  # inside the hold: the last frame stays
    assert playback.frame == 9
    playback.advance(0.3)  # 1.55 s > 1.5 s loop: back near the start
    assert playback.frame == 0
    playback.faster()
    playback.advance(0.2)
    assert playback.frame == 4


def test_speeds_are_bounded() -> None:
    playback = Playback()
    for _ in range(10):
        playback.faster()
    assert playback.speed == max(SPEEDS) == 4.0
    for _ in range(10):
        playback.slower()
    assert playback.speed == min(SPEEDS) == 0.25


def test_pause_step_and_seek() -> None:
    playback = Playback(num_frames=5, clip_fps=10.0)
    playback.toggle_pause()
    playback.advance(10.0)
    assert playback.frame == 0
    playback.step(-1)
    assert playback.frame == 4
    assert playback.paused
    playback.step(2)
    assert playback.frame == 1
    playback.seek(0.5)
    assert playback.frame == 2
    assert playback.fraction == 0.5
    playback.seek(7.0)
    assert playback.frame == 4
    assert playback.fraction == 1.0
    playback.restart()
    assert playback.frame == 0


def test_a_huge_time_step_lands_inside_the_clip() -> None:
    playback = Playback(num_frames=3, clip_fps=30.0)
    for dt in (0.01, 1.0, 17.3, 1e6):
        playback.advance(dt)
        assert 0 <= playback.frame < 3


def test_reset_keeps_speed_and_pause() -> None:
    playback = Playback(num_frames=4)
    playback.faster()
    playback.toggle_pause()
    playback.reset(7)
    state = (playback.num_frames, playback.frame, playback.speed, playback.paused)
    assert state == (7, 0, 2.0, True)


@pytest.mark.parametrize("kwargs", [{"num_frames": 0}, {"clip_fps": 0.0}, {"hold_s": -1.0}])
def test_bad_settings_are_refused(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        Playback(**kwargs)

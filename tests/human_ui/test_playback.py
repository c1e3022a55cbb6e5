"""Playback: looping with a hold on the last frame, pause, step, seek, speeds."""

from __future__ import annotations

import pytest

from hfrl_gym.errors import ConfigError
from human_ui.playback import SPEEDS, Playback, can_start


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


@pytest.mark.parametrize(
    ("render_fps", "clip_fps", "num_frames"),
    [(60.0, 30.0, 51), (20.0, 30.0, 51), (6.0, 30.0, 51), (100.0, 30.0, 2), (2.0, 120.0, 300)],
)
def test_playback_started_by_can_start_never_waits_for_a_renderer_of_known_rate(
    render_fps: float, clip_fps: float, num_frames: int
) -> None:
    """A fake clock: frame k is rendered at (k + 1) / render_fps; playback starts at the first
    moment can_start allows, before the last frame is rendered, and never stalls."""
    dt_s = 1 / 240

    def rendered_at(t_s: float) -> int:
        return min(num_frames, int(t_s * render_fps + 1e-9))

    t_s = 0.0
    while not can_start(num_frames, rendered_at(t_s), render_fps, clip_fps):
        t_s += dt_s
    assert rendered_at(t_s) < num_frames  # it starts while the rest renders
    playback = Playback(num_frames, clip_fps=clip_fps)
    playback.reset(num_frames, rendered=rendered_at(t_s))
    shown = [playback.frame]
    while shown[-1] < num_frames - 1:
        t_s += dt_s
        playback.rendered = rendered_at(t_s)
        playback.advance(dt_s)
        shown.append(playback.frame)
    assert playback.stalls == 0
    assert shown == sorted(shown)  # in order, to the last frame


def test_can_start_waits_for_a_measured_rate_and_starts_at_once_when_fast_enough() -> None:
    assert not can_start(51, 1, 0.0, 30.0)  # no rate yet
    assert not can_start(51, 0, 1000.0, 30.0)  # nothing to show
    assert can_start(51, 1, 1000.0, 30.0)
    assert can_start(51, 51, 0.0, 30.0)
    slow = [n for n in range(1, 52) if can_start(51, n, 10.0, 30.0)]
    # at 6.7 frames/s (10 / 1.5) against 30/s, frame 50 is needed at 1.67 s: 11 left at most
    assert slow[0] == 51 - 11


def test_playback_holds_at_the_last_rendered_frame_and_counts_one_stall() -> None:
    playback = Playback(num_frames=20, clip_fps=10.0)
    playback.reset(20, rendered=5)
    for _ in range(20):
        playback.advance(0.1)
        assert playback.frame <= 4
    assert playback.stalls == 1
    playback.rendered = 20
    playback.advance(0.1)
    assert playback.frame == 5  # carries on from where it held
    playback.step(10)
    assert playback.frame == 15
    playback.reset(20, rendered=3)
    playback.seek(1.0)
    assert playback.frame == 2  # never a frame that is not rendered
    playback.step(5)
    assert playback.frame == 2
    assert playback.stalls == 1

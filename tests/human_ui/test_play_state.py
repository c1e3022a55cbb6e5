"""Keyboard play: key mappings, held keys, scores, and clips recorded into a store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame
import pytest

from hfrl_gym.envs import get_goal
from hfrl_gym.errors import ConfigError, UnknownEnvError
from hfrl_gym.store import LabelStore
from human_ui.play_state import KEY_MAPPINGS, PlaySession, key_mapping


def _down(key: int) -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYDOWN, key=key, unicode="")


def _up(key: int) -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYUP, key=key)


LEFT, RIGHT, UP, DOWN = pygame.K_LEFT, pygame.K_RIGHT, pygame.K_UP, pygame.K_DOWN


@pytest.mark.parametrize(
    ("env_id", "held", "expected"),
    [
        ("hfrl/CartPole-v0", {LEFT}, 0),
        ("hfrl/CartPole-v0", {RIGHT}, 1),
        ("hfrl/Acrobot-v0", {LEFT}, 0),
        ("hfrl/Acrobot-v0", set(), 1),
        ("hfrl/Acrobot-v0", {RIGHT}, 2),
        ("hfrl/MountainCarContinuous-v0", {RIGHT}, [1.0]),
        ("hfrl/MountainCarContinuous-v0", {LEFT, RIGHT}, [0.0]),
        ("hfrl/Pendulum-v0", {LEFT}, [2.0]),
        ("hfrl/Pendulum-v0", {RIGHT}, [-2.0]),
        ("hfrl/InvertedPendulum-v0", {LEFT}, [-2.0]),
        ("hfrl/Reacher-v0", {LEFT, DOWN}, [1.0, -1.0]),
        ("hfrl/Reacher-v0", {RIGHT, UP}, [-1.0, 1.0]),
    ],
)
def test_keys_map_to_actions(env_id: str, held: set[int], expected: object) -> None:
    action = KEY_MAPPINGS[env_id].action(frozenset(held), 0)
    np.testing.assert_array_equal(action, expected)


def test_cartpole_without_a_key_alternates() -> None:
    action = KEY_MAPPINGS["hfrl/CartPole-v0"].action
    assert [action(frozenset(), step) for step in range(4)] == [0, 1, 0, 1]


@pytest.mark.parametrize("env_id", ["hfrl/HalfCheetah-v0", "hfrl/Hopper-v0", "hfrl/Walker2d-v0"])
def test_many_joint_envs_are_not_playable(env_id: str) -> None:
    with pytest.raises(ConfigError, match="not playable with a keyboard"):
        key_mapping(env_id)


def test_unknown_env_is_named() -> None:
    with pytest.raises(UnknownEnvError):
        key_mapping("hfrl/Nope-v0")


def test_actions_fit_the_action_space() -> None:
    from hfrl_gym.envs import make_env

    for env_id, mapping in KEY_MAPPINGS.items():
        env = make_env(env_id)
        for held in (frozenset(), frozenset({LEFT}), frozenset({RIGHT, UP})):
            assert env.action_space.contains(mapping.action(held, 0)), (env_id, held)
        env.close()


def _start(session: PlaySession, key: int = pygame.K_SPACE) -> None:
    session.handle_event(_down(key))
    assert not session.waiting


def test_played_clips_go_into_the_store_as_human(tmp_path: Path) -> None:
    with LabelStore(tmp_path / "demos.sqlite") as store:
        session = PlaySession("hfrl/Pendulum-v0", store=store, clip_num_steps=10, seed=4)
        session.handle_event(_down(RIGHT))
        for _ in range(15):
            session.update()
        session.handle_event(_up(RIGHT))
        session.handle_event(_down(LEFT))
        for _ in range(10):
            session.update()
        session.close()
        clips = store.get_clips(store.clip_uids())
    assert session.clips_recorded == 2
    assert [clip.policy for clip in clips] == ["human", "human"]
    assert clips[0].seed == 4
    np.testing.assert_array_equal(clips[0].actions[:, 0], [-2.0] * 10)
    np.testing.assert_array_equal(clips[1].actions[:, 0], [-2.0] * 5 + [2.0] * 5)


def test_score_counts_the_chosen_goal() -> None:
    session = PlaySession("hfrl/Pendulum-v0", store=None, clip_num_steps=5, goal="spin")
    session.handle_event(_down(LEFT))
    observations, actions, rewards = [session.observation], [], []
    for _ in range(20):
        session.update()
        observations.append(session.observation)
        actions.append(np.array([2.0], np.float32))
    rewards = np.zeros(20)
    goal = get_goal("hfrl/Pendulum-v0", "spin")
    expected = goal.rewards(np.stack(observations), np.stack(actions), rewards).sum()
    assert session.score == pytest.approx(expected)
    assert session.true_return < 0  # Pendulum's own reward is a cost
    session.close()


def test_an_episode_waits_for_a_key() -> None:
    session = PlaySession("hfrl/Pendulum-v0", store=None, clip_num_steps=5)
    start = session.observation.copy()
    for key in (pygame.K_p, pygame.K_p, pygame.K_h, pygame.K_LEFT, pygame.K_ESCAPE):
        session.handle_event(_down(key))  # pause, help, a key pressed in help: no start
        session.update()
    assert (session.waiting, session.step_index, session.show_help) == (True, 0, False)
    np.testing.assert_array_equal(session.observation, start)
    session.handle_event(_up(pygame.K_LEFT))
    session.handle_event(_down(RIGHT))  # a playing key starts, and acts at once
    session.update()
    assert (session.waiting, session.step_index) == (False, 1)
    assert session.env.unwrapped.last_u == pytest.approx(-2.0)
    session.close()


def test_help_pauses_the_episode() -> None:
    session = PlaySession("hfrl/Pendulum-v0", store=None, clip_num_steps=5)
    _start(session)
    session.update()
    session.handle_event(_down(pygame.K_h))
    for _ in range(5):
        session.update()
    assert session.step_index == 1
    session.handle_event(_down(pygame.K_ESCAPE))  # closes help, does not quit
    session.update()
    assert (session.step_index, session.quit_requested) == (2, False)
    session.close()


def test_a_crash_ends_the_recording_with_the_clip_it_happens_in(tmp_path: Path) -> None:
    with LabelStore(tmp_path / "demos.sqlite") as store:
        session = PlaySession("hfrl/CartPole-v0", store=store, clip_num_steps=10)
        session.handle_event(_down(RIGHT))  # the pole falls back: a crash within a second
        frames = 0
        while not session.over:
            session.update()
            frames += 1
        clips = store.get_clips(store.clip_uids())
    crashed = [np.abs(clip.observations[:, 2]) >= np.pi / 2 - 1e-6 for clip in clips]
    assert session.absorbed
    assert session.episodes_finished == 1
    assert session.step_index < 500  # not played on to the horizon
    assert session.step_index == 10 * len(clips)  # the last clip is finished, then no more
    assert crashed[-1].any()  # the crash is recorded
    assert not any(flags[0] for flags in crashed)  # no clip starts crashed: no dead time
    assert frames < session.step_index  # the crash's clip ran to its end in one frame
    session.update()
    assert session.step_index == 10 * len(clips)
    session.handle_event(_down(pygame.K_RETURN))
    assert (session.episode, session.step_index, session.over, session.waiting) == (
        1, 0, False, True,
    )  # fmt: skip
    session.close()


def test_idle_clips_are_left_out_when_the_person_stops(tmp_path: Path) -> None:
    with LabelStore(tmp_path / "demos.sqlite") as store:
        session = PlaySession("hfrl/Pendulum-v0", store=store, clip_num_steps=5, idle_steps=12)
        session.handle_event(_down(LEFT))
        for _ in range(5):
            session.update()
        session.handle_event(_up(LEFT))  # stops playing
        for _ in range(30):
            session.update()
        assert session.waiting  # paused at the clip that reached 12 idle steps
        assert (session.step_index, session.clips_recorded, session.clips_left_out) == (20, 1, 3)
        session.handle_event(_down(RIGHT))  # back: the episode goes on
        for _ in range(5):
            session.update()
        session.close()
        clips = store.get_clips(store.clip_uids())
    assert [clip.start_step for clip in clips] == [0, 20]
    assert session.clips_left_out == 3


def test_a_coast_between_playing_is_kept(tmp_path: Path) -> None:
    with LabelStore(tmp_path / "demos.sqlite") as store:
        session = PlaySession("hfrl/Pendulum-v0", store=store, clip_num_steps=5, idle_steps=12)
        for key in (LEFT, None, RIGHT):
            if key is not None:
                session.handle_event(_down(key))
            for _ in range(5):
                session.update()
            if key is not None:
                session.handle_event(_up(key))
        assert session.clips_recorded == 3  # the coast, stored once play went on
        session.handle_event(_down(RIGHT))
        for _ in range(5):
            session.update()
        session.close()
        clips = store.get_clips(store.clip_uids())
    assert [clip.start_step for clip in clips] == [0, 5, 10, 15]
    np.testing.assert_array_equal(clips[1].actions[:, 0], [0.0] * 5)
    assert session.clips_left_out == 0


def test_idle_clips_at_the_episode_end_are_left_out() -> None:
    session = PlaySession("hfrl/Pendulum-v0", store=None, clip_num_steps=10)
    session.handle_event(_down(LEFT))
    for _ in range(180):
        session.update()
    session.handle_event(_up(LEFT))
    for _ in range(20):
        session.update()
    assert session.over
    assert (session.clips_recorded, session.clips_left_out) == (18, 2)
    session.close()


def test_pause_episode_end_and_replay() -> None:
    session = PlaySession("hfrl/Acrobot-v0", store=None, clip_num_steps=50, idle_steps=10_000)
    _start(session, pygame.K_RIGHT)
    session.handle_event(_up(pygame.K_RIGHT))
    session.handle_event(_down(pygame.K_p))
    session.update()
    assert session.step_index == 0
    session.handle_event(_down(pygame.K_p))
    session.handle_event(_down(pygame.K_RETURN))  # not over yet: nothing happens
    assert session.episode == 0
    for _ in range(500):
        session.update()
    assert session.over
    assert session.episodes_finished == 1
    assert session.clips_recorded == 0  # no key held at all: nothing of the person's
    assert session.clips_left_out == 10
    session.update()
    assert session.step_index == 500
    session.handle_event(_down(pygame.K_RETURN))
    assert (session.episode, session.step_index, session.over) == (1, 0, False)
    session.handle_event(_down(pygame.K_h))
    assert session.show_help
    session.handle_event(_down(pygame.K_ESCAPE))
    assert not session.show_help
    assert not session.quit_requested
    session.handle_event(_down(pygame.K_ESCAPE))
    assert session.quit_requested
    session.close()


def test_clips_longer_than_an_episode_are_refused_before_anything_opens(tmp_path: Path) -> None:
    from human_ui.play import PlayConfig, run_play

    with pytest.raises(ConfigError, match=r"--clip-steps 501 exceeds .*CartPole-v0's horizon 500"):
        PlaySession("hfrl/CartPole-v0", store=None, clip_num_steps=501)
    store = tmp_path / "demos.sqlite"
    with pytest.raises(ConfigError, match="horizon 200"):
        run_play(PlayConfig("hfrl/Pendulum-v0", store=store, clip_num_steps=201))
    assert not store.exists()  # no window, no empty store: the person would record nothing

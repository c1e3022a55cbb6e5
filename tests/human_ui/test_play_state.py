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


def test_played_clips_go_into_the_store_as_human(tmp_path: Path) -> None:
    with LabelStore(tmp_path / "demos.sqlite") as store:
        session = PlaySession("hfrl/CartPole-v0", store=store, clip_num_steps=10, seed=4)
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
    np.testing.assert_array_equal(clips[0].actions, [1] * 10)
    np.testing.assert_array_equal(clips[1].actions, [1] * 5 + [0] * 5)


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


def test_pause_episode_end_and_replay() -> None:
    session = PlaySession("hfrl/Acrobot-v0", store=None, clip_num_steps=50)
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
    assert session.clips_recorded == 10
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

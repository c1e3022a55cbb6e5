"""Playing a suite env with the keyboard, recorded as clips (demonstrations). No surfaces.

Keys map to actions per env (:data:`KEY_MAPPINGS`). Held keys are tracked from ``KEYDOWN`` /
``KEYUP`` events (not from ``pygame.key.get_pressed``), so scripted input plays the same as a
person. Every clip the episode completes is stored (committed) in the label store as it
finishes, with ``policy="human"``, ready to be compared with the agent's clips.

Each episode waits for a key before its first step, and help pauses it. Only the person's
playing is recorded, by two rules that hold for every env:

- **Absorbed.** When the env reports an absorbing state (``info["absorbed"]``: CartPole's
  crash) the episode ends at the end of that clip: the crash is recorded, the dead time after
  it is not.
- **Idle.** A clip in which no playing key was held is kept back; it is stored when the person
  plays again in a later clip (a deliberate coast), and left out when no key has been held for
  :data:`IDLE_SECONDS` of play (the person stopped acting): the episode then pauses until a
  key is pressed, and idle clips left at the episode's end are left out too.

Classes:
    KeyMapping: how one env is played (keys, actions, frame rate).
    PlaySession: one person playing one env: held keys, steps, score, recorded clips.

Functions:
    key_mapping: the mapping of a suite env, or ``ConfigError`` saying it is not playable.
    check_clip_steps: ``ConfigError`` for clips longer than the env's episodes.

Attributes:
    KEY_MAPPINGS: ``env_id -> KeyMapping`` for the playable envs.
    IDLE_SECONDS: seconds of play without a key after which idle clips are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pygame

from hfrl_gym.clips import Clip
from hfrl_gym.envs import ABSORBED, get_goal, get_spec, make_env
from hfrl_gym.errors import ConfigError
from hfrl_gym.store import LabelStore
from hfrl_gym.wrappers import RecordClips

Held = frozenset[int]

IDLE_SECONDS = 5.0
"""Play without a key held for this long (at the env's frame rate) and idle clips are left out."""

ARROWS = frozenset({pygame.K_LEFT, pygame.K_RIGHT})
_CONTROL_KEYS = frozenset(
    {pygame.K_ESCAPE, pygame.K_q, pygame.K_p, pygame.K_h, pygame.K_QUESTION, pygame.K_SLASH}
)
"""The window's own keys: they never start an episode or count as playing."""


@dataclass(frozen=True)
class KeyMapping:
    """How a person plays one env.

    Attributes:
        fps: env steps per second (slow enough to be playable).
        keys: ``(key, what it does)`` rows for the window and the docs.
        action: ``(held keys, step index) -> action`` for ``env.step``.
        playing_keys: the keys that act (holding one of them is playing, not idling).

    Example:
        >>> mapping = KEY_MAPPINGS["hfrl/CartPole-v0"]
        >>> mapping.action(frozenset({pygame.K_LEFT}), 0), mapping.action(frozenset(), 3)
        (0, 1)
    """

    fps: int
    keys: tuple[tuple[str, str], ...]
    action: Callable[[Held, int], Any]
    playing_keys: frozenset[int] = ARROWS


def _axis(held: Held, negative: int, positive: int) -> float:
    return float(positive in held) - float(negative in held)


def _cartpole(held: Held, step: int) -> int:
    push = _axis(held, pygame.K_LEFT, pygame.K_RIGHT)
    return step % 2 if push == 0 else int(push > 0)  # no key: alternate, no net push


def _acrobot(held: Held, step: int) -> int:
    return 1 + round(_axis(held, pygame.K_LEFT, pygame.K_RIGHT))  # 0: -1, 1: 0, 2: +1 torque


def _continuous(scale: float, negative: int, positive: int) -> Callable[[Held, int], Any]:
    def action(held: Held, step: int) -> np.ndarray:
        return np.array([scale * _axis(held, negative, positive)], dtype=np.float32)

    return action


def _reacher(held: Held, step: int) -> np.ndarray:
    shoulder = _axis(held, pygame.K_RIGHT, pygame.K_LEFT)
    elbow = _axis(held, pygame.K_DOWN, pygame.K_UP)
    return np.array([shoulder, elbow], dtype=np.float32)


KEY_MAPPINGS: dict[str, KeyMapping] = {
    "hfrl/CartPole-v0": KeyMapping(
        25,
        (("← / →", "push the cart left / right (no key: alternate, no net push)"),),
        _cartpole,
    ),
    "hfrl/Acrobot-v0": KeyMapping(
        15, (("← / →", "torque -1 / +1 on the joint (no key: none)"),), _acrobot
    ),
    "hfrl/MountainCarContinuous-v0": KeyMapping(
        30,
        (("← / →", "full throttle left / right (no key: coast)"),),
        _continuous(1.0, pygame.K_LEFT, pygame.K_RIGHT),
    ),
    "hfrl/Pendulum-v0": KeyMapping(
        20,
        (("← / →", "torque +2 (anticlockwise) / -2 (clockwise); no key: none"),),
        _continuous(2.0, pygame.K_RIGHT, pygame.K_LEFT),
    ),
    "hfrl/InvertedPendulum-v0": KeyMapping(
        25,
        (("← / →", "push the cart left / right with force 2 (no key: none)"),),
        _continuous(2.0, pygame.K_LEFT, pygame.K_RIGHT),
    ),
    "hfrl/Reacher-v0": KeyMapping(
        20,
        (
            ("← / →", "shoulder torque +1 (anticlockwise) / -1"),
            ("↑ / ↓", "elbow torque +1 (anticlockwise) / -1"),
        ),
        _reacher,
        ARROWS | {pygame.K_UP, pygame.K_DOWN},
    ),
}


def key_mapping(env_id: str) -> KeyMapping:
    """The key mapping of a suite env.

    Raises:
        UnknownEnvError: ``env_id`` is not in the suite.
        ConfigError: the env is not playable with a keyboard (too many continuous actions).
    """
    spec = get_spec(env_id)
    if env_id not in KEY_MAPPINGS:
        raise ConfigError(
            f"{env_id} is not playable with a keyboard: its {spec.action} action needs a "
            f"continuous controller for several joints at once. Playable envs: "
            f"{', '.join(KEY_MAPPINGS)}"
        )
    return KEY_MAPPINGS[env_id]


def check_clip_steps(env_id: str, clip_num_steps: int) -> None:
    """Refuse clips longer than the env's episodes: not one would ever be recorded.

    Raises:
        ConfigError: ``clip_num_steps`` exceeds the env's horizon (as ``hfrl record`` says).
    """
    horizon = get_spec(env_id).horizon
    if clip_num_steps > horizon:
        raise ConfigError(
            f"--clip-steps {clip_num_steps} exceeds {env_id}'s horizon {horizon}: no clip "
            f"would be recorded; give at most {horizon}"
        )


class PlaySession:
    """A person playing a suite env; completed clips go into the store at once.

    Args:
        env_id: a playable suite id (see :data:`KEY_MAPPINGS`).
        store: where the clips go (``None``: not recorded).
        clip_num_steps: steps per recorded clip.
        seed: the first episode's reset seed (then ``seed + 1``, ...).
        goal: the goal the score is counted by (``"task"``: the env's reward).
        render_size: ``(width, height)`` for MuJoCo frames; classic envs use their own.
        idle_steps: steps without a playing key after which idle clips are left out
            (``None``: :data:`IDLE_SECONDS` at the mapping's frame rate).

    Example:
        >>> session = PlaySession("hfrl/CartPole-v0", store=None, clip_num_steps=5)
        >>> session.update()  # waits for a key
        >>> session.step_index, session.waiting
        (0, True)
        >>> session.handle_event(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RIGHT))
        >>> for _ in range(10):
        ...     session.update()
        >>> session.step_index, session.clips_recorded
        (10, 2)
        >>> session.close()
    """

    def __init__(
        self,
        env_id: str,
        *,
        store: LabelStore | None,
        clip_num_steps: int = 50,
        seed: int = 0,
        goal: str = "task",
        render_size: tuple[int, int] | None = None,
        idle_steps: int | None = None,
    ) -> None:
        self.mapping = key_mapping(env_id)
        check_clip_steps(env_id, clip_num_steps)
        self.spec = get_spec(env_id)
        self.goal = get_goal(env_id, goal)
        width, height = render_size if render_size and self.spec.mujoco else (None, None)
        env = make_env(env_id, render_mode="rgb_array", width=width, height=height)
        self.env = RecordClips(env, clip_num_steps, policy_name="human")
        self.clip_num_steps = clip_num_steps
        self.idle_steps = idle_steps or max(1, round(IDLE_SECONDS * self.mapping.fps))
        self.store = store
        self.seed = seed
        self.held: set[int] = set()
        self.paused = False
        self.show_help = False
        self.quit_requested = False
        self.episodes_finished = 0
        self.clips_recorded = 0
        self.clips_left_out = 0  # idle clips: the person had stopped playing
        self.episode = -1
        self.reset()

    def reset(self) -> None:
        """Start a new episode (its seed is ``seed + episode``); it waits for a key."""
        self.episode += 1
        self.observation, _ = self.env.reset(seed=self.seed + self.episode)
        self.step_index = 0
        self.score = 0.0  # under the goal
        self.true_return = 0.0  # the env's task reward
        self.over = False
        self.absorbed = False  # the env reported an absorbing state (a crash)
        self.waiting = True  # for a key: at the start, and after the person stopped playing
        self.idle_for = 0  # steps since a playing key was last held
        self._clip_played = False  # a playing key was held in the clip being recorded
        self._kept_back: list[Clip] = []  # finished idle clips, stored if play goes on

    @property
    def running(self) -> bool:
        """Whether :meth:`update` steps the env (not waiting, paused, in help or over)."""
        return not (self.waiting or self.paused or self.show_help or self.over)

    def handle_event(self, event: pygame.event.Event) -> None:
        """Track held keys and act on the window's own keys."""
        if event.type == pygame.QUIT:
            self.quit_requested = True
        elif event.type == pygame.KEYUP:
            self.held.discard(event.key)
        elif event.type == pygame.KEYDOWN:
            self.held.add(event.key)
            char = str(getattr(event, "unicode", "") or "").lower()
            if event.key in (pygame.K_ESCAPE, pygame.K_q):
                if self.show_help:
                    self.show_help = False
                else:
                    self.quit_requested = True
            elif event.key == pygame.K_p:
                self.paused = not self.paused
            elif event.key in (pygame.K_h, pygame.K_QUESTION) or char == "?":
                self.show_help = not self.show_help
            elif event.key in (pygame.K_RETURN, pygame.K_KP_ENTER) and self.over:
                self.reset()
            elif event.key not in _CONTROL_KEYS and not self.show_help:
                self.waiting = False  # any other key starts (or goes on with) the episode

    def update(self) -> None:
        """One env step with the held keys' action (nothing unless :attr:`running`)."""
        if not self.running:
            return
        playing = bool(self.held & self.mapping.playing_keys)
        self.idle_for = 0 if playing else self.idle_for + 1
        self._clip_played = self._clip_played or playing
        self._step(self.mapping.action(frozenset(self.held), self.step_index))
        while self.absorbed and self.step_index % self.clip_num_steps and not self.over:
            self._step(self.mapping.action(frozenset(), self.step_index))  # to the clip's end
        if self.absorbed and not self.over:
            self._end_episode()

    def _step(self, action: Any) -> None:
        previous = self.observation
        self.observation, reward, terminated, truncated, info = self.env.step(action)
        self.step_index += 1
        self.true_return += float(reward)
        goal_reward = self.goal.rewards(
            np.stack([previous, self.observation]), np.asarray([action]), np.array([reward])
        )
        self.score += float(goal_reward[0])
        self.absorbed = self.absorbed or bool(info.get(ABSORBED, False))
        for clip in self.env.pop_clips():
            self._clip_done(clip)
        if terminated or truncated:
            self._end_episode()

    def _clip_done(self, clip: Clip) -> None:
        """Store a played clip (and the idle ones kept back before it), or keep an idle one
        back; when the person has stopped playing, leave the idle clips out and wait."""
        if self._clip_played:
            self._store([*self._kept_back, clip])
            self._kept_back = []
        else:
            self._kept_back.append(clip)
            if self.idle_for >= self.idle_steps:
                self.clips_left_out += len(self._kept_back)
                self._kept_back = []
                self.waiting = True
        self._clip_played = False

    def _store(self, clips: list[Clip]) -> None:
        if clips and self.store is not None:
            self.store.add_clips(clips)  # committed now: quitting loses no finished clip
        self.clips_recorded += len(clips)

    def _end_episode(self) -> None:
        self.over = True
        self.episodes_finished += 1
        self.clips_left_out += len(self._kept_back)  # the person had stopped playing
        self._kept_back = []

    def frame(self) -> np.ndarray:
        """The current picture, ``(H, W, 3)`` uint8."""
        return np.asarray(self.env.render(), dtype=np.uint8)

    def close(self) -> None:
        """Close the env (the store stays open: it belongs to the caller)."""
        self.env.close()

"""Helpers for the desktop-window tests: stores of queries, key events, scripts, subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pygame

from hfrl_gym.clips import Clip
from hfrl_gym.store import LabelStore

REPO = Path(__file__).resolve().parents[1]
HFRL = Path(sys.executable).with_name("hfrl")


def key(name: str) -> pygame.event.Event:
    """A ``KEYDOWN`` event as a keyboard sends it (the character in ``unicode``)."""
    if not pygame.display.get_init():
        pygame.display.init()  # key names need the (dummy) video driver
    code = pygame.key.key_code(name)
    char = name if len(name) == 1 else {"space": " "}.get(name, "")
    return pygame.event.Event(pygame.KEYDOWN, key=code, mod=0, unicode=char, scancode=0)


def synthetic_clip(rng: np.random.Generator, num_steps: int = 8) -> Clip:
    """A CartPole-shaped clip with random (but renderable) snapshots."""
    states = rng.normal(scale=0.1, size=(num_steps + 1, 4))
    return Clip(
        env_id="hfrl/CartPole-v0",
        observations=states.astype(np.float32),
        actions=rng.integers(0, 2, size=num_steps),
        true_rewards=np.ones(num_steps),
        states=states,
        policy="synthetic",
    )


def make_query_store(
    path: Path, num_queries: int, *, seed: int = 0, num_steps: int = 8
) -> list[int]:
    """A store with ``num_queries`` queries of distinct synthetic CartPole clips; their ids."""
    rng = np.random.default_rng(seed)
    with LabelStore(path) as store:
        uids = store.add_clips([synthetic_clip(rng, num_steps) for _ in range(2 * num_queries)])
        return store.add_queries(list(zip(uids[0::2], uids[1::2], strict=True)))


def write_script(path: Path, steps: list[dict[str, Any]]) -> Path:
    """Write a ``--script`` file of JSON lines."""
    path.write_text("".join(json.dumps(step) + "\n" for step in steps), encoding="utf-8")
    return path


def answer_steps(keys: list[str], wait_frames: int = 3) -> list[dict[str, Any]]:
    """Script steps that wait for each pair's clips, then press one key per pair."""
    steps: list[dict[str, Any]] = []
    for name in keys:
        steps += [{"until": "ready"}, {"frames": wait_frames, "key": name}]
    return steps


def ui_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for an ``hfrl label``/``play`` subprocess: headless, config in tmp_path."""
    env = dict(os.environ)
    env.update(
        SDL_VIDEODRIVER="dummy",
        SDL_AUDIODRIVER="dummy",
        MUJOCO_GL="egl",
        PYGAME_HIDE_SUPPORT_PROMPT="1",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    env.pop("HFRL_ANNOTATOR", None)
    env.update(extra)
    return env


def run_hfrl(
    args: list[str], tmp_path: Path, *, timeout_s: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run the real ``hfrl`` command to completion."""
    return subprocess.run(
        [str(HFRL), *args],
        cwd=tmp_path,
        env=ui_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )

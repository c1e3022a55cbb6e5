"""Shared fixtures: headless settings and small helpers for building clips."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np
import pytest
import torch

from hfrl_gym.clips import Clip


def make_clip(
    rng: np.random.Generator,
    *,
    num_steps: int = 10,
    obs_dim: int = 4,
    env_id: str = "hfrl/CartPole-v0",
    rewards: np.ndarray | None = None,
) -> Clip:
    """A synthetic clip with random arrays (CartPole-shaped by default)."""
    return Clip(
        env_id=env_id,
        observations=rng.normal(size=(num_steps + 1, obs_dim)).astype(np.float32),
        actions=rng.integers(0, 2, size=num_steps),
        true_rewards=rng.normal(size=num_steps) if rewards is None else rewards,
        states=rng.normal(size=(num_steps + 1, obs_dim)),
        policy="synthetic",
    )


@pytest.fixture
def rng() -> np.random.Generator:
    """A fixed-seed generator."""
    return np.random.default_rng(0)


@pytest.fixture
def one_torch_thread():
    """Small networks run fastest on one thread (and the machine's cores are shared)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

"""A label server in this process (FastAPI's TestClient) over a small store, for API tests.

The clips carry true rewards no student may see (:data:`SECRET_REWARDS`): a test walks every
reply to a student for them and for reward-like keys.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from hfrl_gym.clips import Clip
from hfrl_gym.store import LabelStore
from human_ui.server.app import create_app
from human_ui.server.class_db import ClassDatabase, class_database_path
from human_ui.server.context import ServerSettings

SECRET_REWARDS = (0.7315926, -0.4142135)
"""True rewards of every step of the test clips (values no reply may hold)."""
FORBIDDEN_KEYS = ("reward", "return", "dashboard", "kappa", "majority")


def cartpole_clip(rng: np.random.Generator, steps: int = 6) -> Clip:
    """A CartPole clip with plausible states (so it renders) and secret rewards."""
    states = rng.uniform(-0.05, 0.05, size=(steps + 1, 4))
    return Clip(
        env_id="hfrl/CartPole-v0",
        observations=states.astype(np.float32),
        actions=rng.integers(0, 2, size=steps),
        true_rewards=np.resize(np.array(SECRET_REWARDS), steps),
        states=states,
        policy="synthetic",
    )


def make_store(path: Path, num_queries: int, seed: int = 0) -> list[int]:
    """A store of ``num_queries`` CartPole queries; returns their ids."""
    rng = np.random.default_rng(seed)
    with LabelStore(path) as store:
        uids = store.add_clips([cartpole_clip(rng) for _ in range(2 * num_queries)])
        return store.add_queries(list(zip(uids[::2], uids[1::2], strict=True)))


@dataclass
class Server:
    """A test server: its client, store path, teacher token and join code."""

    client: TestClient
    store_path: Path
    teacher_token: str
    join_code: str

    def join(self, name: str) -> dict[str, str]:
        """A student's auth header after joining."""
        reply = self.client.post("/api/v1/join", json={"code": self.join_code, "name": name})
        assert reply.status_code == 201, reply.text
        return {"Authorization": f"Bearer {reply.json()['token']}"}

    @property
    def teacher(self) -> dict[str, str]:
        """The teacher's auth header."""
        return {"Authorization": f"Bearer {self.teacher_token}"}

    def store(self) -> LabelStore:
        """The store, opened again (as another process would)."""
        return LabelStore(self.store_path, create=False)


def teacher_and_code(store_path: Path) -> tuple[str, str]:
    """Make the teacher token and read the join code, as ``hfrl serve`` does."""
    classes = ClassDatabase(class_database_path(store_path))
    try:
        return classes.new_teacher_token(), classes.settings().join_code
    finally:
        classes.close()


@contextlib.contextmanager
def running_server(store_path: Path, **settings: Any) -> Iterator[Server]:
    """A server app over ``store_path`` (rendering in a thread, nothing ahead)."""
    token, code = teacher_and_code(store_path)
    options = {"render_workers": 0, "ahead_every_s": 0.0, **settings}
    app = create_app(ServerSettings(target=store_path, **options))
    with TestClient(app) as client:
        yield Server(client, store_path, token, code)


def forbidden_in(body: Any) -> list[str]:
    """Reward-like keys and secret reward values found in a reply's JSON."""
    found = []
    if isinstance(body, dict):
        for key, value in body.items():
            if any(word in key.lower() for word in FORBIDDEN_KEYS):
                found.append(key)
            found += forbidden_in(value)
    elif isinstance(body, list):
        for value in body:
            found += forbidden_in(value)
    elif isinstance(body, float) and any(np.isclose(body, SECRET_REWARDS)):
        found.append(repr(body))
    text = json.dumps(body)
    found += [repr(r) for r in SECRET_REWARDS if str(r)[:7] in text and not found]
    return found

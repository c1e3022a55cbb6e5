"""Run a small task from inside PPO's rollouts, every so many seconds (``hfrl train --async``).

Classes:
    RolloutTicker: an SB3 callback calling a function at most every ``interval_s`` seconds
        while PPO collects a rollout.

``agents.async_loop`` tops the query queue up with it during rollouts, not only between
them: a person who answers faster than a rollout lasts (Pendulum's long rollouts, a class of
windows) would otherwise be left without a pair until the rollout ends. The function runs in
PPO's thread, so it may use that thread's store connection; PPO steps on when it returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from stable_baselines3.common.callbacks import BaseCallback


class RolloutTicker(BaseCallback):
    """Calls ``action`` from PPO's env steps, at most every ``interval_s`` seconds.

    Args:
        action: what to do (no arguments; its result is ignored).
        interval_s: the least time between two calls (0: at every env step of the vector).

    Attributes:
        calls: how many times ``action`` ran.
    """

    def __init__(self, action: Callable[[], object], interval_s: float) -> None:
        super().__init__()
        self.action, self.interval_s = action, interval_s
        self.calls = 0
        self._next_at = 0.0

    def _on_step(self) -> bool:
        now = time.monotonic()
        if now >= self._next_at:
            self._next_at = now + self.interval_s
            self.action()
            self.calls += 1
        return True

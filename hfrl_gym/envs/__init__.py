"""The hfrl suite: fixed-horizon Gymnasium envs with simulator snapshots and goals.

Importing this package imports neither MuJoCo nor any env module: ids are registered with
string entry points, and MuJoCo is imported when a MuJoCo env is made.

Classes:
    SuiteSpec: one suite env (horizon, what replaces termination, spaces, snapshot size).
    Goal: a named reward over transitions that scripted teachers judge clips by.

Functions:
    register_suite, suite_ids, current_ids, task_id, get_spec, make_env: the registry
        (``suite.py``).
    get_state, set_state, supports_state: simulator snapshots (``snapshots.py``).
    goals_for, get_goal: the goals of each env (``goals.py``).
    describe_suite: the table printed by ``hfrl envs`` (``catalog.py``).

Attributes:
    SUITE: ``dict[str, SuiteSpec]`` keyed by env id.
"""

from __future__ import annotations

from hfrl_gym.envs.catalog import describe_suite
from hfrl_gym.envs.goals import Goal, get_goal, goals_for
from hfrl_gym.envs.snapshots import get_state, set_state, supports_state
from hfrl_gym.envs.suite import (
    ABSORBED,
    SUITE,
    SuiteSpec,
    current_ids,
    get_spec,
    make_env,
    register_suite,
    suite_ids,
    task_id,
)

__all__ = [
    "ABSORBED",
    "SUITE",
    "Goal",
    "SuiteSpec",
    "current_ids",
    "describe_suite",
    "get_goal",
    "get_spec",
    "get_state",
    "goals_for",
    "make_env",
    "register_suite",
    "set_state",
    "suite_ids",
    "supports_state",
    "task_id",
]

"""A text table of the suite for ``hfrl envs`` (no env is made, nothing heavy is imported).

Functions:
    describe_suite: one row per suite env: id, horizon, spaces, goals; then which versions
        are superseded.
"""

from __future__ import annotations

from hfrl_gym.envs.goals import goals_for
from hfrl_gym.envs.suite import SUITE


def describe_suite() -> str:
    """The suite as an aligned plain-text table.

    Returns:
        Lines ``id  horizon  observation  action  goals``, one per env, with a header; then,
        after a blank line, the superseded versions and what replaces them.

    Example:
        >>> print(describe_suite().splitlines()[1])  # doctest: +NORMALIZE_WHITESPACE
        hfrl/CartPole-v0 500 Box(4,) float32, |x| <= 2.4, |theta| <= pi/2 Discrete(2) task, left
    """
    header = ("id", "horizon", "observation", "action", "goals")
    rows = [header]
    for spec in SUITE.values():
        goals = ", ".join(goals_for(spec.env_id))
        rows.append((spec.env_id, str(spec.horizon), spec.observation, spec.action, goals))
    widths = [max(len(row[col]) for row in rows) for col in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    table = "\n".join(line.rstrip() for line in lines)
    superseded = [
        f"{spec.env_id} -> {spec.superseded_by}"
        for spec in SUITE.values()
        if spec.superseded_by is not None
    ]
    if not superseded:
        return table
    return (
        f"{table}\n\nsuperseded (kept so stored clips re-render as recorded; use the newer "
        f"id for new work): {', '.join(superseded)}"
    )

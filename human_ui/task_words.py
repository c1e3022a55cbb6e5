"""The task card's words: what to judge, which way is forward, a good and a bad clip.

Pure data, without pygame, so that the comparison window (:mod:`human_ui.task_card`) and the
label server's page (:mod:`human_ui.server`) say the same thing.

Classes:
    TaskText: the card's words for one env and goal.

Functions:
    task_text: the words of the card for an env and goal.
"""

from __future__ import annotations

from dataclasses import dataclass

from hfrl_gym.envs import Goal, get_spec, task_id
from hfrl_gym.envs.goals import TASK

_FORWARD = {
    "hfrl/MountainCarContinuous-v0": "the flag is on the right hill",
    "hfrl/InvertedPendulum-v0": "right is +x, the cart's positive direction",
    "hfrl/HalfCheetah-v0": "forward is to the right of the picture",
    "hfrl/Hopper-v0": "forward is to the right of the picture",
    "hfrl/Walker2d-v0": "forward is to the right of the picture",
}
_GOOD_BAD = {
    "hfrl/CartPole-v0": (
        "the pole stays upright and the cart stays near the middle",
        "the pole falls over (a crashed cart then stands still)",
    ),
    "hfrl/Pendulum-v0": (
        "the pendulum swings up and stays upright at the top, with little effort",
        "it hangs down, or keeps spinning round",
    ),
    "hfrl/MountainCarContinuous-v0": (
        "the car rocks back and forth to gain speed and reaches the flag",
        "the car stays in the valley",
    ),
    "hfrl/Acrobot-v0": (
        "the tip of the lower link swings high, above the line",
        "the arm hangs still",
    ),
    "hfrl/InvertedPendulum-v0": ("the pole stays upright", "the pole falls over"),
    "hfrl/Reacher-v0": (
        "the fingertip goes straight to the target and stays on it",
        "it wanders away from the target or flails",
    ),
    "hfrl/HalfCheetah-v0": (
        "it runs to the right, fast",
        "it stands still, flips over, or goes left",
    ),
    "hfrl/Hopper-v0": ("it hops to the right without falling", "it falls over or stays put"),
    "hfrl/Walker2d-v0": ("it walks to the right, upright", "it falls over or stays put"),
}


@dataclass(frozen=True)
class TaskText:
    """The words of a task card.

    Attributes:
        title: the env and the goal, as in the window's header.
        judge: what to judge.
        forward: which way is forward (empty when the picture has no direction).
        good: what a good clip looks like.
        bad: what a bad clip looks like.

    Example:
        >>> text = task_text("hfrl/HalfCheetah-v0", TASK, "cheetah")
        >>> text.forward
        'forward is to the right of the picture'
    """

    title: str
    judge: str
    forward: str
    good: str
    bad: str


def task_text(env_id: str, goal: Goal, title: str) -> TaskText:
    """The card's words for ``env_id`` judged by ``goal`` (``title``: the header line).

    The env's own task has a description of a good and a bad clip; an alternative goal is
    described by its own line (the behaviour it rewards).

    Example:
        >>> task_text("hfrl/CartPole-v0", TASK, "CartPole").judge
        'Which clip does better at: push a cart left or right to keep its pole upright?'
    """
    spec = get_spec(env_id)
    forward = _FORWARD.get(task_id(env_id), "")
    if goal.name == TASK.name:
        good, bad = _GOOD_BAD.get(task_id(env_id), (spec.description, "the opposite"))
        judge = f"Which clip does better at: {spec.description}?"
    else:
        good = goal.description
        bad = "the opposite, or the env's usual task instead of this goal"
        judge = f"Which clip does better at the goal {goal.name!r} (not the usual task)?"
    return TaskText(title=title, judge=judge, forward=forward, good=good, bad=bad)

"""Lesson 7, teaching a new behaviour: make the pendulum spin, from preferences alone.

The Pendulum's own task is to swing up and stay upright. A scripted teacher is given another
goal, ``spin`` (reward ``|angular velocity| / 8``), and only answers which of two clips spins
more. PPO on the reward learned from those answers is evaluated by the spin goal (and by the
env's task, which it now ignores), beside PPO on a constant reward (the control: the same
training without any information).

The lesson's claims (``CLAIMS``) are checked on the run: the taught agent's spin return
against its own start (the untrained agent) and against the control's.

Functions:
    add_arguments: the lesson's own options.
    check_claims: the lesson's claims, decided on the spin returns.
    run: the lesson (``hfrl lesson`` calls it with the parsed options).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from agents.lessons.claims import Checked, Claim, report_claims
from agents.lessons.common import (
    LessonArgs,
    ReturnTracker,
    ask_teacher,
    explain,
    fit_reward_model,
    lesson_agent,
    lesson_labels,
    note,
    save_figure,
    train_tracked,
)
from agents.rewards import ConstantReward
from hfrl_gym.envs import get_goal
from hfrl_gym.recording import record_random_clips
from hfrl_gym.store import LabelStore
from hfrl_gym.teachers import make_teacher

ENV = "hfrl/Pendulum-v0"
TAUGHT = "PPO on the reward learned from preferences"
CONTROL = "control: constant reward"
WELL_ABOVE = 50.0
"""Spin return (of 200) by which the taught agent must beat its start and the control."""

CLAIMS = (
    Claim(
        "spin-rises-above-start",
        "The spin return of the agent taught by preferences rises well above the untrained "
        "agent's: by at least 50 (of 200).",
    ),
    Claim(
        "spin-above-control",
        "It ends well above the control trained on a constant reward: by at least 50.",
    ),
)

TEXT = """
Preferences can teach what no reward function of the env describes. Christiano et al. (2017)
taught a simulated robot to do a backflip from 900 answers. Here the pendulum's own task is
to swing up and stay upright, but the teacher wants something else: spin, as fast as you can.

The teacher never writes a formula; it only says which of two clips spins more. The reward
model learns from that, and PPO optimises the learned reward. We measure the agent by the
teacher's goal. The control is PPO with a constant reward: the same training without
information. Watch the env's own task score too: the agent now ignores it, as it should.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--labels", type=int, help="preferences to learn from (default 100)")


def check_claims(taught: np.ndarray, control: np.ndarray) -> list[Checked]:
    """``CLAIMS`` decided on the spin return at each evaluation of the two agents."""
    return [
        CLAIMS[0].check(
            taught[-1] >= taught[0] + WELL_ABOVE,
            f"taught agent's spin return {taught[0]:.0f} at the start, {taught[-1]:.0f} at the end",
        ),
        CLAIMS[1].check(
            taught[-1] >= control[-1] + WELL_ABOVE,
            f"spin return at the end: taught {taught[-1]:.0f}, control {control[-1]:.0f}",
        ),
    ]


def _speeds(tracker: ReturnTracker) -> np.ndarray:
    """``|angular velocity|`` of every step of the last evaluation."""
    return np.abs(tracker.points[-1][1].observations[:, :, 2]).reshape(-1)


def run(args: LessonArgs) -> list[Path]:
    """Learn the spin reward from preferences, train PPO on it and on a constant reward."""
    explain("Lesson 7: teaching a new behaviour", TEXT)
    goal = get_goal(ENV, "spin")
    num_labels = args.extra.get("labels") or args.budget(100, 10)

    def fill(store: LabelStore) -> None:
        clips = record_random_clips(
            ENV, num_clips=args.budget(100, 12), clip_num_steps=25, seed=args.seed
        )
        teacher = make_teacher("oracle", goal=goal, rng=np.random.default_rng(args.seed))
        ask_teacher(store, clips, num_labels, teacher, np.random.default_rng(args.seed))

    labelled = lesson_labels(
        args.out,
        fill,
        goal="spin",
        settings={"seed": args.seed, "quick": args.quick, "labels": num_labels},
    )
    note(f"a scripted teacher judging by 'spin' answered {len(labelled)} pairs; fitting")
    model = fit_reward_model(ENV, labelled, seed=args.seed)
    num_steps = args.budget(10_000, 512)
    runs = {TAUGHT: model, CONTROL: None}
    trackers = {}
    for label, reward in runs.items():
        note(f"{label} ({num_steps} steps)")
        agent = lesson_agent(
            ENV,
            reward if reward is not None else ConstantReward(),
            seed=args.seed,
            hyperparameters=args.quick_ppo(ENV),
        )
        trackers[label] = train_tracked(
            agent,
            num_steps,
            num_evaluations=args.budget(6, 1),
            num_episodes=args.budget(10, 2),
            deterministic=True,
        )
    spins = {
        label: np.array([episodes.goal_returns(ENV, "spin").mean() for _, episodes in t.points])
        for label, t in trackers.items()
    }
    fig, axes = plt.subplots(1, 3, figsize=(17, 5), layout="constrained")
    for (label, tracker), colour in zip(trackers.items(), ("tab:purple", "tab:grey"), strict=True):
        steps = [step for step, _ in tracker.points]
        spin = spins[label]
        task = [episodes.true_rewards.sum(axis=1).mean() for _, episodes in tracker.points]
        axes[0].plot(steps, spin, marker="o", color=colour, label=label)
        axes[1].plot(steps, task, marker="o", color=colour, label=label)
        axes[2].hist(
            _speeds(tracker), bins=np.linspace(0, 8, 33), alpha=0.6, color=colour, label=label
        )
        print(f"     {label}: spin return {spin[-1]:.0f} (of 200), task return {task[-1]:.0f}")
    axes[0].axhline(200, color="grey", linestyle=":", linewidth=1)
    axes[0].set_ylim(0, 210)
    axes[0].set_xlabel("env steps of PPO")
    axes[0].set_ylabel("spin return (|angular velocity| / 8 per step), most likely actions")
    axes[0].set_title("The taught goal: spin (max 200)")
    axes[0].legend(loc="lower right", fontsize="small")
    axes[1].set_xlabel("env steps of PPO")
    axes[1].set_ylabel("task return (upright = 0, hanging = -16 per step)")
    axes[1].set_title("The env's own task, which nobody asked for")
    axes[1].legend(loc="lower right", fontsize="small")
    axes[2].set_xlabel("|angular velocity| (rad/s; the env's limit is 8)")
    axes[2].set_ylabel("steps (last evaluation)")
    axes[2].set_title("How fast the pendulum turns")
    axes[2].legend(loc="upper center", fontsize="small")
    fig.suptitle(
        f"A new behaviour from {len(labelled)} preferences, no reward function", fontsize=14
    )
    figure = save_figure(fig, args.out / "new_behaviour.png")
    report_claims(
        args.out,
        "new-behaviour",
        args.seed,
        check_claims(spins[TAUGHT], spins[CONTROL]),
        quick=args.quick,
    )
    return [figure]

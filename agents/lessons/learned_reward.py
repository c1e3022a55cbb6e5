"""Lesson 3, RL on the learned reward: PPO on it, on the true reward, and on a constant one.

The env is Acrobot: a two-link arm whose task is to swing its tip above a line (the suite's
reward: -1 on every step below the line, 0 above). A scripted teacher compares clips the way a
person would at first, when no clip crosses the line yet: the higher the tip swings, the
better (the ``tip_height`` goal). PPO then trains three times with the same budget: on the
reward learned from those answers, on the env's true reward, and on a constant reward (the
control). All three are evaluated on the true task and on the tip height.

Functions:
    add_arguments: the lesson's own options.
    run: the lesson (``hfrl lesson`` calls it with the parsed options).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from agents.lessons.common import (
    LessonArgs,
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

ENV = "hfrl/Acrobot-v0"
HORIZON = 500

TEXT = """
Now the agent learns from the reward model instead of the environment's reward. The env is
Acrobot, a two-link arm hanging down; the task is to swing the tip above the line. A beginner
never gets there, so "did it cross the line?" tells a person nothing about two beginners'
clips; they prefer the one that swings higher. The reward model learns that from their
answers, and PPO is trained on it.

Three agents train with the same number of steps: on the learned reward (RLHF), on the env's
true reward, and on a constant reward. The constant reward is the control: it carries no
information, so whatever it learns is not learning from feedback. All three are scored by
the true task: steps with the tip above the line.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--labels", type=int, help="preferences to learn from (default 100)")
    parser.add_argument("--steps", type=int, help="PPO env steps per agent (default 12000)")


def run(args: LessonArgs) -> list[Path]:
    """Fit the reward model, train the three agents, plot their true returns."""
    explain("Lesson 3: RL on the learned reward", TEXT)
    goal = get_goal(ENV, "tip_height")
    num_labels = args.extra.get("labels") or args.budget(100, 10)

    def fill(store: LabelStore) -> None:
        clips = record_random_clips(
            ENV, num_clips=args.budget(100, 12), clip_num_steps=25, seed=args.seed
        )
        teacher = make_teacher("oracle", goal=goal, rng=np.random.default_rng(args.seed))
        ask_teacher(store, clips, num_labels, teacher, np.random.default_rng(args.seed))

    labelled = lesson_labels(args.out, fill, goal=goal.name)
    note(f"fitting the reward model on {len(labelled)} answers (who swings higher)")
    model = fit_reward_model(ENV, labelled, seed=args.seed)
    num_steps = args.extra.get("steps") or args.budget(12_000, 512)
    runs = {
        "RLHF: the learned reward": (model, "tab:purple"),
        "the true reward (-1 below the line)": (None, "tab:green"),
        "control: constant reward +1": (ConstantReward(), "tab:grey"),
    }
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.2), layout="constrained")
    for label, (reward, colour) in runs.items():
        note(f"PPO on {label} ({num_steps} steps)")
        agent = lesson_agent(ENV, reward, seed=args.seed, hyperparameters=args.quick_ppo(ENV))
        tracker = train_tracked(
            agent, num_steps, num_evaluations=args.budget(6, 1), num_episodes=args.budget(5, 2)
        )
        steps = [step for step, _ in tracker.points]
        above = [HORIZON + e.true_rewards.sum(axis=1).mean() for _, e in tracker.points]
        height = [e.goal_returns(ENV, goal.name).mean() / HORIZON for _, e in tracker.points]
        axes[0].plot(steps, above, marker="o", color=colour, label=label)
        axes[1].plot(steps, height, marker="o", color=colour, label=label)
        print(f"     {label}: {above[-1]:.0f} of {HORIZON} steps above the line")
    axes[0].set_xlabel("env steps of PPO")
    axes[0].set_ylabel(f"true return + {HORIZON}: steps with the tip above the line")
    axes[0].set_title("The true task")
    axes[0].legend(loc="upper left", fontsize="small")
    axes[1].axhline(0.5, color="black", linestyle="--", linewidth=1, label="the line")
    axes[1].set_xlabel("env steps of PPO")
    axes[1].set_ylabel("mean tip height per step (-1 hanging, 0 level, 1 straight up)")
    axes[1].set_title("What the people judged: how high the tip swings")
    axes[1].legend(loc="upper left", fontsize="small")
    fig.suptitle(
        f"PPO on a reward learned from {len(labelled)} preferences vs the true and a constant "
        "reward (same budget)",
        fontsize=13,
    )
    return [save_figure(fig, args.out / "learned_reward.png")]

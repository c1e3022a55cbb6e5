"""Lesson 4, the termination leak: a constant reward solves CartPole if episodes end early.

PPO gets +1 on every step, whatever it does, in two versions of CartPole with the same
physics: Gymnasium's ``CartPole-v1``, whose episodes end when the pole falls, and the suite's
``hfrl/CartPole-v0``, whose episodes always last 500 steps. Both policies are evaluated in the
fixed-horizon env by the true reward (steps balanced out of 500).

Functions:
    run: the lesson (``hfrl lesson`` calls it with the parsed options).
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np

from agents.lessons.common import LessonArgs, ReturnTracker, explain, note, save_figure, tracked_ppo
from agents.rewards import ConstantReward

ENV = "hfrl/CartPole-v0"

TEXT = """
A reward of +1 on every step says nothing about what is good: every action earns the same.
Yet on Gymnasium's CartPole-v1 PPO learns to balance with it. Why? The episode ends when the
pole falls, so an agent that keeps the pole up collects more +1s. The end of the episode
carries the information the reward does not: a termination leak.

A learned reward can hide the same leak. If the reward model happens to give positive
rewards, the agent learns to balance because of the early end, not because of the labels,
and we would wrongly credit RLHF. This suite's envs therefore have a fixed horizon: every
episode lasts 500 steps whatever happens. With the same constant reward PPO learns nothing
there. That is the control every RLHF result here is compared with.
"""


def _curve(tracker: ReturnTracker) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    steps = np.array([step for step, _ in tracker.points])
    returns = [episodes.true_rewards.sum(axis=1) for _, episodes in tracker.points]
    return steps, np.array([r.mean() for r in returns]), np.array([r.std() for r in returns])


def run(args: LessonArgs) -> list[Path]:
    """Train PPO on +1 in both envs and plot their true returns."""
    explain("Lesson 4: the termination leak", TEXT)
    num_steps = args.budget(20_000, 1_024)
    runs = {
        "CartPole-v1: episode ends when the pole falls": lambda: gym.make("CartPole-v1"),
        "hfrl/CartPole-v0: every episode lasts 500 steps": None,
    }
    fig, ax = plt.subplots(figsize=(8.5, 5.2), layout="constrained")
    for (label, factory), colour in zip(runs.items(), ("tab:red", "tab:blue"), strict=True):
        note(f"PPO with a constant +1 reward on {label.split(':')[0]} ({num_steps} steps)")
        _, tracker = tracked_ppo(
            ENV,
            ConstantReward(),
            num_env_steps=num_steps,
            seed=args.seed,
            overrides=args.ppo_overrides,
            num_evaluations=args.budget(8, 2),
            num_episodes=args.budget(5, 2),
            train_env=factory,
        )
        steps, mean, std = _curve(tracker)
        ax.plot(steps, mean, marker="o", color=colour, label=label)
        ax.fill_between(steps, mean - std, mean + std, color=colour, alpha=0.15)
        print(f"     final true return {mean[-1]:.0f} of 500")
    ax.set_ylim(0, 520)
    ax.set_xlabel("env steps of PPO")
    ax.set_ylabel("true return: steps balanced (of 500)")
    ax.set_title(
        "Same cart and pole, same +1 reward on every step:\nonly early termination teaches PPO"
    )
    ax.legend(loc="center right")
    return [save_figure(fig, args.out / "termination_leak.png")]

"""Lesson 6, reward hacking: a reward model fit on few labels, optimised for long.

PPO starts from a policy cloned from a beginner's demonstrations (it keeps the pole up for a
while; lesson 8 tells its story), so a fall of the true return can be seen. A scripted teacher
answers a few questions (10 by default) about clips of that policy, judged by the true task,
and PPO then optimises the learned reward with no KL penalty for long. The figure tracks the
learned return (what PPO optimises) and the true return (what was wanted), both from the
start; the lesson's claims (``CLAIMS``) are checked on the first and last evaluations.

The labels are made for the run's settings (``--seed``, ``--labels``, ``--quick``): a store
the lesson made with other settings is made again (``lesson_labels``).

Functions:
    add_arguments: the lesson's own options.
    check_claims: the lesson's claims, decided on the learned and true returns.
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
    ask_teacher,
    explain,
    fit_reward_model,
    lesson_agent,
    lesson_labels,
    note,
    save_figure,
    start_from,
    train_tracked,
)
from agents.lessons.pipeline import FINE_TUNING, clone_clips, label_settings, pretrain
from hfrl_gym.store import LabelStore
from hfrl_gym.teachers import make_teacher

ENV = "hfrl/CartPole-v0"
NUM_LABELS = 10
"""Answers the reward model is fit on by default: few, as early in a project."""
EVAL_EPISODES = 20
"""Episodes of each evaluation (sampled actions; the same episode seeds each time)."""
TRUE_FALL = 50.0
"""Steps (of 500) by which the true return must fall for the claim to hold."""

CLAIMS = (
    Claim(
        "learned-return-rises",
        "PPO raises the learned return it optimises: at the end it is above its value at the "
        "start (the cloned policy's).",
    ),
    Claim(
        "true-return-falls",
        "Meanwhile the true return falls: at the end it is at least 50 steps (of 500) below its "
        "value at the start.",
    ),
)

TEXT = """
The reward model is only a model of what people want, and PPO is an optimiser: it finds
whatever the model rewards, mistakes included. Optimise a model fit on few labels for long
and the learned return keeps rising while the true return falls. This is reward hacking, or
overoptimisation (Gao et al. 2022 measured it for language models).

PPO starts from a policy that copied a beginner: it keeps the pole up for a while. A teacher
answers a few questions about clips of that policy, and PPO optimises the reward model fit
on them, with nothing to hold it back. The reward model was right about the clips it saw;
PPO goes where it saw none. Watch the two curves part. The cures: more and more varied
labels, new labels of the agent's newest behaviour in every round (the loop of `hfrl
train`), and a KL penalty that keeps the agent near a trusted policy (lesson 8).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--labels", type=int, help=f"answers to fit on (default {NUM_LABELS})")
    parser.add_argument("--steps", type=int, help="PPO env steps (default 15000)")


def check_claims(learned: np.ndarray, true: np.ndarray) -> list[Checked]:
    """``CLAIMS`` decided on the mean learned and true return at each evaluation."""
    return [
        CLAIMS[0].check(
            learned[-1] > learned[0], f"learned return {learned[0]:.0f} -> {learned[-1]:.0f}"
        ),
        CLAIMS[1].check(
            true[-1] <= true[0] - TRUE_FALL, f"true return {true[0]:.0f} -> {true[-1]:.0f}"
        ),
    ]


def run(args: LessonArgs) -> list[Path]:
    """Clone, fit a reward model on few labels, optimise it, track learned and true return."""
    explain("Lesson 6: reward hacking", TEXT)
    args.out.mkdir(parents=True, exist_ok=True)
    pretrained = pretrain(args)
    num_labels = args.extra.get("labels") or args.budget(NUM_LABELS, 6)

    def fill(store: LabelStore) -> None:
        clips = clone_clips(pretrained, args.budget(40, 8), args.seed + 1)
        teacher = make_teacher("oracle", rng=np.random.default_rng(args.seed))
        ask_teacher(store, clips, num_labels, teacher, np.random.default_rng(args.seed))

    labelled = lesson_labels(args.out, fill, goal="task", settings=label_settings(args, num_labels))
    note(f"fitting the reward model on {len(labelled)} answers")
    model = fit_reward_model(ENV, labelled, seed=args.seed)
    num_steps = args.extra.get("steps") or args.budget(15_000, 512)
    note(f"PPO on the learned reward, no KL penalty ({num_steps} steps)")
    agent = lesson_agent(
        ENV, model, seed=args.seed, hyperparameters=args.quick_ppo(ENV) or FINE_TUNING
    )
    start_from(agent, pretrained, critic_warmup_steps=args.budget(2_048, 0))
    tracker = train_tracked(
        agent,
        num_steps,
        num_evaluations=args.budget(6, 1),
        num_episodes=args.budget(EVAL_EPISODES, 2),
    )
    steps = [step for step, _ in tracker.points]
    learned = np.array([e.learned_returns(model).mean() for _, e in tracker.points])
    true = np.array([e.true_rewards.sum(axis=1).mean() for _, e in tracker.points])
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.2), layout="constrained")
    axes[0].plot(steps, learned - learned[0], marker="o", color="tab:purple")
    axes[0].axhline(0, color="grey", linestyle=":", linewidth=1)
    axes[0].set_xlabel("env steps of PPO")
    axes[0].set_ylabel("learned return per episode, change since the start")
    axes[0].set_title("What PPO optimises: the learned return")
    axes[1].plot(steps, true, marker="o", color="tab:green")
    axes[1].set_ylim(0, 520)
    axes[1].set_xlabel("env steps of PPO")
    axes[1].set_ylabel("true return: steps balanced on the track (of 500)")
    axes[1].set_title("What was wanted: the true return")
    lying = float(np.mean(np.abs(tracker.points[-1][1].observations[:, :, 2]) >= 1.5))
    axes[1].text(
        0.98,
        0.95,
        f"at the end the pole lies on the track\n{lying:.0%} of the time",
        transform=axes[1].transAxes,
        ha="right",
        va="top",
        fontsize=11,
    )
    fig.suptitle(
        f"Reward hacking: PPO optimises a reward model fit on {len(labelled)} answers", fontsize=14
    )
    print(
        f"     learned return {learned[0]:.0f} -> {learned[-1]:.0f} (best {learned.max():.0f}); "
        f"true return {true[0]:.0f} -> {true[-1]:.0f}; at the end the pole lies on the track "
        f"{lying:.0%} of the time"
    )
    figure = save_figure(fig, args.out / "reward_hacking.png")
    report_claims(
        args.out, "reward-hacking", args.seed, check_claims(learned, true), quick=args.quick
    )
    return [figure]

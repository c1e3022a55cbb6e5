"""Lesson 6, reward hacking: a reward model fit on few labels, optimised for long.

PPO starts from a policy cloned from a beginner's demonstrations (it keeps the pole up for a
while; lesson 8 tells its story), so a fall of the true return can be seen. A scripted teacher
answers a few questions about clips of that policy, judged by the true task, and PPO then
optimises the learned reward with no KL penalty for long. The figure tracks the learned
return (what PPO optimises) and the true return (what was wanted).

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
    start_from,
    train_tracked,
)
from agents.lessons.pipeline import FINE_TUNING, clone_clips, pretrain
from hfrl_gym.store import LabelStore
from hfrl_gym.teachers import make_teacher

ENV = "hfrl/CartPole-v0"

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
    parser.add_argument("--labels", type=int, help="answers to fit on (default 20)")
    parser.add_argument("--steps", type=int, help="PPO env steps (default 15000)")


def run(args: LessonArgs) -> list[Path]:
    """Clone, fit a reward model on few labels, optimise it, track learned and true return."""
    explain("Lesson 6: reward hacking", TEXT)
    args.out.mkdir(parents=True, exist_ok=True)
    pretrained = pretrain(args)
    num_labels = args.extra.get("labels") or args.budget(20, 6)

    def fill(store: LabelStore) -> None:
        clips = clone_clips(pretrained, args.budget(40, 8), args.seed + 1)
        teacher = make_teacher("oracle", rng=np.random.default_rng(args.seed))
        ask_teacher(store, clips, num_labels, teacher, np.random.default_rng(args.seed))

    labelled = lesson_labels(args.out, fill, goal="task")
    note(f"fitting the reward model on {len(labelled)} answers")
    model = fit_reward_model(ENV, labelled, seed=args.seed)
    num_steps = args.extra.get("steps") or args.budget(15_000, 512)
    note(f"PPO on the learned reward, no KL penalty ({num_steps} steps)")
    agent = lesson_agent(
        ENV, model, seed=args.seed, hyperparameters=args.quick_ppo(ENV) or FINE_TUNING
    )
    start_from(agent, pretrained, critic_warmup_steps=args.budget(2_048, 0))
    tracker = train_tracked(
        agent, num_steps, num_evaluations=args.budget(8, 1), num_episodes=args.budget(10, 2)
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
        f"true return {true[0]:.0f} -> {true[-1]:.0f}; the pole lies on the track {lying:.0%} "
        "of the time: the reward model, fit on so few answers, overrates that"
    )
    return [save_figure(fig, args.out / "reward_hacking.png")]

"""Lesson 3, RL on the learned reward: PPO on it, on the true reward, and on two controls.

The env is Acrobot: a two-link arm whose task is to swing its tip above a line (the suite's
reward: -1 on every step below the line, 0 above). A scripted teacher compares clips the way a
person would at first, when no clip crosses the line yet: the higher the tip swings, the
better (the ``tip_height`` goal). PPO then trains four agents with the same budget: on the
reward learned from those answers, on the env's true reward, and on two controls that carry
no information about the task, a constant reward and an untrained (random) reward network
(a new one for each run: one random network is one draw of that control, and some happen to
reward swinging). All are evaluated on the true task and on the tip height.

One PPO run of an agent is a noisy measurement (a lucky run of the true reward can find the
line early, an unlucky run of the learned reward can peak and fall back), so each agent
trains ``--runs`` times (default 3, PPO seeds ``seed, seed + 100, ...``); the figure shows
the mean and the range of the runs, and the claims are decided on the means.

Functions:
    add_arguments: the lesson's own options.
    random_network: an untrained reward network, its output scaled like a fitted one's.
    check_claims: the lesson's claims, decided on the agents' mean curves.
    run: the lesson (``hfrl lesson`` calls it with the parsed options).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
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
    train_tracked,
)
from agents.reward_fitter import new_reward_model
from agents.rewards import ConstantReward
from hfrl_gym.clips import Clip
from hfrl_gym.envs import get_goal, make_env
from hfrl_gym.recording import record_random_clips
from hfrl_gym.reward_model import RewardModel
from hfrl_gym.reward_model.normalize import RewardScale, Standardizer
from hfrl_gym.store import LabelStore
from hfrl_gym.teachers import make_teacher
from hfrl_gym.wrappers.learned_reward import BatchRewardFunction

ENV = "hfrl/Acrobot-v0"
HORIZON = 500
RUNS = 3
"""PPO runs per agent at the default budget (``--runs``)."""
BEAT, NEAR, RISE = 10, 0.75, 0.2
"""The claims' lines: the learned reward's agent above the line at least ``BEAT`` steps more
than either control, at least ``NEAR`` of the true reward's agent; its tip height up by
``RISE``."""

LEARNED, TRUE, CONSTANT, RANDOM = (
    "RLHF: the learned reward",
    "the true reward (-1 below the line)",
    "control: constant reward +1",
    "control: an untrained reward network",
)
CLAIMS = (
    Claim(
        "learned-beats-controls",
        "The agent trained on the learned reward gets the tip above the line more often than "
        "both controls, PPO on a constant reward and PPO on an untrained (random) reward "
        f"network: by at least {BEAT} of {HORIZON} steps.",
    ),
    Claim(
        "learned-near-true",
        f"Within the same budget it does at least {NEAR:.0%} as well as PPO on the env's "
        "sparse true reward.",
    ),
    Claim(
        "swings-higher",
        "The learned reward teaches the agent to swing higher: its mean tip height rises by "
        f"at least {RISE} during training.",
    ),
)

TEXT = """
Now the agent learns from the reward model instead of the environment's reward. The env is
Acrobot, a two-link arm hanging down; the task is to swing the tip above the line. A beginner
never gets there, so "did it cross the line?" tells a person nothing about two beginners'
clips; they prefer the one that swings higher. The reward model learns that from their
answers, and PPO is trained on it.

Four agents train with the same number of steps: on the learned reward (RLHF), on the env's
true reward, and on two controls: a constant reward, and reward networks nobody trained. The
controls carry no information, so whatever they learn is not learning from feedback (a
random network can still happen to reward swinging, and Acrobot rewards any energetic arm
now and then: that is why the learned reward must beat it). All are scored by the true task:
steps with the tip above the line. Each agent trains a few times with other PPO seeds,
because one run of PPO is a noisy measurement.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--labels", type=int, help="preferences to learn from (default 100)")
    parser.add_argument("--steps", type=int, help="PPO env steps per agent (default 12000)")
    parser.add_argument(
        "--runs", type=int, help=f"PPO runs per agent, other seeds (default {RUNS})"
    )


def random_network(clips: list[Clip], *, seed: int) -> RewardModel:
    """An untrained reward network: the learned reward's model with random weights, its
    inputs and output standardised on the transitions of ``clips`` as a fitted model's are,
    so that it differs from the learned reward only in what the answers taught.
    """
    env = make_env(ENV)
    model = new_reward_model(ENV, env, num_members=3, device="cpu", seed=seed)
    env.close()
    features = np.concatenate([model.features.clip(clip) for clip in clips])
    model._set_input_normalizer(  # what a fit sets first (the model has no public setter)
        Standardizer.fit(features, continuous=model.features.continuous)
    )
    obs = np.concatenate([clip.observations[:-1] for clip in clips])
    next_obs = np.concatenate([clip.observations[1:] for clip in clips])
    actions = np.concatenate([clip.actions for clip in clips])
    model.reward_scale = RewardScale.fit(model.predict_rewards(obs, actions, next_obs))
    return model


def check_claims(above: dict[str, np.ndarray], height: dict[str, np.ndarray]) -> list[Checked]:
    """The claims, decided on each agent's steps above the line (``above``) and mean tip
    height (``height``): ``(runs, evaluations)`` arrays, each evaluation a mean over its
    episodes; the final evaluation is averaged over the runs."""
    beats, near, higher = CLAIMS
    final = {label: float(values[:, -1].mean()) for label, values in above.items()}
    learned, true = final[LEARNED], final[TRUE]
    best_control = max(final[CONSTANT], final[RANDOM])
    runs = len(above[LEARNED])
    rise = float(height[LEARNED][:, -1].mean() - height[LEARNED][:, 0].mean())
    return [
        beats.check(
            learned - best_control >= BEAT,
            f"steps above the line, mean of {runs} runs: learned reward {learned:.0f}, "
            f"constant {final[CONSTANT]:.0f}, random network {final[RANDOM]:.0f}",
        ),
        near.check(
            learned >= NEAR * true,
            f"learned reward {learned:.0f}, true reward {true:.0f} steps above the line"
            + (f" ({learned / true:.0%})" if true > 0 else ""),
        ),
        higher.check(
            rise >= RISE,
            f"mean tip height {height[LEARNED][:, 0].mean():+.2f} -> "
            f"{height[LEARNED][:, -1].mean():+.2f}",
        ),
    ]


def run(args: LessonArgs) -> list[Path]:
    """Fit the reward model, train the four agents, plot their true returns, check the claims."""
    explain("Lesson 3: RL on the learned reward", TEXT)
    goal = get_goal(ENV, "tip_height")
    num_labels = args.extra.get("labels") or args.budget(100, 10)

    def fill(store: LabelStore) -> None:
        clips = record_random_clips(
            ENV, num_clips=args.budget(100, 12), clip_num_steps=25, seed=args.seed
        )
        teacher = make_teacher("oracle", goal=goal, rng=np.random.default_rng(args.seed))
        ask_teacher(store, clips, num_labels, teacher, np.random.default_rng(args.seed))

    settings = {"seed": args.seed, "quick": args.quick, "labels": num_labels}
    labelled = lesson_labels(args.out, fill, goal=goal.name, settings=settings)
    note(f"fitting the reward model on {len(labelled)} answers (who swings higher)")
    model = fit_reward_model(ENV, labelled, seed=args.seed)
    clips = list({c.uid: c for pair, _ in labelled for c in (pair.left, pair.right)}.values())
    num_steps = args.extra.get("steps") or args.budget(12_000, 512)
    num_runs = args.extra.get("runs") or args.budget(RUNS, 1)
    runs: dict[str, tuple[Callable[[int], BatchRewardFunction | None], str]] = {
        LEARNED: (lambda index: model, "tab:purple"),
        TRUE: (lambda index: None, "tab:green"),
        CONSTANT: (lambda index: ConstantReward(), "tab:grey"),
        # a new random network for each run: one network is one draw of the control
        RANDOM: (
            lambda index: random_network(clips, seed=args.seed + 7 + 100 * index),
            "tab:brown",
        ),
    }
    above: dict[str, np.ndarray] = {}
    height: dict[str, np.ndarray] = {}
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.2), layout="constrained")
    for label, (reward, colour) in runs.items():  # reward: of each run
        note(f"PPO on {label} ({num_runs} runs of {num_steps} steps)")
        curves_above, curves_height = [], []
        for index in range(num_runs):
            agent = lesson_agent(
                ENV,
                reward(index),
                seed=args.seed + 100 * index,
                hyperparameters=args.quick_ppo(ENV),
            )
            tracker = train_tracked(
                agent, num_steps, num_evaluations=args.budget(4, 1), num_episodes=args.budget(8, 2)
            )
            steps = [step for step, _ in tracker.points]
            curves_above.append(
                [HORIZON + e.true_rewards.sum(axis=1).mean() for _, e in tracker.points]
            )
            curves_height.append(
                [e.goal_returns(ENV, goal.name).mean() / HORIZON for _, e in tracker.points]
            )
        above[label], height[label] = np.array(curves_above), np.array(curves_height)
        for ax, values in zip(axes, (above[label], height[label]), strict=True):
            ax.plot(steps, values.mean(axis=0), marker="o", color=colour, label=label)
            ax.fill_between(steps, values.min(axis=0), values.max(axis=0), color=colour, alpha=0.15)
        print(
            f"     {label}: {above[label][:, -1].mean():.0f} of {HORIZON} steps above the line "
            f"(runs: {', '.join(f'{v:.0f}' for v in above[label][:, -1])})"
        )
    axes[0].set_xlabel("env steps of PPO")
    axes[0].set_ylabel(f"true return + {HORIZON}: steps with the tip above the line")
    axes[0].set_title(f"The true task (mean of {num_runs} PPO runs; band: their range)")
    axes[0].legend(loc="upper left", fontsize="small")
    axes[1].axhline(0.5, color="black", linestyle="--", linewidth=1, label="the line")
    axes[1].set_xlabel("env steps of PPO")
    axes[1].set_ylabel("mean tip height per step (-1 hanging, 0 level, 1 straight up)")
    axes[1].set_title("What the people judged: how high the tip swings")
    axes[1].legend(loc="upper left", fontsize="small")
    fig.suptitle(
        f"PPO on a reward learned from {len(labelled)} preferences vs the true reward and two "
        "controls (same budget)",
        fontsize=13,
    )
    figure = save_figure(fig, args.out / "learned_reward.png")
    report_claims(
        args.out, "learned-reward", args.seed, check_claims(above, height), quick=args.quick
    )
    return [figure]

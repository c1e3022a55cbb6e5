"""Lesson 4, the termination leak: a constant reward solves CartPole if episodes end early.

PPO gets +1 on every step, whatever it does, in two versions of CartPole with the same
physics: one whose episodes end when the pole falls, as Gymnasium's ``CartPole-v1``'s do, and
the suite's ``hfrl/CartPole-v0``, whose episodes always last 500 steps. Both policies are
evaluated in the fixed-horizon env by the true reward (steps balanced out of 500). Both
agents use RL Zoo's PPO settings tuned for Gymnasium's ``CartPole-v1`` (the suite's own
CartPole settings were retuned for the fixed horizon): on the early-ending env the constant
reward is then exactly ``CartPole-v1``'s, and PPO solves it within the lesson's budget.

The early-ending env is the suite env under :class:`EndWhenFallen`, which ends its episodes
on the step ``CartPole-v1`` does, after the same observations. Gymnasium's own env cannot be
a training env of the loop (``agents.ppo.make_training_venv``): it cannot restore its state,
so ``RecordClips`` would have to keep a frame of every step.

Classes:
    EndWhenFallen: end a suite CartPole's episode where Gymnasium's CartPole-v1 ends it.

Functions:
    check_claims: the lesson's claims, decided on the two agents' final true returns.
    run: the lesson (``hfrl lesson`` calls it with the parsed options).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np

from agents.lessons.claims import Checked, Claim, report_claims
from agents.lessons.common import (
    LessonArgs,
    ReturnTracker,
    explain,
    lesson_agent,
    note,
    save_figure,
    train_tracked,
)
from agents.ppo import PPOHyperparameters, ppo_settings
from agents.rewards import ConstantReward
from hfrl_gym.envs import make_env

ENV = "hfrl/CartPole-v0"
HORIZON = 500
STEPS = 30_000
"""PPO's env steps per agent at the default budget."""
V1_PPO: PPOHyperparameters = dataclasses.replace(
    ppo_settings(ENV).ppo, n_steps=32, gamma=0.98, ent_coef=0.0
)
"""RL Zoo's settings for ``CartPole-v1``: the suite's CartPole settings with the three values
that were changed for the fixed horizon (n_steps, gamma, ent_coef) as the zoo tuned them."""
LEARNS, FLAT = 150, 50
"""The claims' lines: the early-ending env's agent balances at least ``LEARNS`` of 500 steps,
the suite env's at most ``FLAT`` (a random policy balances about 20)."""

CLAIMS = (
    Claim(
        "leak-teaches-v1",
        "On CartPole-v1, whose episodes end when the pole falls, the constant +1 reward teaches "
        f"PPO to balance: at least {LEARNS} of {HORIZON} steps at the end (a random policy: "
        "about 20).",
    ),
    Claim(
        "nothing-on-suite",
        "On the fixed-horizon suite env the same reward teaches nothing: at most "
        f"{FLAT} of {HORIZON} steps at the end.",
    ),
)

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


class EndWhenFallen(gym.Wrapper):
    """End a suite CartPole's episode where Gymnasium's ``CartPole-v1`` ends it.

    The episode ends (``terminated``) once the pole leans more than 12 degrees or the cart
    reaches the end of the track; until then the suite env's dynamics are Gymnasium's. Only
    the last observation can differ: a cart that leaves the track is shown stopped at its
    end (the suite's wall). PPO does not learn from it: a terminal observation is never
    bootstrapped from, and the lesson's reward is constant.

    Example:
        >>> actions = np.random.default_rng(0).integers(2, size=500)
        >>> def episode(env):
        ...     observations = [env.reset(seed=3)[0]]
        ...     for action in actions:
        ...         obs, _, terminated, truncated, _ = env.step(int(action))
        ...         observations.append(obs)
        ...         if terminated or truncated:
        ...             return np.array(observations)
        >>> ours, gymnasium_v1 = episode(EndWhenFallen(make_env(ENV))), episode(
        ...     gym.make("CartPole-v1"))
        >>> len(ours), np.array_equal(ours, gymnasium_v1)
        (24, True)
    """

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Step the suite env; ``terminated`` once the pole has fallen or the cart left."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        cart = self.env.unwrapped
        x, theta = float(cart.state[0]), float(cart.state[2])
        fallen = abs(x) >= cart.x_threshold or abs(theta) > cart.theta_threshold_radians
        return obs, reward, terminated or fallen, truncated, info


def _curve(tracker: ReturnTracker) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    steps = np.array([step for step, _ in tracker.points])
    returns = [episodes.true_rewards.sum(axis=1) for _, episodes in tracker.points]
    return steps, np.array([r.mean() for r in returns]), np.array([r.std() for r in returns])


def check_claims(v1: np.ndarray, suite: np.ndarray) -> list[Checked]:
    """The claims, decided on the final evaluation's true returns of the agent trained on
    the early-ending env (``v1``) and of the one trained on the suite env (``suite``)."""
    leak, flat = CLAIMS
    return [
        leak.check(
            v1.mean() >= LEARNS,
            f"CartPole-v1 agent: {v1.mean():.0f} of {HORIZON} (sd {v1.std():.0f}, "
            f"{len(v1)} episodes)",
        ),
        flat.check(
            suite.mean() <= FLAT,
            f"suite env agent: {suite.mean():.0f} of {HORIZON} (sd {suite.std():.0f}, "
            f"{len(suite)} episodes)",
        ),
    ]


def run(args: LessonArgs) -> list[Path]:
    """Train PPO on +1 in both envs, plot their true returns, check the claims."""
    explain("Lesson 4: the termination leak", TEXT)
    num_steps = args.budget(STEPS, 1_024)
    runs = {
        "CartPole-v1: episode ends when the pole falls": lambda: EndWhenFallen(make_env(ENV)),
        "hfrl/CartPole-v0: every episode lasts 500 steps": None,
    }
    fig, ax = plt.subplots(figsize=(8.5, 5.2), layout="constrained")
    finals = []
    for (label, factory), colour in zip(runs.items(), ("tab:red", "tab:blue"), strict=True):
        note(f"PPO with a constant +1 reward on {label.split(':')[0]} ({num_steps} steps)")
        agent = lesson_agent(
            ENV,
            ConstantReward(),
            seed=args.seed,
            hyperparameters=args.quick_ppo(ENV) or V1_PPO,
            env_factory=factory,
        )
        tracker = train_tracked(
            agent, num_steps, num_evaluations=args.budget(6, 2), num_episodes=args.budget(10, 2)
        )
        steps, mean, std = _curve(tracker)
        finals.append(tracker.points[-1][1].true_rewards.sum(axis=1))
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
    figure = save_figure(fig, args.out / "termination_leak.png")
    report_claims(args.out, "termination-leak", args.seed, check_claims(*finals), quick=args.quick)
    return [figure]

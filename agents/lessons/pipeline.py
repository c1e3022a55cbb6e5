"""Lesson 8, the whole pipeline as in large language models: BC, a reward model, PPO + KL.

1. Pretrain: behaviour cloning of demonstrations gives the pretrained policy, as supervised
   fine-tuning does for a language model. The demonstrations are a scripted beginner's (it
   keeps the pole up but ignores where the cart goes, so it rolls off the track; it acts at
   random a quarter of the time), or the episodes a person played with ``hfrl play`` into
   ``--store``.
2. A reward model is fit on a scripted teacher's preferences (30 by default, ``--labels``)
   between clips of the pretrained policy, judged by ``--goal`` (default: the task).
3. PPO fine-tunes the pretrained policy on the learned reward with a KL penalty to it, once
   per coefficient ``beta``; the figure shows what each ``beta`` buys: goal return against the
   KL divergence from the pretrained policy.

The cloned policy is saved as ``bc_policy.pt`` (tensors plus ``bc_policy.json``):
``hfrl train --reference`` can start from it.

Functions:
    beginner: the scripted beginner who demonstrates (pole up, cart left to roll away).
    pretrain: behaviour cloning of the beginner (or of a person's played clips).
    clone_clips: clips of the cloned policy, the ones people compare.
    add_arguments: the lesson's own options.
    run: the lesson (``hfrl lesson`` calls it with the parsed options).
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from stable_baselines3 import PPO

from agents.bc import stored_demonstrations
from agents.kl_penalty import KLPenalty, mean_kl
from agents.lessons.common import (
    LessonArgs,
    ReturnTracker,
    ask_teacher,
    cloned_policy,
    explain,
    fit_reward_model,
    lesson_agent,
    lesson_labels,
    note,
    run_episodes,
    save_figure,
    start_from,
    train_tracked,
)
from agents.policy_file import save_policy
from agents.ppo import ppo_settings
from hfrl_gym.clips import Clip
from hfrl_gym.envs import get_goal
from hfrl_gym.recording import record_clips
from hfrl_gym.reward_model import RewardModel
from hfrl_gym.store import LabelStore
from hfrl_gym.teachers import make_teacher

ENV = "hfrl/CartPole-v0"
FINE_TUNING = dataclasses.replace(ppo_settings(ENV).ppo, learning_rate=3e-4, n_epochs=10)
"""PPO's settings of ``ENV`` with a constant, gentler learning rate and fewer epochs than for
training from scratch: fine-tuning must not wreck the clone."""
COLOURS = ("tab:red", "tab:orange", "tab:green", "tab:blue")

TEXT = """
This is how chat assistants are trained, in miniature. First, pretraining by imitation: a
policy learns to copy demonstrations (behaviour cloning; for a language model, supervised
fine-tuning on written answers). Our demonstrator is a beginner: it keeps the pole up but
does not watch the cart, which rolls off the track, and the clone copies that habit too.
Second, people compare clips of the cloned policy and a reward model learns what they prefer:
clips where the pole stays up on the track. It gets only 30 answers, as early in any
project. Third, PPO improves the cloned policy on the learned reward.

The third step has a leash. At each step the agent pays beta * (log pi(a|s) - log
pi_ref(a|s)), on average beta times the KL divergence between the new policy and the cloned
one. With beta = 0 it may go anywhere the reward model leads, even where the model is wrong
(lesson 6); with a large beta it hardly moves. The figure shows the trade-off: how much
reward each beta buys, and how far from the cloned behaviour it goes.
"""


def beginner(obs: np.ndarray, rng: np.random.Generator) -> int:
    """Pushes the cart under the falling pole, ignoring where the cart is; random 25%."""
    if rng.random() < 0.25:
        return int(rng.integers(2))
    return int(obs[2] + 0.5 * obs[3] > 0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store", type=Path, help="clone the episodes you played here (`hfrl play`) instead"
    )
    parser.add_argument("--goal", default="task", help="what the preferences ask for (task)")
    parser.add_argument("--labels", type=int, help="preferences to fit on (default 30)")
    parser.add_argument(
        "--kl-coefs",
        type=lambda text: [float(v) for v in text.split(",")],
        default=[0.0, 1.0, 10.0],
        help="KL coefficients beta to compare, comma-separated (default 0,1,10)",
    )


def pretrain(args: LessonArgs) -> PPO:
    """The cloned policy: of ``--store``'s played clips if given, else of the beginner."""
    store_path = args.extra.get("store")
    if store_path is not None:
        with LabelStore(store_path, create=False) as store:
            demos = stored_demonstrations(store, env_id=ENV)
        note(f"cloning your {len(demos)} played clips from {store_path}")
    else:
        demos = record_clips(
            ENV,
            num_clips=args.budget(30, 6),
            clip_num_steps=50,
            seed=args.seed,
            policy=beginner,
            policy_name="beginner",
        )
        note(f"cloning {len(demos)} clips of a scripted beginner (it lets the cart roll away)")
    pretrained, agreement = cloned_policy(ENV, demos, seed=args.seed)
    note(f"the clone takes the demonstrator's action {agreement:.0%} of the time")
    return pretrained


def clone_clips(pretrained: PPO, num_clips: int, seed: int) -> list[Clip]:
    """Clips of the pretrained policy (sampled actions), the data people would compare."""
    return record_clips(
        ENV,
        num_clips=num_clips,
        clip_num_steps=50,
        seed=seed,
        policy=lambda obs, rng: pretrained.predict(obs, deterministic=False)[0],
        policy_name="pretrained",
    )


def run(args: LessonArgs) -> list[Path]:
    """Pretrain, fit the reward model, fine-tune with each KL coefficient, draw."""
    explain("Lesson 8: the whole pipeline, as for language models", TEXT)
    goal = args.extra.get("goal", "task")
    get_goal(ENV, goal)
    args.out.mkdir(parents=True, exist_ok=True)
    pretrained = pretrain(args)
    save_policy(pretrained, args.out / "bc_policy.pt", env_id=ENV)

    def fill(store: LabelStore) -> None:
        clips = clone_clips(pretrained, args.budget(60, 12), args.seed + 1)
        teacher = make_teacher("oracle", goal=get_goal(ENV, goal), rng=np.random.default_rng(0))
        num_labels = args.extra.get("labels") or args.budget(30, 10)
        ask_teacher(store, clips, num_labels, teacher, np.random.default_rng(args.seed))

    labelled = lesson_labels(args.out, fill, goal=goal)
    note(f"fitting the reward model on {len(labelled)} preferences for goal {goal!r}")
    reward_model = fit_reward_model(ENV, labelled, seed=args.seed)
    start = run_episodes(pretrained, ENV, num_episodes=args.budget(10, 2), seed=10_000 + args.seed)
    num_steps = args.budget(12_000, 512)
    results = []
    for kl_coef in args.extra.get("kl_coefs") or [0.0, 1.0, 10.0]:
        note(f"PPO fine-tuning with beta = {kl_coef:g} ({num_steps} steps)")
        penalty = KLPenalty(pretrained.policy, kl_coef)
        agent = lesson_agent(
            ENV, reward_model, seed=args.seed, hyperparameters=args.quick_ppo(ENV) or FINE_TUNING
        )
        start_from(agent, pretrained, critic_warmup_steps=args.budget(2_048, 0))
        agent.extra_callbacks.append(penalty)
        tracker = train_tracked(
            agent, num_steps, num_evaluations=args.budget(6, 1), num_episodes=args.budget(10, 2)
        )
        final = tracker.points[-1][1]
        result = Result(
            beta=kl_coef,
            tracker=tracker,
            penalty=penalty,
            kl=mean_kl(agent.ppo.policy, pretrained.policy, final.observations.reshape(-1, 4)),
        )
        results.append(result)
        print(
            f"     beta {kl_coef:g}: {goal} return {result.goal(goal)[-1]:.0f}, learned return "
            f"{result.learned(reward_model)[-1]:.0f}, KL to the cloned policy {result.kl:.3f}"
        )
    baseline = (start.goal_returns(ENV, goal).mean(), start.learned_returns(reward_model).mean())
    return [_draw(results, goal, reward_model, baseline, args.out / "pipeline.png")]


@dataclass
class Result:
    """One fine-tuning run: its coefficient, evaluations, KL history and final KL."""

    beta: float
    tracker: ReturnTracker
    penalty: KLPenalty
    kl: float

    def steps(self) -> list[int]:
        """Env steps of each evaluation."""
        return [step for step, _ in self.tracker.points]

    def goal(self, goal: str) -> np.ndarray:
        """Mean return under ``goal`` at each evaluation."""
        return np.array([e.goal_returns(ENV, goal).mean() for _, e in self.tracker.points])

    def learned(self, model: RewardModel) -> np.ndarray:
        """Mean learned return at each evaluation."""
        return np.array([e.learned_returns(model).mean() for _, e in self.tracker.points])


def _draw(
    results: list[Result],
    goal: str,
    model: RewardModel,
    baseline: tuple[float, float],
    path: Path,
) -> Path:
    """Learned and true return and KL during fine-tuning; the final trade-off."""
    start_goal, start_learned = baseline
    what = "true return (steps balanced on the track)" if goal == "task" else f"{goal!r} return"
    fig, axes = plt.subplots(2, 2, figsize=(14, 9.5), layout="constrained")
    (learned_ax, goal_ax), (kl_ax, trade_ax) = axes
    for result, colour in zip(results, COLOURS, strict=False):
        label = f"beta = {result.beta:g}"
        learned = result.learned(model)
        learned_ax.plot(
            result.steps(), learned - start_learned, marker="o", color=colour, label=label
        )
        goal_ax.plot(result.steps(), result.goal(goal), marker="o", color=colour, label=label)
        history = result.penalty.history
        kl_ax.plot(
            [h.num_timesteps for h in history],
            [h.mean_kl for h in history],
            color=colour,
            label=label,
        )
        final = result.goal(goal)[-1]
        trade_ax.scatter(result.kl, final, s=150, color=colour, label=label)
        trade_ax.annotate(
            f"learned {learned[-1] - start_learned:+.0f}",
            (result.kl, final),
            xytext=(12, 0),
            textcoords="offset points",
            fontsize=10,
            va="center",
        )
    trade_ax.scatter(0, start_goal, s=150, color="grey", label="the cloned policy")
    learned_ax.axhline(0, color="grey", linestyle=":", label="the cloned policy")
    goal_ax.axhline(start_goal, color="grey", linestyle=":", label="the cloned policy")
    learned_ax.set_ylabel("learned return, change from the cloned policy")
    learned_ax.set_title("What PPO optimises: the learned reward")
    goal_ax.set_ylabel(what)
    goal_ax.set_title("What was wanted")
    kl_ax.set_ylabel("mean KL(pi || pi_cloned) on its rollouts (nats per step)")
    kl_ax.set_title("How far the policy moves from the cloned one")
    for ax in (learned_ax, goal_ax, kl_ax):
        ax.set_xlabel("env steps of PPO fine-tuning")
        ax.legend(fontsize="small")
    trade_ax.set_xlabel("KL(pi || pi_cloned) at the end (nats per step)")
    trade_ax.set_ylabel(what)
    trade_ax.set_title("The trade-off at the end (beside each point: learned return gained)")
    trade_ax.legend(fontsize="small")
    fig.suptitle("Behaviour cloning, then RLHF with a KL penalty to the cloned policy", fontsize=14)
    return save_figure(fig, path)

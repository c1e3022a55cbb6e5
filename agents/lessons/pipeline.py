"""Lesson 8, the whole pipeline as in large language models: BC, a reward model, PPO + KL.

1. Pretrain: behaviour cloning of demonstrations gives the pretrained policy, as supervised
   fine-tuning does for a language model. The demonstrations are a scripted beginner's (it
   keeps the pole up but ignores where the cart goes, so it rolls off the track; it acts at
   random a quarter of the time), or the episodes a person played with ``hfrl play`` into
   ``--store``.
2. A reward model is fit on a scripted teacher's preferences (30 by default, ``--labels``)
   between clips of the pretrained policy, judged by ``--goal`` (default: the task).
3. PPO fine-tunes the pretrained policy on the learned reward with a KL penalty to it, once
   per coefficient ``beta`` (0, 3 and 10 by default). The clone is evaluated once, and
   every change (learned return gained, goal return) is measured from that one evaluation,
   in the printout and the figure alike; the figure's last panel is the trade-off: learned
   return gained against the KL divergence from the clone, per ``beta``. The lesson's claims
   (``CLAIMS``) are checked on that sweep.

The cloned policy is saved as ``bc_policy.pt`` (tensors plus ``bc_policy.json``):
``hfrl train --reference`` can start from it.

Classes:
    Baseline: the clone's one evaluation.
    Result: one fine-tuning run.

Functions:
    beginner: the scripted beginner who demonstrates (pole up, cart left to roll away).
    pretrain: behaviour cloning of the beginner (or of a person's played clips).
    clone_clips: clips of the cloned policy, the ones people compare.
    label_settings: what a lesson's scripted labels of the clone depend on.
    add_arguments: the lesson's own options.
    check_claims: the lesson's claims, decided on the sweep.
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
from agents.evaluate import Episodes
from agents.kl_penalty import KLPenalty, mean_kl
from agents.lessons.claims import Checked, Claim, report_claims
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
KL_COEFS = (0.0, 3.0, 10.0)
"""The default sweep of beta: none, a middle one, and one that keeps the clone. (beta = 1
costs about 0.05 per step where the learned reward gains several: no leash at this scale,
its run is beta = 0's again.)"""
EVAL_EPISODES = 20
"""Episodes of each evaluation of a beta's policy as it learns."""
FINAL_EPISODES = 100
"""Episodes of the clone's one evaluation and of each beta's final policy: the numbers that
are printed, checked and drawn as the trade-off (a learned return varies by hundreds from
one episode to the next, so 20 episodes would show a policy that stayed the clone gaining
hundreds)."""
NEAR_KL = 0.01
"""KL (nats per step) under which a policy counts as staying near the clone."""
COLOURS = ("tab:red", "tab:orange", "tab:green", "tab:blue", "tab:purple", "tab:brown")

CLAIMS = (
    Claim(
        "beta0-drifts-furthest-gains-most",
        "With β = 0 the agent drifts furthest from the clone (the largest KL at the end) and "
        "gains the most learned return (both measured from the clone, evaluated once).",
    ),
    Claim(
        "large-beta-stays-near",
        "With the largest β of the sweep it stays near the clone: its KL at the end is under "
        "0.01 nats per step.",
    ),
    Claim(
        "middle-beta-between",
        "A middle β lies between on both: less drift and less learned return gained than "
        "β = 0, more of both than the largest β.",
    ),
)

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
(lesson 6); with a large beta it hardly moves; a middle beta buys some reward for some
drift. The figure shows the trade-off: how much learned reward each beta buys, and how far
from the cloned behaviour it goes, both measured from one evaluation of the clone.
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
        type=_kl_coefs,
        help="KL coefficients beta to compare, comma-separated (default "
        f"{','.join(f'{beta:g}' for beta in KL_COEFS)}); the claims need 0, a middle one and a "
        "largest",
    )


def _kl_coefs(text: str) -> list[float]:
    """``--kl-coefs 0,1,10``: non-negative numbers."""
    try:
        values = [float(value) for value in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not numbers: {text!r} (e.g. 0,1,3,10)") from None
    if not values or any(not np.isfinite(v) or v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"KL coefficients are numbers >= 0, got {text!r}")
    return values


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
    """Pretrain, fit the reward model, fine-tune with each KL coefficient, draw, check."""
    explain("Lesson 8: the whole pipeline, as for language models", TEXT)
    goal = args.extra.get("goal", "task")
    get_goal(ENV, goal)
    kl_coefs = sorted(set(args.extra.get("kl_coefs") or KL_COEFS))
    args.out.mkdir(parents=True, exist_ok=True)
    pretrained = pretrain(args)
    save_policy(pretrained, args.out / "bc_policy.pt", env_id=ENV)
    num_labels = args.extra.get("labels") or args.budget(30, 10)

    def fill(store: LabelStore) -> None:
        clips = clone_clips(pretrained, args.budget(60, 12), args.seed + 1)
        teacher = make_teacher("oracle", goal=get_goal(ENV, goal), rng=np.random.default_rng(0))
        ask_teacher(store, clips, num_labels, teacher, np.random.default_rng(args.seed))

    labelled = lesson_labels(args.out, fill, goal=goal, settings=label_settings(args, num_labels))
    note(f"fitting the reward model on {len(labelled)} preferences for goal {goal!r}")
    reward_model = fit_reward_model(ENV, labelled, seed=args.seed)
    num_episodes = args.budget(FINAL_EPISODES, 2)
    clone = run_episodes(pretrained, ENV, num_episodes=num_episodes, seed=10_000 + args.seed)
    baseline = Baseline(
        goal=float(clone.goal_returns(ENV, goal).mean()),
        learned=float(clone.learned_returns(reward_model).mean()),
    )
    note(
        f"the clone, evaluated once on {num_episodes} episodes (every beta is measured from "
        f"it): {goal} return {baseline.goal:.0f}, learned return {baseline.learned:.0f}"
    )
    num_steps = args.budget(12_000, 512)
    results = []
    for kl_coef in kl_coefs:
        note(f"PPO fine-tuning with beta = {kl_coef:g} ({num_steps} steps)")
        penalty = KLPenalty(pretrained.policy, kl_coef)
        agent = lesson_agent(
            ENV, reward_model, seed=args.seed, hyperparameters=args.quick_ppo(ENV) or FINE_TUNING
        )
        start_from(agent, pretrained, critic_warmup_steps=args.budget(2_048, 0))
        agent.extra_callbacks.append(penalty)
        tracker = train_tracked(
            agent,
            num_steps,
            num_evaluations=args.budget(4, 1),
            num_episodes=args.budget(EVAL_EPISODES, 2),
        )
        final = run_episodes(agent.ppo, ENV, num_episodes=num_episodes, seed=10_000 + args.seed)
        obs = final.observations.reshape(-1, final.observations.shape[-1])
        result = Result(
            beta=kl_coef,
            tracker=tracker,
            penalty=penalty,
            kl=mean_kl(agent.ppo.policy, pretrained.policy, obs),
            final=final,
        )
        results.append(result)
        gained = result.learned(reward_model)[-1] - baseline.learned
        print(
            f"     beta {kl_coef:g}: learned return {gained:+.0f}"
            f" from the clone, {goal} return {result.goal(goal)[-1]:.0f} (the clone "
            f"{baseline.goal:.0f}), KL to the clone {result.kl:.3f} nats per step"
        )
    figure = _draw(results, goal, reward_model, baseline, args.out / "pipeline.png")
    sweep = {r.beta: (r.kl, float(r.learned(reward_model)[-1] - baseline.learned)) for r in results}
    report_claims(args.out, "full-pipeline", args.seed, check_claims(sweep), quick=args.quick)
    return [figure]


def label_settings(args: LessonArgs, num_labels: int) -> dict[str, object]:
    """What the lesson's scripted labels depend on (their store is made again when it
    changes): the seed, the budget, the number of labels and the demonstrations."""
    store = args.extra.get("store")
    return {
        "seed": args.seed,
        "quick": args.quick,
        "labels": num_labels,
        "store": None if store is None else str(store),
    }


@dataclass(frozen=True)
class Baseline:
    """The cloned policy, evaluated once: every beta's changes are measured from it."""

    goal: float
    learned: float


@dataclass
class Result:
    """One fine-tuning run: its coefficient, evaluations, KL history and final KL.

    The evaluations after the start (the start is the clone's shared evaluation) are the
    tracker's, its last one replaced by ``final``, the final policy's longer evaluation.
    """

    beta: float
    tracker: ReturnTracker
    penalty: KLPenalty
    kl: float
    final: Episodes

    def _evaluations(self) -> list[tuple[int, Episodes]]:
        return [*self.tracker.points[1:-1], (self.tracker.points[-1][0], self.final)]

    def steps(self) -> list[int]:
        """Env steps of each evaluation after the start."""
        return [step for step, _ in self._evaluations()]

    def goal(self, goal: str) -> np.ndarray:
        """Mean return under ``goal`` at each evaluation after the start."""
        return np.array([e.goal_returns(ENV, goal).mean() for _, e in self._evaluations()])

    def learned(self, model: RewardModel) -> np.ndarray:
        """Mean learned return at each evaluation after the start."""
        return np.array([e.learned_returns(model).mean() for _, e in self._evaluations()])


def check_claims(sweep: dict[float, tuple[float, float]]) -> list[Checked]:
    """``CLAIMS`` decided on the sweep: ``beta -> (KL at the end, learned return gained)``.

    Example:
        >>> sweep = {0.0: (0.09, 3000.0), 3.0: (0.02, 900.0), 10.0: (0.001, 20.0)}
        >>> [claim.held for claim in check_claims(sweep)]
        [True, True, True]
        >>> sweep[3.0] = (0.1, 900.0)  # the middle beta drifts further than beta = 0
        >>> [claim.held for claim in check_claims(sweep)]
        [False, True, False]
    """
    evidence = ", ".join(
        f"beta {beta:g}: KL {kl:.3f}, learned {gain:+.0f}" for beta, (kl, gain) in sweep.items()
    )
    first, last = min(sweep), max(sweep)
    middles = [beta for beta in sweep if first < beta < last]
    if first != 0 or not middles:
        missing = f"this sweep ({evidence}) has no beta = 0 or no middle beta"
        return [claim.check(False, missing) for claim in CLAIMS]
    kl0, gain0 = sweep[0]
    kl_last, gain_last = sweep[last]
    others = [sweep[beta] for beta in sweep if beta != 0]
    return [
        CLAIMS[0].check(all(kl0 > kl and gain0 > gain for kl, gain in others), evidence),
        CLAIMS[1].check(kl_last < NEAR_KL, evidence),
        CLAIMS[2].check(
            all(
                kl_last < sweep[beta][0] < kl0 and gain_last < sweep[beta][1] < gain0
                for beta in middles
            ),
            evidence,
        ),
    ]


def _draw(
    results: list[Result], goal: str, model: RewardModel, baseline: Baseline, path: Path
) -> Path:
    """Learned and goal return and KL during fine-tuning, each from the one evaluation of the
    clone; the trade-off at the end: learned return gained against the KL from the clone."""
    what = "true return (steps balanced on the track)" if goal == "task" else f"{goal!r} return"
    fig, axes = plt.subplots(2, 2, figsize=(14, 9.5), layout="constrained")
    (learned_ax, goal_ax), (kl_ax, trade_ax) = axes
    for result, colour in zip(results, COLOURS, strict=False):
        label = f"beta = {result.beta:g}"
        steps = [0, *result.steps()]
        gained = np.concatenate([[0.0], result.learned(model) - baseline.learned])
        goal_returns = np.concatenate([[baseline.goal], result.goal(goal)])
        learned_ax.plot(steps, gained, marker="o", color=colour, label=label)
        goal_ax.plot(steps, goal_returns, marker="o", color=colour, label=label)
        history = result.penalty.history
        kl_ax.plot(
            [h.num_timesteps for h in history],
            [h.mean_kl for h in history],
            color=colour,
            label=label,
        )
        trade_ax.scatter(result.kl, gained[-1], s=150, color=colour, label=label)
        trade_ax.annotate(
            f"{what.split(' (')[0]} {goal_returns[-1]:.0f}",
            (result.kl, gained[-1]),
            xytext=(12, 0),
            textcoords="offset points",
            fontsize=10,
            va="center",
        )
    trade_ax.scatter(0, 0, s=150, color="grey", marker="s", label="the cloned policy")
    trade_ax.annotate(
        f"{what.split(' (')[0]} {baseline.goal:.0f}",
        (0, 0),
        xytext=(12, 0),
        textcoords="offset points",
        fontsize=10,
        va="center",
    )
    learned_ax.axhline(0, color="grey", linestyle=":", label="the cloned policy")
    goal_ax.axhline(baseline.goal, color="grey", linestyle=":", label="the cloned policy")
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
    trade_ax.set_ylabel("learned return gained over the cloned policy")
    trade_ax.set_title(
        "The trade-off at the end: reward bought with drift (beside each: what was wanted)"
    )
    trade_ax.legend(fontsize="small")
    fig.suptitle(
        "Behaviour cloning, then RLHF with a KL penalty to the cloned policy (every change is "
        f"measured from one evaluation of the clone, {len(results[0].final.true_rewards)} "
        "episodes)",
        fontsize=13,
    )
    return save_figure(fig, path)

"""Lesson 9, kinds of feedback on one budget: preferences, ratings and demonstrations.

The teacher wants the pendulum to spin (the ``spin`` goal, as in lesson 7) and has the same
amount of time for each kind of feedback, counted in clips watched or played (``--effort``,
120 by default; every clip is 25 steps):

- **preferences**: ``effort / 2`` pairs of random clips, each answered "which spins more?";
- **ratings**: ``effort`` random clips, each rated 1 to 5 on a fixed rubric (mean speed in
  fifths of the env's limit); the reward model is fit to the ratings: two clips rated
  differently are an ordered pair, two rated the same a tie (every clip against
  ``RATED_PAIRS`` others), by the loop's Bradley-Terry fit;
- **demonstrations**: ``effort`` clips played by a person who cannot spin it fast (they push
  with the motion only while it turns slowly); behaviour cloning copies them.

PPO trains on each learned reward, and on a constant reward (the control, ``CONTROL_RUNS``
runs pooled); the clone is the demonstrations' agent. All are scored by the spin goal with
their most likely actions. The
spin goal rewards either direction alike; the last panel shows which way the agents turn,
against the clips the teacher preferred: mode collapse, where it shows.

Functions:
    demonstrator: the person who demonstrates (pushes with the motion while it is slow).
    rate: a clip's 1-5 rating on the rubric.
    rated_pairs: ratings as answered pairs (higher rating preferred, same rating equal).
    minority_share: the share of turning steps in the less common direction.
    check_claims: the lesson's claims, decided on its numbers.
    add_arguments: the lesson's own options.
    run: the lesson (``hfrl lesson`` calls it with the parsed options).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from agents.evaluate import Episodes
from agents.lessons.claims import Checked, Claim, report_claims
from agents.lessons.common import (
    LessonArgs,
    ask_teacher,
    cloned_policy,
    explain,
    fit_reward_model,
    lesson_agent,
    note,
    run_episodes,
    save_figure,
    train_tracked,
)
from agents.rewards import ConstantReward
from hfrl_gym.answers import Answer, Choice
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.envs import get_goal
from hfrl_gym.errors import ConfigError
from hfrl_gym.recording import record_clips, record_random_clips
from hfrl_gym.store import LabelStore
from hfrl_gym.teachers import make_teacher

ENV = "hfrl/Pendulum-v0"
GOAL = "spin"
CLIP_STEPS = 25
MAX_SPEED = 8.0
"""The env's limit of |angular velocity| (rad/s); the spin goal is |angular velocity| / 8."""
SLOW = 4.0
"""The demonstrator pushes with the motion only while |angular velocity| is below this."""
CONTROL_RUNS = 3
"""PPO runs on the constant reward (seeds ``seed, seed + 1, ...``), their episodes pooled: a
policy that drifts to always pushing one way spins the pendulum, so one run alone can spin by
chance (seed 4 of the first multi-seed run: 139 of 200)."""
RATED_PAIRS = 4
"""Each rated clip is compared with this many other rated clips for the fit."""
TURNING = 0.5
"""|angular velocity| (rad/s) above which a step counts as turning one way or the other."""
BEATS_CONTROL, BEATS_DEMONSTRATOR, CLONE_WITHIN, COLLAPSE = 30, 20, 0.15, 0.5
"""The claims' lines: each kind's agent spins ``BEATS_CONTROL`` more than the control (of
200); the preference and rating agents ``BEATS_DEMONSTRATOR`` more than the demonstrator; the
clone within ``CLONE_WITHIN`` of the demonstrator; the preference agent turns the less common
way at most ``COLLAPSE`` times as often as the clips the teacher preferred."""
KINDS = ("preferences", "ratings", "demonstrations")
CHOSEN = "teacher's choices"
"""The clips the teacher preferred (the winners of its answered pairs)."""
COLOURS = {
    "preferences": "tab:purple",
    "ratings": "tab:blue",
    "demonstrations": "tab:orange",
    "control": "tab:grey",
    "demonstrator": "black",
    CHOSEN: "tab:green",
}

CLAIMS = (
    Claim(
        "each-kind-teaches",
        "Each kind of feedback teaches: the agents from preferences, from ratings and from "
        f"demonstrations each spin at least {BEATS_CONTROL} (of 200) more than the control, "
        "PPO on a constant reward.",
    ),
    Claim(
        "judging-beats-doing",
        "Judging is easier than doing: the agents trained on rewards learned from preferences "
        f"and from ratings each spin at least {BEATS_DEMONSTRATOR} more than the demonstrator "
        "whose clips cost the same effort.",
    ),
    Claim(
        "clone-copies",
        "Behaviour cloning copies its demonstrator, no better: the clone's spin is within "
        f"{CLONE_WITHIN:.0%} of the demonstrator's.",
    ),
    Claim(
        "mode-collapse",
        "Mode collapse: the spin goal rewards both directions alike, and the clips the teacher "
        "preferred turn both ways, yet the agent trained on preferences settles on one: it "
        f"turns the less common way at most {COLLAPSE:g} times as often (share of its turning "
        "steps) as the teacher's preferred clips do.",
    ),
)

TEXT = """
People can give feedback in several ways. They can compare two clips (preferences), score one
clip on a scale (ratings), or show what they want by doing it (demonstrations). Which teaches
most for the same effort? Here the teacher wants the pendulum to spin, and has time to watch
or play 120 clips: 60 pairs to compare, or 120 clips to rate from 1 to 5, or 120 clips to
play.

A rating needs a scale fixed in advance; a comparison needs none. A demonstration needs a
person who can do the task: ours can only spin it slowly. Behaviour cloning copies what it is
shown; a reward learned from judgements lets PPO go further than the judge could play.

Watch the last panel too. The goal rewards spinning either way, and the clips the teacher
liked turn both ways. Does the agent? Optimising a learned reward tends to narrow behaviour
to one good mode and forget the others: mode collapse, also seen in language models after
RLHF, whose answers grow less varied than people's.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--effort",
        type=int,
        help="clips a person watches or plays per kind of feedback (default 120; even)",
    )
    parser.add_argument("--steps", type=int, help="PPO env steps per agent (default 10000)")


def demonstrator(obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Push with the motion while it turns slowly (below ``SLOW``), else let go."""
    speed = float(obs[2])
    torque = 2.0 * np.sign(speed) if abs(speed) < SLOW else 0.0
    return np.array([torque], dtype=np.float32)


class _Demonstrator:
    """:func:`demonstrator` with SB3's ``predict`` (to evaluate it like the agents)."""

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> tuple[np.ndarray, None]:
        return np.stack([demonstrator(row, np.random.default_rng(0)) for row in obs]), None


def rate(clip: Clip) -> int:
    """1 to 5: the clip's mean spin (|angular velocity| / 8 per step) in fifths."""
    mean_spin = get_goal(ENV, GOAL).clip_rewards(clip).mean()
    return int(np.clip(1 + np.floor(5 * mean_spin), 1, 5))


def rated_pairs(
    clips: list[Clip], ratings: list[int], rng: np.random.Generator
) -> list[tuple[ClipPair, Answer]]:
    """Each clip against ``RATED_PAIRS`` others: the higher rating is preferred, the same
    rating is ``equal`` (what a rating says about two clips, and no more)."""
    labelled = []
    for i, clip in enumerate(clips):
        others = rng.permutation([j for j in range(len(clips)) if j != i])[:RATED_PAIRS]
        for j in others:
            if ratings[i] == ratings[j]:
                choice = Choice.EQUAL
            else:
                choice = Choice.LEFT if ratings[i] > ratings[j] else Choice.RIGHT
            labelled.append((ClipPair(clip, clips[j]), Answer(choice, annotator="ratings")))
    return labelled


def minority_share(speeds: np.ndarray) -> float:
    """Of the steps turning faster than ``TURNING``, the share in the less common direction
    (0: always one way; 0.5: both ways alike)."""
    forward, backward = int(np.sum(speeds > TURNING)), int(np.sum(speeds < -TURNING))
    return min(forward, backward) / max(1, forward + backward)


def check_claims(spin: dict[str, float], spread: dict[str, float]) -> list[Checked]:
    """The claims, decided on each agent's final spin and the directions' spread."""
    teaches, judging, copies, collapse = CLAIMS
    over = {kind: spin[kind] - spin["control"] for kind in KINDS}
    above = {kind: spin[kind] - spin["demonstrator"] for kind in ("preferences", "ratings")}
    gap = abs(spin["demonstrations"] - spin["demonstrator"]) / max(spin["demonstrator"], 1e-9)
    ratio = spread["preferences"] / max(spread[CHOSEN], 1e-9)
    return [
        teaches.check(
            min(over.values()) >= BEATS_CONTROL,
            "spin above the control's "
            + ", ".join(f"{kind} {value:+.0f}" for kind, value in over.items())
            + f" (control {spin['control']:.0f})",
        ),
        judging.check(
            min(above.values()) >= BEATS_DEMONSTRATOR,
            f"demonstrator {spin['demonstrator']:.0f}; preferences {spin['preferences']:.0f}, "
            f"ratings {spin['ratings']:.0f}",
        ),
        copies.check(
            gap <= CLONE_WITHIN,
            f"clone {spin['demonstrations']:.0f}, demonstrator {spin['demonstrator']:.0f} "
            f"({gap:.0%} apart)",
        ),
        collapse.check(
            ratio <= COLLAPSE,
            f"less common direction: preference agent {spread['preferences']:.0%} of its "
            f"turning steps, teacher's preferred clips {spread[CHOSEN]:.0%} "
            f"(ratio {ratio:.2f})",
        ),
    ]


def _feedback(args: LessonArgs, effort: int) -> dict[str, object]:
    """What each kind of feedback gives, on the same effort: labelled pairs and demos."""
    goal = get_goal(ENV, GOAL)
    clips = record_random_clips(ENV, num_clips=effort, clip_num_steps=CLIP_STEPS, seed=args.seed)
    teacher = make_teacher("oracle", goal=goal, rng=np.random.default_rng(args.seed))
    with tempfile.TemporaryDirectory() as folder, LabelStore(Path(folder) / "p.sqlite") as store:
        ask_teacher(store, clips, effort // 2, teacher, np.random.default_rng(args.seed))
        preferences = store.labelled_pairs()
    ratings = [rate(clip) for clip in clips]
    counts = np.bincount(ratings, minlength=6)[1:]
    note(f"ratings 1..5 of the {effort} clips: {', '.join(str(int(c)) for c in counts)}")
    rated = rated_pairs(clips, ratings, np.random.default_rng(args.seed + 1))
    demos = record_clips(
        ENV,
        num_clips=effort,
        clip_num_steps=CLIP_STEPS,
        seed=args.seed + 7,
        policy=demonstrator,
        policy_name="demonstrator",
    )
    chosen = [
        pair.left if answer.choice is Choice.LEFT else pair.right
        for pair, answer in preferences
        if answer.choice in (Choice.LEFT, Choice.RIGHT)
    ]
    return {"preferences": preferences, "ratings": rated, "demos": demos, "chosen": chosen}


def _pooled(runs: list[list[tuple[int, Episodes]]]) -> list[tuple[int, Episodes]]:
    """Runs' evaluations at the same steps, their episodes pooled (one run: as it is)."""
    pooled = []
    for index, (step, _) in enumerate(runs[0]):
        parts = [points[index][1] for points in runs]
        pooled.append(
            (
                step,
                Episodes(
                    np.concatenate([e.observations for e in parts]),
                    np.concatenate([e.actions for e in parts]),
                    np.concatenate([e.true_rewards for e in parts]),
                ),
            )
        )
    return pooled


def run(args: LessonArgs) -> list[Path]:
    """Three kinds of feedback on one effort; an agent from each; the control; draw."""
    explain("Lesson 9: kinds of feedback on one budget", TEXT)
    effort = args.extra.get("effort") or args.budget(120, 12)
    num_steps = args.extra.get("steps") or args.budget(10_000, 512)
    if effort < 4 or num_steps < 1:
        raise ConfigError(
            f"need --effort of at least 4 clips and --steps of at least 1, got {effort} and "
            f"{num_steps}"
        )
    num_episodes = args.budget(10, 2)
    feedback = _feedback(args, effort)
    evaluations: dict[str, list] = {}
    speeds: dict[str, np.ndarray] = {}
    rewards = {
        "preferences": feedback["preferences"],
        "ratings": feedback["ratings"],
        "control": None,
    }
    for kind, labelled in rewards.items():
        if labelled is None:
            reward, what = ConstantReward(), "a constant reward (the control)"
            seeds = [args.seed + run for run in range(args.budget(CONTROL_RUNS, 1))]
        else:
            reward = fit_reward_model(ENV, labelled, seed=args.seed)
            what = f"the reward learned from {kind} ({len(labelled)} answered pairs)"
            seeds = [args.seed]
        runs = []
        for seed in seeds:
            note(f"PPO on {what}, {num_steps} steps (seed {seed})")
            agent = lesson_agent(ENV, reward, seed=seed, hyperparameters=args.quick_ppo(ENV))
            tracker = train_tracked(
                agent,
                num_steps,
                num_evaluations=args.budget(3, 1),
                num_episodes=num_episodes,
                deterministic=True,
            )
            runs.append(tracker.points)
        evaluations[kind] = _pooled(runs)
        speeds[kind] = evaluations[kind][-1][1].observations[:, 1:, 2].reshape(-1)
    clone, agreement = cloned_policy(ENV, feedback["demos"], seed=args.seed)
    note(f"behaviour cloning of {effort} demonstrated clips (R^2 {agreement:.2f})")
    for kind, policy in (("demonstrations", clone), ("demonstrator", _Demonstrator())):
        episodes = run_episodes(
            policy, ENV, num_episodes=num_episodes, seed=10_000 + args.seed, deterministic=True
        )
        evaluations[kind] = [(0, episodes)]
        speeds[kind] = episodes.observations[:, 1:, 2].reshape(-1)
    speeds[CHOSEN] = np.concatenate([clip.observations[1:, 2] for clip in feedback["chosen"]])
    spin = {
        kind: float(points[-1][1].goal_returns(ENV, GOAL).mean())
        for kind, points in evaluations.items()
    }
    spread = {kind: minority_share(values) for kind, values in speeds.items()}
    for kind in (*KINDS, "demonstrator", "control"):
        print(
            f"     {kind}: spin {spin[kind]:.0f} of 200; the less common direction "
            f"{spread[kind]:.0%} of turning steps"
        )
    print(f"     the clips the teacher preferred: the less common direction {spread[CHOSEN]:.0%}")
    figure = _draw(evaluations, spin, speeds, spread, effort, args.out / "feedback_kinds.png")
    report_claims(
        args.out, "feedback-kinds", args.seed, check_claims(spin, spread), quick=args.quick
    )
    return [figure]


def _draw(
    evaluations: dict[str, list],
    spin: dict[str, float],
    speeds: dict[str, np.ndarray],
    spread: dict[str, float],
    effort: int,
    path: Path,
) -> Path:
    fig, axes = plt.subplots(1, 3, figsize=(18, 5.2), layout="constrained")
    names = [*KINDS, "demonstrator", "control"]
    x = np.arange(len(names))
    axes[0].bar(x, [spin[n] for n in names], color=[COLOURS[n] for n in names])
    for index, name in enumerate(names):
        axes[0].annotate(f"{spin[name]:.0f}", (index, spin[name]), ha="center", va="bottom")
    axes[0].set_xticks(
        x, ["preferences", "ratings", "demonstrations\n(the clone)", "the\ndemonstrator", "control"]
    )
    axes[0].set_ylim(0, 210)
    axes[0].set_ylabel("spin return (|angular velocity| / 8 per step, max 200)")
    axes[0].set_title(f"The agents, on the same effort ({effort} clips each)")
    for kind in ("preferences", "ratings", "control"):
        steps = [step for step, _ in evaluations[kind]]
        values = [e.goal_returns(ENV, GOAL).mean() for _, e in evaluations[kind]]
        axes[1].plot(steps, values, marker="o", color=COLOURS[kind], label=f"PPO: {kind}")
    for kind in ("demonstrations", "demonstrator"):
        style = "--" if kind == "demonstrations" else ":"
        label = "the clone" if kind == "demonstrations" else "the demonstrator"
        axes[1].axhline(spin[kind], color=COLOURS[kind], linestyle=style, label=label)
    axes[1].set_ylim(0, 210)
    axes[1].set_xlabel("env steps of PPO")
    axes[1].set_ylabel("spin return, most likely actions")
    axes[1].set_title("As PPO learns")
    axes[1].legend(loc="lower right", fontsize="small")
    bins = np.linspace(-MAX_SPEED, MAX_SPEED, 33)
    for kind in (CHOSEN, "demonstrator", "preferences"):
        label = f"{kind}: less common way {spread[kind]:.0%}"
        axes[2].hist(
            speeds[kind], bins=bins, density=True, alpha=0.5, color=COLOURS[kind], label=label
        )
    axes[2].set_xlabel("angular velocity (rad/s; + one way, - the other)")
    axes[2].set_ylabel("share of steps (density)")
    axes[2].set_title("Which way they turn: mode collapse")
    axes[2].legend(loc="upper center", fontsize="small")
    fig.suptitle(
        "Preferences, ratings and demonstrations on one budget: teach the pendulum to spin",
        fontsize=14,
    )
    return save_figure(fig, path)

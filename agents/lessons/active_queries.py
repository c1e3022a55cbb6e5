"""Lesson 10, choosing the questions: ensemble disagreement against random pairs.

The loop of ``hfrl train`` asks a teacher about pairs of clips in rounds, and refits the
reward model after each. Which pairs? Uniformly random ones, or those the reward model's
ensemble disagrees on most (``--query disagreement``, Christiano et al. 2017). Here both run
the loop's parts side by side on the same pool of random Pendulum clips, judged by the
``spin`` goal: rounds of ``--per-round`` labels (the first round uniform for both, as in the
loop, where no model exists yet), the reward model refit after each, its accuracy measured on
held-out pairs of new clips. Each method runs ``DRAWS`` times (other random draws of the
pairs and the model's initial weights): the figure shows the mean and the band of the draws,
since one draw alone can mislead.

Functions:
    add_arguments: the lesson's own options.
    label_curve: one method's accuracy after each round, and the true gaps of the pairs it
        chose.
    check_claims: the lesson's claims, decided on the curves.
    run: the lesson (``hfrl lesson`` calls it with the parsed options).
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from agents.answerers import TeacherAnswerer
from agents.lessons.claims import Checked, Claim, report_claims
from agents.lessons.common import LessonArgs, explain, note, save_figure
from agents.pair_selector import PairSelector, post_pairs
from agents.reward_fitter import RewardFitter, new_reward_model
from hfrl_gym.answers import Answer
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.envs import get_goal, make_env
from hfrl_gym.errors import ConfigError
from hfrl_gym.recording import record_random_clips
from hfrl_gym.store import LabelStore
from hfrl_gym.teachers import make_teacher

ENV = "hfrl/Pendulum-v0"
GOAL = "spin"
CLIP_STEPS = 25
METHODS = ("uniform", "disagreement")
DRAWS = 3
"""Runs of each method (other draws of pairs and initial weights); the figure's band."""
COLOURS = {"uniform": "tab:grey", "disagreement": "tab:purple"}
GOOD, HARDER = 0.85, 0.8
"""The claims' lines: both methods' mean accuracy with every label at least ``GOOD``; the
pairs disagreement chose have a median true gap at most ``HARDER`` times uniform pairs'."""

CLAIMS = (
    Claim(
        "active-not-worse",
        "Asking where the ensemble disagrees is at least as label-efficient as random pairs: "
        "averaged over the rounds after the first, the reward models from disagreement pairs "
        f"order held-out pairs at least as accurately as those from uniform pairs (each the "
        f"mean of {DRAWS} draws).",
    ),
    Claim(
        "harder-questions",
        "Disagreement asks harder questions: the median true spin gap of the pairs it chose "
        f"(after the first round) is at most {HARDER:g} times that of the uniform pairs.",
    ),
    Claim(
        "both-learn",
        f"Both methods learn the goal: with all the labels, the mean accuracy of each is at "
        f"least {GOOD:.0%}.",
    ),
)

TEXT = """
Every answer costs a person's time, so which pairs we ask about matters. The simplest choice
is random pairs. The reward model is an ensemble of networks fit on different samples of the
answers: where they agree, a new answer would change little; where they disagree, the model
is unsure. Active query selection asks about those pairs (Christiano et al. 2017; PEBBLE and
B-Pref compare it with random pairs).

Both ways run the same loop on the same clips: a round of questions, the model refit, its
accuracy measured on pairs of new clips. The first round is random for both: without a model
there is no disagreement to measure. Each way runs three times, because one run alone can
mislead: watch the bands. Watch also how hard the questions are: the gap in true spin between
the two clips of the pairs each way chose.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--per-round", type=int, help="labels asked per round (default 10)")
    parser.add_argument("--rounds", type=int, help="rounds of questions (default 10)")


def _test_pairs(seed: int, num_clips: int) -> list[tuple[ClipPair, Answer]]:
    """Every pair of new clips, answered by the truth (the spin goal)."""
    clips = record_random_clips(ENV, num_clips=num_clips, clip_num_steps=CLIP_STEPS, seed=seed)
    pairs = [ClipPair(a, b) for a, b in itertools.combinations(clips, 2)]
    truth = make_teacher("oracle", goal=get_goal(ENV, GOAL), rng=np.random.default_rng(0))
    return list(zip(pairs, truth.label(pairs), strict=True))


def label_curve(
    method: str,
    pool: Sequence[Clip],
    test: Sequence[tuple[ClipPair, Answer]],
    *,
    per_round: int,
    rounds: int,
    seed: int,
) -> tuple[list[float], list[float]]:
    """The loop's parts, round after round: pairs chosen by ``method``, answered by an oracle
    of the spin goal, the reward model refit on every answer so far.

    Returns:
        The model's accuracy on ``test`` after each round, and the true spin gap of every
        pair chosen after the first round.
    """
    goal = get_goal(ENV, GOAL)
    env = make_env(ENV)
    model = new_reward_model(ENV, env, num_members=3, device="cpu", seed=seed)
    env.close()
    fitter = RewardFitter(model, np.random.default_rng(seed), fitted=False)
    selector = PairSelector(method, np.random.default_rng(seed), fitter, diverse=False)
    answerer = TeacherAnswerer(make_teacher("oracle", goal=goal, rng=np.random.default_rng(seed)))
    accuracies, gaps = [], []
    with tempfile.TemporaryDirectory() as folder, LabelStore(Path(folder) / "s.sqlite") as store:
        for round_index in range(rounds):
            pairs = selector.select(pool, per_round)
            answerer.answer(store, post_pairs(store, round_index, pairs))
            if round_index > 0:
                gaps += [
                    abs(goal.clip_rewards(a).sum() - goal.clip_rewards(b).sum()) for a, b in pairs
                ]
            fitter.fit(store)
            accuracies.append(fitter.model.pair_accuracy(test) or 0.0)
    return accuracies, gaps


def check_claims(curves: dict[str, np.ndarray], gaps: dict[str, list[float]]) -> list[Checked]:
    """The claims, decided on ``curves`` (``(DRAWS, rounds)`` accuracies per method) and the
    true gaps of the chosen pairs."""
    not_worse, harder, both = CLAIMS
    later = {method: float(curve[:, 1:].mean()) for method, curve in curves.items()}
    median = {method: float(np.median(values)) for method, values in gaps.items()}
    final = {method: float(curve[:, -1].mean()) for method, curve in curves.items()}
    return [
        not_worse.check(
            later["disagreement"] >= later["uniform"],
            f"mean accuracy after the first round: disagreement {later['disagreement']:.3f}, "
            f"uniform {later['uniform']:.3f}",
        ),
        harder.check(
            median["disagreement"] <= HARDER * median["uniform"],
            f"median true gap of the chosen pairs: disagreement {median['disagreement']:.2f}, "
            f"uniform {median['uniform']:.2f}",
        ),
        both.check(
            min(final.values()) >= GOOD,
            "final accuracy " + ", ".join(f"{m} {v:.2f}" for m, v in final.items()),
        ),
    ]


def run(args: LessonArgs) -> list[Path]:
    """Both methods over rounds and draws; the curves with their bands; the claims."""
    explain("Lesson 10: choosing the questions", TEXT)
    per_round = args.extra.get("per_round") or args.budget(10, 3)
    rounds = args.extra.get("rounds") or args.budget(10, 3)
    draws = args.budget(DRAWS, 1)
    if per_round < 1 or rounds < 2:
        raise ConfigError(
            f"need --per-round of at least 1 and --rounds of at least 2 (the first round is "
            f"random for both methods), got {per_round} and {rounds}"
        )
    pool = record_random_clips(
        ENV, num_clips=args.budget(200, 16), clip_num_steps=CLIP_STEPS, seed=args.seed
    )
    test = _test_pairs(args.seed + 50_000, args.budget(40, 8))
    curves: dict[str, np.ndarray] = {}
    gaps: dict[str, list[float]] = {}
    for method in METHODS:
        rows = []
        gaps[method] = []
        for draw in range(draws):
            note(f"{method} pairs, draw {draw + 1} of {draws}: {rounds} rounds of {per_round}")
            accuracies, chosen = label_curve(
                method,
                pool,
                test,
                per_round=per_round,
                rounds=rounds,
                seed=args.seed * 100 + draw,
            )
            rows.append(accuracies)
            gaps[method] += chosen
        curves[method] = np.array(rows)
        mean = curves[method].mean(axis=0)
        print(f"     {method}: accuracy " + ", ".join(f"{value:.2f}" for value in mean))
    labels = per_round * np.arange(1, rounds + 1)
    figure = _draw(labels, curves, gaps, args.out / "active_queries.png")
    report_claims(
        args.out, "active-queries", args.seed, check_claims(curves, gaps), quick=args.quick
    )
    return [figure]


def _draw(
    labels: np.ndarray, curves: dict[str, np.ndarray], gaps: dict[str, list[float]], path: Path
) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.2), layout="constrained")
    for method, curve in curves.items():
        colour = COLOURS[method]
        axes[0].plot(labels, curve.mean(axis=0), marker="o", color=colour, label=method)
        axes[0].fill_between(
            labels, curve.min(axis=0), curve.max(axis=0), color=colour, alpha=0.2, linewidth=0
        )
    axes[0].axhline(0.5, color="black", linestyle=":", linewidth=1, label="guessing")
    axes[0].set_ylim(0.4, 1.0)
    axes[0].set_xlabel("labels (answered pairs) so far")
    axes[0].set_ylabel("share of held-out pairs ordered like the truth")
    axes[0].set_title(
        f"Label efficiency: mean and band of {len(next(iter(curves.values())))} draws"
    )
    axes[0].legend(loc="lower right")
    bins = np.linspace(0, max(max(values, default=1.0) for values in gaps.values()), 21)
    for method, values in gaps.items():
        axes[1].hist(values, bins=bins, alpha=0.5, color=COLOURS[method], label=method)
        if values:
            axes[1].axvline(np.median(values), color=COLOURS[method], linestyle="--")
    axes[1].set_xlabel("true spin gap between the two clips of a chosen pair (dashed: median)")
    axes[1].set_ylabel("pairs asked (after the first round)")
    axes[1].set_title("How hard the questions are")
    axes[1].legend()
    fig.suptitle("Which pairs to ask: ensemble disagreement against random pairs", fontsize=14)
    return save_figure(fig, path)

"""Lesson 2, the reward model: fit it on preferences, check it on clips it never saw.

A Bradley-Terry reward model (an ensemble of small networks) is fit on answered pairs of
CartPole clips: a scripted oracle's, or the answers in ``--store`` (lesson 1's, say). The
figure shows how its accuracy on held-out pairs grows with the number of labels, its return
against the true return of held-out clips, and the reward it learned as a function of the
pole's angle. Each number of labels is fit ``DRAWS`` times, on different draws of the labels,
so the accuracy curve is a band and one lucky draw does not mislead.

Functions:
    varied_clips: CartPole clips of a controller acting at random more or less often.
    add_arguments: the lesson's own options.
    store_labels: the answered pairs of a store, of everyone or of one annotator.
    step_order_share: how often a step of true reward 1 is rewarded above one of 0.
    draw_accuracy: the accuracy panel (every point and band within the axes).
    check_claims: the lesson's claims, decided on the run's numbers.
    run: the lesson (``hfrl lesson`` calls it with the parsed options).
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from agents.bc import record_demonstrations
from agents.lessons.claims import Checked, Claim, report_claims
from agents.lessons.common import (
    LessonArgs,
    ask_teacher,
    explain,
    fit_reward_model,
    note,
    save_figure,
)
from agents.report import spearman
from hfrl_gym.answers import Answer
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.errors import ConfigError
from hfrl_gym.reward_model import RewardModel
from hfrl_gym.store import LabelStore
from hfrl_gym.teachers import make_teacher

ENV = "hfrl/CartPole-v0"
CLIP_STEPS = 25
DRAWS = 3
"""Fits per number of labels, each on another random draw of that many labels."""
GOOD, GAIN, FEW, RANKS, ORDERS = 0.9, 0.15, 5, 0.8, 0.8
"""The claims' lines: accuracy with all labels at least ``GOOD`` and ``GAIN`` above that with
``FEW`` labels; Spearman at least ``RANKS``; steps ordered right at least ``ORDERS``."""

CLAIMS = (
    Claim(
        "accuracy-rises",
        "Held-out accuracy rises with the number of labels: fit on all of them (80 by default) "
        f"the model orders at least {GOOD:.0%} of new pairs like the truth, and at least "
        f"{GAIN} more than fit on {FEW} (each the mean of {DRAWS} fits on different draws of "
        "the labels).",
    ),
    Claim(
        "ranks-agree",
        "The learned return ranks held-out clips like the true return: Spearman correlation "
        f"at least {RANKS}.",
    ),
    Claim(
        "finds-the-band",
        "Nobody told the model about the 12 degrees, yet it rewards the steps where the true "
        "reward was 1 above those where it was 0: a random pair of such steps is ordered right "
        f"at least {ORDERS:.0%} of the time.",
    ),
)

TEXT = """
The answers are comparisons, but the agent needs a number on every step. The reward model
turns one into the other. It is a small neural network r(observation, action, next
observation). The return of a clip is the sum of r over its steps, and the model says "left is
better" with probability sigmoid(return of left - return of right): the Bradley-Terry model,
as in chess ratings. Fitting makes the answers given as likely as possible.

Watch three things. How often it orders pairs of new clips correctly, as labels grow. Whether
its return ranks new clips like the true return (it cannot match its scale: preferences say
nothing about scale). And what it rewards: nobody told it that the pole must stay within 12
degrees of upright, yet it can discover it from the answers alone.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store", type=Path, help="fit on the answers in this store (e.g. lesson 1's labels)"
    )
    parser.add_argument(
        "--annotator",
        help="with --store: fit on this annotator's answers only (default: everyone's, pooled)",
    )
    parser.add_argument("--labels", type=int, help="oracle labels to fit on (default 80)")


def store_labels(path: Path, annotator: str | None) -> list[tuple[ClipPair, Answer]]:
    """The answered (not skipped) pairs in the store at ``path``: everyone's, or only
    ``annotator``'s.

    Raises:
        ConfigError: no such annotator (the message names those in the store), or fewer
            than 2 answered pairs of CartPole clips.
    """
    with LabelStore(path, create=False) as store:
        labelled = [(p, a) for p, a in store.labelled_pairs() if a.target is not None]
    if annotator is not None:
        names = sorted({answer.annotator for _, answer in labelled})
        labelled = [(p, a) for p, a in labelled if a.annotator == annotator]
        if not labelled:
            raise ConfigError(
                f"{path} holds no answers of {annotator!r}; its annotators: "
                f"{', '.join(names) or 'none'} (pass one of them to --annotator)"
            )
    if len(labelled) < 2 or labelled[0][0].left.env_id != ENV:
        raise ConfigError(
            f"{path} needs at least 2 answered (not skipped) pairs of {ENV} "
            "clips; label some with `hfrl lesson 1`"
        )
    return labelled


def varied_clips(num_clips: int, seed: int) -> list[Clip]:
    """Clips of a controller acting at random 30% to 100% of the time, several per episode."""
    clips: list[Clip] = []
    per_episode = 4
    shares = np.linspace(1.0, 0.3, max(1, num_clips // per_episode))
    for index, share in enumerate(shares):
        clips += record_demonstrations(
            ENV,
            num_clips=per_episode,
            clip_num_steps=CLIP_STEPS,
            seed=seed + 1000 * index,
            random_action_prob=float(share),
        )
    return clips


def _oracle_labels(clips: list[Clip], num_labels: int, seed: int) -> list[tuple[ClipPair, Answer]]:
    import tempfile

    teacher = make_teacher("oracle", rng=np.random.default_rng(seed))
    with tempfile.TemporaryDirectory() as folder, LabelStore(Path(folder) / "s.db") as store:
        ask_teacher(store, clips, num_labels, teacher, np.random.default_rng(seed))
        return store.labelled_pairs()


def _test_pairs(clips: list[Clip]) -> list[tuple[ClipPair, Answer]]:
    """Every pair of held-out clips whose true returns differ, answered by the truth."""
    teacher = make_teacher("oracle", rng=np.random.default_rng(0))
    pairs = [ClipPair(a, b) for a, b in itertools.combinations(clips, 2)]
    pairs = [pair for pair in pairs if pair.left.true_return != pair.right.true_return]
    return list(zip(pairs, teacher.label(pairs), strict=True))


def _step_rewards(model: RewardModel, clips: list[Clip]) -> tuple[np.ndarray, ...]:
    """Pole angle (degrees), learned and true reward of every step of the clips."""
    obs = np.concatenate([clip.observations[:-1] for clip in clips])
    next_obs = np.concatenate([clip.observations[1:] for clip in clips])
    actions = np.concatenate([clip.actions for clip in clips])
    learned = model.predict_rewards(obs, actions, next_obs)
    true = np.concatenate([clip.true_rewards for clip in clips])
    return np.degrees(next_obs[:, 2]), learned, true


def step_order_share(reward: np.ndarray, true_reward: np.ndarray) -> float | None:
    """The share of (true reward 1, true reward 0) step pairs whose learned rewards are in
    the same order (ties count half): the area under the ROC curve. ``None`` without both.

    Example:
        >>> step_order_share(np.array([3.0, 1.0, 2.0]), np.array([1.0, 0.0, 0.0]))
        1.0
    """
    up, down = reward[true_reward == 1], reward[true_reward == 0]
    if not len(up) or not len(down):
        return None
    difference = up[:, None] - down[None, :]
    return float((difference > 0).mean() + 0.5 * (difference == 0).mean())


def draw_accuracy(ax: plt.Axes, counts: list[int], accuracies: np.ndarray) -> None:
    """The accuracy panel: the mean over draws of each number of labels, the band from the
    lowest to the highest draw; the axis always shows every point (a poor model too)."""
    mean = accuracies.mean(axis=1)
    ax.fill_between(counts, accuracies.min(axis=1), accuracies.max(axis=1), alpha=0.2)
    ax.plot(counts, mean, marker="o", label=f"mean of {accuracies.shape[1]} draws")
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1, label="guessing")
    ax.set_ylim(min(0.4, float(accuracies.min()) - 0.05), 1.02)
    ax.set_xlabel("labels (answered pairs) fit on")
    ax.set_ylabel("share of new pairs ordered like the truth")
    ax.set_title("Accuracy on held-out pairs (band: lowest to highest draw)")
    ax.legend(loc="lower right")


def check_claims(
    counts: list[int], accuracies: np.ndarray, rank_corr: float, order: float | None
) -> list[Checked]:
    """The claims, decided on the accuracies (one row per number of labels, one column per
    draw), the Spearman correlation and the share of steps ordered right."""
    rises, ranks, band = CLAIMS
    mean = accuracies.mean(axis=1)
    if FEW in counts and counts[-1] > FEW:
        few = float(mean[counts.index(FEW)])
        gained = mean[-1] >= GOOD and mean[-1] - few >= GAIN
        evidence = f"{mean[-1]:.2f} with {counts[-1]} labels, {few:.2f} with {FEW}"
    else:
        gained, evidence = False, f"only {counts[-1]} labels: nothing to compare with {FEW}"
    order_text = "no steps of both true rewards" if order is None else f"{order:.2f}"
    return [
        rises.check(gained, evidence),
        ranks.check(rank_corr >= RANKS, f"Spearman {rank_corr:.2f}"),
        band.check(order is not None and order >= ORDERS, f"ordered right: {order_text}"),
    ]


def run(args: LessonArgs) -> list[Path]:
    """Fit reward models on more and more labels, draw what they learned, check the claims."""
    explain("Lesson 2: the reward model", TEXT)
    store_path: Path | None = args.extra.get("store")
    annotator: str | None = args.extra.get("annotator")
    if annotator is not None and store_path is None:
        raise ConfigError("--annotator picks answers of a --store; pass the store too")
    if store_path is not None:
        labelled = store_labels(store_path, annotator)
        whose = f"{annotator}'s" if annotator else "your"
        source = f"{whose} {len(labelled)} answers in {store_path.name}"
    else:
        num_labels = args.extra.get("labels") or args.budget(80, 12)
        note(f"recording clips and asking a scripted oracle {num_labels} questions")
        labelled = _oracle_labels(
            varied_clips(args.budget(80, 16), args.seed), num_labels, args.seed
        )
        source = f"{len(labelled)} oracle answers"
    test = _test_pairs(varied_clips(args.budget(40, 12), args.seed + 50_000))
    counts = sorted({n for n in (5, 10, 20, 40, 80, 160) if n < len(labelled)} | {len(labelled)})
    draws = np.random.default_rng(args.seed)
    accuracy_rows, model = [], None
    for count in counts:
        note(f"fitting the reward model on {count} labels ({DRAWS} draws)")
        row = []
        for draw in range(DRAWS):
            chosen = sorted(draws.choice(len(labelled), size=count, replace=False))
            fitted = fit_reward_model(
                ENV, [labelled[i] for i in chosen], seed=args.seed + 1000 * draw
            )
            row.append(fitted.pair_accuracy(test) or 0.0)
            if count == counts[-1] and draw == 0:
                model = fitted
        accuracy_rows.append(row)
    assert model is not None
    accuracies = np.array(accuracy_rows)
    fig, axes = plt.subplots(1, 3, figsize=(16, 5), layout="constrained")
    draw_accuracy(axes[0], counts, accuracies)
    held_out = list({c.uid: c for pair, _ in test for c in (pair.left, pair.right)}.values())
    true = np.array([clip.true_return for clip in held_out])
    learned = model.clip_returns(held_out)
    ax = axes[1]
    ax.scatter(true, learned, s=18, alpha=0.7)
    ax.set_xlabel("true return of a held-out clip (steps balanced, of 25)")
    ax.set_ylabel("learned return (arbitrary scale)")
    rank_corr = spearman(learned, true)
    ax.set_title(f"Learned vs true return: Spearman {rank_corr:.2f}")
    ax = axes[2]
    degrees, reward, true_reward = _step_rewards(model, held_out)
    for value, colour, label in ((1.0, "tab:green", "true reward 1"), (0.0, "tab:red", "true 0")):
        chosen = true_reward == value
        ax.scatter(degrees[chosen], reward[chosen], s=6, alpha=0.5, color=colour, label=label)
    ax.axvline(-12, color="grey", linestyle=":", linewidth=1)
    ax.axvline(12, color="grey", linestyle=":", linewidth=1)
    ax.set_xlim(-95, 95)
    ax.set_xlabel("pole angle after the step (degrees; dotted: +-12)")
    ax.set_ylabel("learned reward of the step")
    ax.set_title("What the model rewards (every step of held-out clips)")
    ax.legend(loc="lower center", fontsize="small", markerscale=3)
    fig.suptitle(f"A reward model fit on {source}", fontsize=14)
    mean = accuracies.mean(axis=1)
    print(f"     accuracy on held-out pairs with {counts[-1]} labels: {mean[-1]:.2f}")
    figure = save_figure(fig, args.out / "reward_model.png")
    checked = check_claims(counts, accuracies, rank_corr, step_order_share(reward, true_reward))
    report_claims(args.out, "reward-model", args.seed, checked, quick=args.quick)
    return [figure]

"""Lesson 2, the reward model: fit it on preferences, check it on clips it never saw.

A Bradley-Terry reward model (an ensemble of small networks) is fit on answered pairs of
CartPole clips: a scripted oracle's, or the answers in ``--store`` (lesson 1's, say). The
figure shows how its accuracy on held-out pairs grows with the number of labels, its return
against the true return of held-out clips, and the reward it learned as a function of the
pole's angle.

Functions:
    varied_clips: CartPole clips of a controller acting at random more or less often.
    add_arguments: the lesson's own options.
    run: the lesson (``hfrl lesson`` calls it with the parsed options).
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from agents.bc import record_demonstrations
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
    parser.add_argument("--labels", type=int, help="oracle labels to fit on (default 80)")


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


def run(args: LessonArgs) -> list[Path]:
    """Fit reward models on more and more labels and draw what they learned."""
    explain("Lesson 2: the reward model", TEXT)
    store_path: Path | None = args.extra.get("store")
    if store_path is not None:
        with LabelStore(store_path, create=False) as store:
            labelled = [(p, a) for p, a in store.labelled_pairs() if a.target is not None]
        if len(labelled) < 2 or labelled[0][0].left.env_id != ENV:
            raise ConfigError(
                f"{store_path} needs at least 2 answered (not skipped) pairs of {ENV} "
                "clips; label some with `hfrl lesson 1`"
            )
        source = f"your {len(labelled)} answers in {store_path.name}"
    else:
        num_labels = args.extra.get("labels") or args.budget(80, 12)
        note(f"recording clips and asking a scripted oracle {num_labels} questions")
        labelled = _oracle_labels(
            varied_clips(args.budget(80, 16), args.seed), num_labels, args.seed
        )
        source = f"{len(labelled)} oracle answers"
    test = _test_pairs(varied_clips(args.budget(40, 12), args.seed + 50_000))
    counts = sorted({n for n in (5, 10, 20, 40, 80, 160) if n < len(labelled)} | {len(labelled)})
    accuracies, model = [], None
    for count in counts:
        note(f"fitting the reward model on {count} labels")
        model = fit_reward_model(ENV, labelled[:count], seed=args.seed)
        accuracies.append(model.pair_accuracy(test))
    assert model is not None
    fig, axes = plt.subplots(1, 3, figsize=(16, 5), layout="constrained")
    ax = axes[0]
    ax.plot(counts, accuracies, marker="o")
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1, label="guessing")
    ax.set_ylim(0.4, 1.02)
    ax.set_xlabel("labels (answered pairs) fit on")
    ax.set_ylabel("share of new pairs ordered like the truth")
    ax.set_title("Accuracy on held-out pairs")
    ax.legend(loc="lower right")
    held_out = list({c.uid: c for pair, _ in test for c in (pair.left, pair.right)}.values())
    true = np.array([clip.true_return for clip in held_out])
    learned = model.clip_returns(held_out)
    ax = axes[1]
    ax.scatter(true, learned, s=18, alpha=0.7)
    ax.set_xlabel("true return of a held-out clip (steps balanced, of 25)")
    ax.set_ylabel("learned return (arbitrary scale)")
    ax.set_title(f"Learned vs true return: Spearman {spearman(learned, true):.2f}")
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
    print(f"     accuracy on held-out pairs with {counts[-1]} labels: {accuracies[-1]:.2f}")
    return [save_figure(fig, args.out / "reward_model.png")]

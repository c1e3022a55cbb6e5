"""Lesson 5, noisy people: the six B-Pref teachers, their labels, reward models and agents.

The six scripted teachers of B-Pref (oracle, noisy, mistake, skip, myopic, equal) answer the
same pairs of Pendulum clips, judged by the ``spin`` goal (PPO learns it in seconds, so the
agents can be compared); a few pairs come back swapped. Their answers get the label-quality
figures a class would get for its people (agreement, self-consistency, left/right bias,
estimated beta), and each teacher's answers get their own reward model (accuracy on held-out
pairs) and their own PPO agent (spin return).

With ``--store`` the lesson only draws the label-quality figures of the people who answered
that store (a class's shared store, say), judged by ``--goal``.

Functions:
    add_arguments: the lesson's own options.
    run: the lesson (``hfrl lesson`` calls it with the parsed options).
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from agents.label_quality import assess_label_quality
from agents.label_quality_figures import write_label_quality_figures
from agents.lessons.common import (
    LessonArgs,
    explain,
    fit_reward_model,
    lesson_agent,
    lesson_labels,
    note,
    post_swapped,
    save_figure,
    train_tracked,
    uniform_queries,
)
from hfrl_gym.answers import Answer
from hfrl_gym.clips import ClipPair
from hfrl_gym.envs import get_goal, get_spec
from hfrl_gym.recording import record_random_clips
from hfrl_gym.store import LabelStore
from hfrl_gym.teachers import TEACHER_PRESETS, estimate_mean_episode_return, make_teacher

ENV = "hfrl/Pendulum-v0"
GOAL = "spin"
CLIP_STEPS = 25

TEXT = """
Real people are not oracles. They get tired, click the wrong key, skip what is hard, say
"equal" when unsure, and remember the end of a clip better than its start. B-Pref (Lee et
al. 2021) turned these habits into six scripted teachers: oracle (always right), noisy
(Boltzmann: the closer the two clips, the more likely a wrong answer), mistake (10% of
answers flipped), skip, equal, and myopic.

They all answer the same questions. First look at the labels: how often each agrees with the
others, whether it answers the same when a pair comes back swapped, and its estimated beta,
the noise of the Boltzmann model P(left) = sigmoid(beta * (R_left - R_right)). Then at what
the noise costs: the accuracy of each teacher's reward model, and the agent trained on it.
The same figures work for a class of real people: `hfrl lesson 5 --store class.sqlite`.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", type=Path, help="only the label quality of this store")
    parser.add_argument("--goal", default="task", help="goal that --store's answers are judged by")
    parser.add_argument("--labels", type=int, help="pairs each teacher answers (default 60)")


def _store_quality(args: LessonArgs) -> list[Path]:
    path: Path = args.extra["store"]
    with LabelStore(path, create=False) as store:
        qualities = assess_label_quality(store, goal=args.extra.get("goal", "task"))
    for q in qualities:
        print(
            f"     {q.annotator}: {q.num_answers} answers, beta {q.fit.beta:.3g}, "
            f"self-consistency {q.self_consistency}, left share {q.left_share:.2f}"
        )
    return write_label_quality_figures(qualities, args.out)


def _post_and_answer(store: LabelStore, args: LessonArgs) -> None:
    clips = record_random_clips(
        ENV, num_clips=args.budget(80, 12), clip_num_steps=CLIP_STEPS, seed=args.seed
    )
    num_pairs = args.extra.get("labels") or args.budget(60, 8)
    queries = uniform_queries(store, clips, num_pairs, np.random.default_rng(args.seed))
    queries += post_swapped(store, queries[: args.budget(12, 2)])
    goal = get_goal(ENV, GOAL)
    horizon = get_spec(ENV).horizon
    mean_return = estimate_mean_episode_return(clips, horizon=horizon, goal=goal)
    shown = [store.pair(query) for query in queries]
    for index, preset in enumerate(TEACHER_PRESETS):
        teacher = make_teacher(
            preset,
            goal=goal,
            rng=np.random.default_rng(args.seed + index),
            mean_episode_return=mean_return,
            clip_num_steps=CLIP_STEPS,
            horizon=horizon,
        )
        # Every teacher answers every query (the loop's TeacherAnswerer asks only the
        # unanswered ones): the label-quality figures compare them on the same pairs.
        for query, answer in zip(queries, teacher.label(shown), strict=True):
            store.add_answer(query.id, answer)


def _test_pairs(args: LessonArgs) -> list[tuple[ClipPair, Answer]]:
    """Pairs of new clips answered by the truth (the spin goal), to score reward models."""
    clips = record_random_clips(
        ENV, num_clips=args.budget(40, 8), clip_num_steps=CLIP_STEPS, seed=args.seed + 50_000
    )
    pairs = [ClipPair(a, b) for a, b in itertools.combinations(clips, 2)]
    truth = make_teacher("oracle", goal=get_goal(ENV, GOAL), rng=np.random.default_rng(0))
    return list(zip(pairs, truth.label(pairs), strict=True))


def run(args: LessonArgs) -> list[Path]:
    """Six teachers label the same pairs; label quality, reward accuracy, agents."""
    explain("Lesson 5: noisy people", TEXT)
    if args.extra.get("store") is not None:
        return _store_quality(args)
    labelled = lesson_labels(args.out, lambda store: _post_and_answer(store, args), goal=GOAL)
    with LabelStore(args.out / "labels.sqlite", create=False) as store:
        qualities = assess_label_quality(store, goal=GOAL)
    figures = write_label_quality_figures(qualities, args.out / "label_quality")
    test = _test_pairs(args)
    num_steps = args.budget(8_192, 512)
    accuracy, spin = {}, {}
    for preset in TEACHER_PRESETS:
        own = [(pair, answer) for pair, answer in labelled if answer.annotator == preset]
        note(f"teacher {preset!r}: reward model on its answers, then PPO ({num_steps} steps)")
        model = fit_reward_model(ENV, own, seed=args.seed)
        accuracy[preset] = model.pair_accuracy(test) or 0.0
        agent = lesson_agent(ENV, model, seed=args.seed, hyperparameters=args.quick_ppo(ENV))
        tracker = train_tracked(
            agent,
            num_steps,
            num_evaluations=1,
            num_episodes=args.budget(5, 2),
            deterministic=True,
        )
        spin[preset] = tracker.points[-1][1].goal_returns(ENV, GOAL).mean()
        print(
            f"     {preset}: reward accuracy {accuracy[preset]:.2f}, agent spin {spin[preset]:.0f}"
        )
    fig, axes = plt.subplots(1, 2, figsize=(14, 5), layout="constrained")
    names = list(TEACHER_PRESETS)
    x = np.arange(len(names))
    axes[0].bar(x, [accuracy[n] for n in names], color="tab:blue")
    axes[0].set_ylim(0.5, 1.0)
    axes[0].set_ylabel("share of held-out pairs ordered like the truth")
    axes[0].set_title("Reward model accuracy, one model per teacher")
    axes[1].bar(x, [spin[n] for n in names], color="tab:purple")
    axes[1].set_ylim(0, 200)
    axes[1].set_ylabel("spin return of the agent (max 200)")
    axes[1].set_title(f"The agent trained on it ({num_steps} PPO steps)")
    for ax, values, fmt in ((axes[0], accuracy, "{:.2f}"), (axes[1], spin, "{:.0f}")):
        ax.set_xticks(x, names)
        ax.set_xlabel("scripted teacher (B-Pref preset; see the label-quality figures)")
        for index, name in enumerate(names):
            ax.annotate(
                fmt.format(values[name]),
                (index, values[name]),
                ha="center",
                va="bottom",
                fontsize=10,
            )
    fig.suptitle(
        f"Six B-Pref teachers, the same {len(labelled) // len(names)} questions", fontsize=14
    )
    return [save_figure(fig, args.out / "noisy_people.png"), *figures]

"""Lesson 5, noisy people: seven scripted teachers, their labels, reward models and agents.

The six scripted teachers of B-Pref (oracle, noisy, mistake, skip, myopic, equal) and a
careless one (30% of its answers flipped) answer the same pairs of Pendulum clips, judged by
the ``spin`` goal (PPO learns it in seconds, so agents can be compared); a few pairs come
back swapped. Their answers get the label-quality figures a class would get for its people
(agreement, self-consistency, left/right bias, estimated beta; no response times, since
scripted teachers answer at once). Each teacher's answers get their own reward model
(accuracy on held-out pairs); the oracle, the mistake teacher and the careless one, a ladder
of noise, get their own PPO agent (spin return), beside a control trained on a constant
reward. The lesson's claims (``CLAIMS``) are checked on that run.

With ``--store`` the lesson only draws the label-quality figures of the people who answered
that store (a class's shared store, say), judged by ``--goal``.

Functions:
    add_arguments: the lesson's own options.
    label_accuracy: the share of a teacher's answers that agree with the truth.
    check_claims: the lesson's claims, decided on the run's numbers.
    run: the lesson (``hfrl lesson`` calls it with the parsed options).
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from agents.label_quality import assess_label_quality
from agents.label_quality_figures import write_label_quality_figures
from agents.lessons.claims import Checked, Claim, report_claims
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
from agents.rewards import ConstantReward
from hfrl_gym.answers import Answer, Choice
from hfrl_gym.clips import ClipPair
from hfrl_gym.envs import get_goal, get_spec
from hfrl_gym.recording import record_random_clips
from hfrl_gym.store import LabelStore
from hfrl_gym.teachers import (
    TEACHER_PRESETS,
    ScriptedTeacher,
    estimate_mean_episode_return,
    make_teacher,
)

ENV = "hfrl/Pendulum-v0"
GOAL = "spin"
CLIP_STEPS = 25
CARELESS = "careless"
CARELESS_EPSILON = 0.3
"""The careless teacher flips this share of its answers (B-Pref's mistake teacher: 0.1)."""
TEACHERS = (*TEACHER_PRESETS, CARELESS)
LADDER = ("oracle", "mistake", CARELESS)
"""Teachers in order of noise (0%, 10%, 30% of answers flipped): the claims and the agents."""
CONTROL = "control: constant reward"
FAR_MORE = 50.0
"""Spin return (of 200) by which the oracle's agent must beat the control."""

CLAIMS = (
    Claim(
        "noisier-labels-less-accurate",
        "Noisier teachers give less accurate labels: the share of answers that agree with the "
        "truth falls from the oracle to the mistake teacher (10% of answers flipped) to a "
        "careless teacher (30% flipped).",
    ),
    Claim(
        "noisier-reward-models-less-accurate",
        "Less accurate labels make a less accurate reward model: its accuracy on held-out "
        "pairs falls in the same order (oracle, mistake, careless).",
    ),
    Claim(
        "oracle-agent-beats-control",
        "The agent trained on the oracle's reward model spins far more than a control trained "
        "on a constant reward: by at least 50 of 200.",
    ),
)

TEXT = """
Real people are not oracles. They get tired, click the wrong key, skip what is hard, say
"equal" when unsure, and remember the end of a clip better than its start. B-Pref (Lee et
al. 2021) turned these habits into six scripted teachers: oracle (always right), noisy
(Boltzmann: the closer the two clips, the more likely a wrong answer), mistake (10% of
answers flipped), skip (skips pairs of two poor clips), equal (says "equal" when the clips
are close) and myopic (judges mostly the end of a clip). A seventh, careless, flips 30% of
its answers.

All seven answer the same questions. First look at the labels: how often each agrees with
the others, whether it answers the same when a pair comes back swapped, and its estimated
beta, the noise of the Boltzmann model P(left) = sigmoid(beta * (R_left - R_right)). Then
at what the noise costs: how many of its labels are right, the accuracy of the reward model
fit on them, and, for the oracle, the mistake and the careless teacher, the agent trained
on that model, beside a control trained on a constant reward. The same label-quality
figures work for a class of real people: `hfrl lesson 5 --store class.sqlite`.
"""

STORE_TEXT = """
Real people are not oracles: they get tired, click the wrong key, skip what is hard, say
"equal" when unsure. Here are the answers of the people in {store}, judged by the goal
{goal!r}: how often each agrees with the majority of the others, whether they answer the
same when a pair comes back swapped, how long they take, whether they lean to the left, and
each one's estimated beta, the noise of the Boltzmann model P(left) = sigmoid(beta *
(R_left - R_right)). No teacher is scripted and no agent is trained in this mode.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", type=Path, help="only the label quality of this store")
    parser.add_argument("--goal", default="task", help="goal that --store's answers are judged by")
    parser.add_argument("--labels", type=int, help="pairs each teacher answers (default 60)")


def _store_quality(args: LessonArgs) -> list[Path]:
    path: Path = args.extra["store"]
    goal = args.extra.get("goal", "task")
    explain("Lesson 5: noisy people (a store's answers)", STORE_TEXT.format(store=path, goal=goal))
    with LabelStore(path, create=False) as store:
        qualities = assess_label_quality(store, goal=goal)
    for q in qualities:
        print(
            f"     {q.annotator}: {q.num_answers} answers, beta {q.fit.beta:.3g}, "
            f"self-consistency {q.self_consistency}, left share {q.left_share:.2f}"
        )
    return write_label_quality_figures(qualities, args.out)


def _teacher(name: str, index: int, clips_mean_return: float, args: LessonArgs) -> ScriptedTeacher:
    goal = get_goal(ENV, GOAL)
    rng = np.random.default_rng(args.seed + index)
    if name == CARELESS:
        return ScriptedTeacher(goal=goal, rng=rng, epsilon=CARELESS_EPSILON, name=CARELESS)
    return make_teacher(
        name,
        goal=goal,
        rng=rng,
        mean_episode_return=clips_mean_return,
        clip_num_steps=CLIP_STEPS,
        horizon=get_spec(ENV).horizon,
    )


def _post_and_answer(store: LabelStore, args: LessonArgs, num_pairs: int) -> None:
    clips = record_random_clips(
        ENV, num_clips=args.budget(80, 12), clip_num_steps=CLIP_STEPS, seed=args.seed
    )
    queries = uniform_queries(store, clips, num_pairs, np.random.default_rng(args.seed))
    queries += post_swapped(store, queries[: args.budget(12, 2)])
    mean_return = estimate_mean_episode_return(
        clips, horizon=get_spec(ENV).horizon, goal=get_goal(ENV, GOAL)
    )
    shown = [store.pair(query) for query in queries]
    for index, name in enumerate(TEACHERS):
        teacher = _teacher(name, index, mean_return, args)
        # Every teacher answers every query (the loop's TeacherAnswerer asks only the
        # unanswered ones): the label-quality figures compare them on the same pairs.
        for query, answer in zip(queries, teacher.label(shown), strict=True):
            store.add_answer(query.id, answer)


def label_accuracy(labelled: Sequence[tuple[ClipPair, Answer]]) -> float:
    """The share of the answers (skips left out) that agree with the truth: what the oracle
    answers on the same pair, by the ``spin`` goal (``nan`` when every answer is a skip).

    Example:
        >>> from hfrl_gym.recording import record_random_clips
        >>> a, b = record_random_clips(ENV, num_clips=2, clip_num_steps=5, seed=0)
        >>> truth = make_teacher("oracle", goal=get_goal(ENV, GOAL), rng=np.random.default_rng(0))
        >>> (right,) = truth.label([ClipPair(a, b)])
        >>> wrong = Answer(Choice.LEFT if right.choice is Choice.RIGHT else Choice.RIGHT, "x")
        >>> label_accuracy([(ClipPair(a, b), right), (ClipPair(a, b), wrong)])
        0.5
    """
    answered = [(pair, answer) for pair, answer in labelled if answer.choice is not Choice.SKIP]
    if not answered:
        return float("nan")
    truth = make_teacher("oracle", goal=get_goal(ENV, GOAL), rng=np.random.default_rng(0))
    right = truth.label([pair for pair, _ in answered])
    return float(np.mean([a.choice is t.choice for (_, a), t in zip(answered, right, strict=True)]))


def _test_pairs(args: LessonArgs) -> list[tuple[ClipPair, Answer]]:
    """Pairs of new clips answered by the truth (the spin goal), to score reward models."""
    clips = record_random_clips(
        ENV, num_clips=args.budget(40, 8), clip_num_steps=CLIP_STEPS, seed=args.seed + 50_000
    )
    pairs = [ClipPair(a, b) for a, b in itertools.combinations(clips, 2)]
    truth = make_teacher("oracle", goal=get_goal(ENV, GOAL), rng=np.random.default_rng(0))
    return list(zip(pairs, truth.label(pairs), strict=True))


def check_claims(
    labels: dict[str, float], rewards: dict[str, float], spin: dict[str, float]
) -> list[Checked]:
    """``CLAIMS`` decided on label accuracy, reward-model accuracy and spin, by teacher."""

    def ladder(values: dict[str, float]) -> str:
        return ", ".join(f"{name} {values[name]:.2f}" for name in LADDER)

    def falls(values: dict[str, float]) -> bool:
        return all(values[a] > values[b] for a, b in itertools.pairwise(LADDER))

    oracle, control = spin["oracle"], spin[CONTROL]
    return [
        CLAIMS[0].check(falls(labels), f"label accuracy {ladder(labels)}"),
        CLAIMS[1].check(falls(rewards), f"reward-model accuracy {ladder(rewards)}"),
        CLAIMS[2].check(
            oracle >= control + FAR_MORE,
            f"spin return: oracle's agent {oracle:.0f}, control {control:.0f}",
        ),
    ]


def run(args: LessonArgs) -> list[Path]:
    """Seven teachers label the same pairs; label quality, reward accuracy, agents, claims."""
    if args.extra.get("store") is not None:
        return _store_quality(args)
    explain("Lesson 5: noisy people", TEXT)
    num_pairs = args.extra.get("labels") or args.budget(60, 8)
    labelled = lesson_labels(
        args.out,
        lambda store: _post_and_answer(store, args, num_pairs),
        goal=GOAL,
        settings={"seed": args.seed, "quick": args.quick, "labels": num_pairs},
    )
    with LabelStore(args.out / "labels.sqlite", create=False) as store:
        qualities = assess_label_quality(store, goal=GOAL)
    figures = write_label_quality_figures(qualities, args.out / "label_quality")
    test = _test_pairs(args)
    num_steps = args.budget(12_288, 512)  # 3 rollouts: the oracle's agent clear of the control
    labels, rewards, spin = {}, {}, {}
    models = {}
    for name in TEACHERS:
        own = [(pair, answer) for pair, answer in labelled if answer.annotator == name]
        labels[name] = label_accuracy(own)
        models[name] = fit_reward_model(ENV, own, seed=args.seed)
        rewards[name] = models[name].pair_accuracy(test) or 0.0
        print(
            f"     {name}: label accuracy {labels[name]:.2f}, "
            f"reward-model accuracy {rewards[name]:.2f}"
        )
    for name in (*LADDER, CONTROL):
        note(f"{name}: PPO ({num_steps} steps)")
        reward = ConstantReward() if name == CONTROL else models[name]
        agent = lesson_agent(ENV, reward, seed=args.seed, hyperparameters=args.quick_ppo(ENV))
        tracker = train_tracked(
            agent, num_steps, num_evaluations=1, num_episodes=args.budget(10, 2), deterministic=True
        )
        spin[name] = float(tracker.points[-1][1].goal_returns(ENV, GOAL).mean())
        print(f"     {name}: the agent's spin return {spin[name]:.0f} of 200")
    figure = _draw(labels, rewards, spin, num_pairs, num_steps, args.out / "noisy_people.png")
    report_claims(
        args.out, "noisy-people", args.seed, check_claims(labels, rewards, spin), quick=args.quick
    )
    return [figure, *figures]


def _draw(
    labels: dict[str, float],
    rewards: dict[str, float],
    spin: dict[str, float],
    num_pairs: int,
    num_steps: int,
    path: Path,
) -> Path:
    fig, axes = plt.subplots(1, 3, figsize=(19, 5.5), layout="constrained")
    panels = (
        (
            labels,
            "tab:green",
            (0.0, 1.05),
            "share of answers that agree with the truth",
            "Label accuracy (skips left out)",
            "{:.2f}",
        ),
        (
            rewards,
            "tab:blue",
            (0.5, 1.0),
            "share of held-out pairs ordered like the truth",
            "Reward-model accuracy, one model per teacher",
            "{:.2f}",
        ),
        (
            spin,
            "tab:purple",
            (0.0, 210.0),
            "spin return of the agent (max 200)",
            f"The agent trained on it ({num_steps} PPO steps)",
            "{:.0f}",
        ),
    )
    for ax, (values, colour, ylim, ylabel, title, fmt) in zip(axes, panels, strict=True):
        names = list(values)
        colours = ["tab:grey" if name == CONTROL else colour for name in names]
        ax.bar(np.arange(len(names)), [values[n] for n in names], color=colours)
        for index, name in enumerate(names):
            ax.annotate(fmt.format(values[name]), (index, values[name]), ha="center", va="bottom")
        ticks = ["control:\nconstant reward" if n == CONTROL else n for n in names]
        ax.set_xticks(np.arange(len(names)), ticks, rotation=20, ha="right")
        ax.set_ylim(*ylim)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
    axes[2].set_xlabel("the ladder of noise: 0%, 10% and 30% of answers flipped")
    fig.suptitle(
        f"Seven scripted teachers, the same {num_pairs} questions (and a few repeated)",
        fontsize=14,
    )
    return save_figure(fig, path)

"""Lesson 1, preferences: label a few pairs yourself (the window) or watch a scripted teacher.

Clips of CartPole, from a controller that acts at random more or less often, are posted as pairs
to a label store in ``--out``; two of the pairs come back a second time, swapped. A person
answers them in the comparison window (``--teacher person``, the default), or a scripted
teacher does (``--teacher oracle`` and the other presets). The figure shows one pair as the
person saw it and the whole dataset: each answer against the two clips' true returns.

Running it again on the same ``--out`` continues the same store (nothing answered is lost).

Functions:
    add_arguments: the lesson's own options.
    check_claims: the lesson's claims, decided on the answers in the store.
    run: the lesson (``hfrl lesson`` calls it with the parsed options).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from agents.answerers import ScriptedAnswerer
from agents.bc import record_demonstrations
from agents.lessons.claims import Checked, Claim, report_claims
from agents.lessons.common import (
    LessonArgs,
    explain,
    note,
    post_swapped,
    save_figure,
    uniform_queries,
)
from hfrl_gym.answers import Choice
from hfrl_gym.clips import Clip
from hfrl_gym.errors import ConfigError, RenderError
from hfrl_gym.render import ClipRenderer
from hfrl_gym.store import LabelStore
from hfrl_gym.teachers import TEACHER_PRESETS

ENV = "hfrl/CartPole-v0"
CLIP_STEPS = 50
CLEAR_GAP, AGREE, SPAN = 5, 0.8, 25
"""The claims' lines: pairs whose true returns differ by ``CLEAR_GAP`` steps or more are
answered like the returns at least ``AGREE`` of the time; the clips' true returns span at
least ``SPAN`` steps."""
BENCH_ARGS = ("--teacher", "oracle")
"""What ``scripts/bench_teaching.py`` passes the lesson: no person at a benchmark."""

CLAIMS = (
    Claim(
        "answers-follow-returns",
        "Most answers prefer the clip with the higher true return: at least "
        f"{AGREE:.0%} of the answered pairs whose true returns differ by {CLEAR_GAP} steps "
        "or more.",
    ),
    Claim(
        "clips-vary",
        "The clips range from falling early to balancing throughout, so some pairs are easy: "
        f"the true returns of the clips span at least {SPAN} of the {CLIP_STEPS} steps.",
    ),
    Claim(
        "repeats-consistent", "The swapped repeats are answered the same way (self-consistency)."
    ),
)
MIRROR = {Choice.LEFT: Choice.RIGHT, Choice.RIGHT: Choice.LEFT, Choice.EQUAL: Choice.EQUAL}
MARKERS = {
    Choice.LEFT: ("<", "tab:blue", "left better"),
    Choice.RIGHT: (">", "tab:orange", "right better"),
    Choice.EQUAL: ("o", "tab:green", "equal"),
    Choice.SKIP: ("x", "tab:grey", "skip"),
}

TEXT = """
In RLHF nobody writes down a reward. A person watches two short clips of the agent and says
which one is better, or that they are equally good, or skips. That is far easier than giving a
score: try it, and notice how you decide.

Here the task is CartPole: keep the pole upright and the cart on the track. The clips come
from a simple controller that acts at random more or less often, so some are clearly better
than others.
Two pairs come back a second time with the clips swapped: do you answer the same way?

Keys in the window: <- left is better, -> right is better, down equal, space skip,
backspace undo. Every answer is saved at once.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    choices = ["person", *TEACHER_PRESETS]
    parser.add_argument(
        "--teacher",
        choices=choices,
        default="person",
        help="who answers: person (the window) or a scripted teacher preset",
    )
    parser.add_argument("--annotator", help="your name in the window (else asked)")
    parser.add_argument("--script", type=Path, help="scripted window input (docs/UI.md)")


def _clips(num_clips: int, seed: int) -> list[Clip]:
    """First clips of episodes of a controller that acts at random 100% to 40% of the time."""
    clips = []
    for index, random_share in enumerate(np.linspace(1.0, 0.4, num_clips)):
        clips += record_demonstrations(
            ENV,
            num_clips=1,
            clip_num_steps=CLIP_STEPS,
            seed=seed + index,
            random_action_prob=float(random_share),
        )
    return clips


def _post_queries(store: LabelStore, args: LessonArgs) -> None:
    num_pairs = args.budget(8, 3)
    clips = _clips(args.budget(12, 6), args.seed)
    queries = uniform_queries(store, clips, num_pairs, np.random.default_rng(args.seed))
    post_swapped(store, queries[: args.budget(2, 1)])
    store.set_meta("goal", "task")


def _answer(store: LabelStore, args: LessonArgs) -> None:
    teacher_name = args.extra["teacher"]
    if not store.pending_queries():
        return
    if teacher_name != "person":  # the loop's scripted answerer (judging by the task)
        answerer = ScriptedAnswerer(
            teacher_name,
            env_id=ENV,
            goal="task",
            clip_num_steps=CLIP_STEPS,
            rng=np.random.default_rng(args.seed),
        )
        answerer.answer(store, store.queries())
        return
    if args.window_answerer is None:
        raise ConfigError(
            "a person labels in the comparison window, which this entry point was not given; "
            "run the lesson with the `hfrl lesson` command, or pass --teacher oracle"
        )
    window = args.window_answerer(
        args.extra.get("annotator"),
        script=args.extra.get("script"),
        resume_command=f"hfrl lesson preferences --out {args.out}",
    )
    note("the comparison window is open: answer the pairs, it closes when all are answered")
    try:
        window.answer(store, store.queries())
    except RenderError as error:
        raise RenderError(
            f"{error}; or watch a scripted teacher instead: hfrl lesson 1 --teacher oracle"
        ) from None


def _return_gap(store: LabelStore, query_id: int) -> float:
    pair = store.pair(query_id)
    return abs(pair.left.true_return - pair.right.true_return)


def _draw(store: LabelStore, out: Path) -> Path:
    answers = store.latest_answers()
    queries = store.queries()
    fig = plt.figure(figsize=(14, 6.2), layout="constrained")
    grid = fig.add_gridspec(2, 3, width_ratios=[1.2, 1.2, 1.0])
    answered = [q for q in queries if q.id in answers] or queries
    shown = max(answered, key=lambda q: _return_gap(store, q.id))
    pair = store.pair(shown)
    with ClipRenderer() as renderer:
        for row, (clip, side) in enumerate(((pair.left, "left"), (pair.right, "right"))):
            frames = renderer.render_frames(clip, width=300, height=200)[:, 60:180]
            strip = np.concatenate(list(frames[:: CLIP_STEPS // 4][:5]), axis=1)
            ax = fig.add_subplot(grid[row, :2])
            ax.imshow(strip)
            ax.set_axis_off()
            ax.set_title(
                f"{side} clip of query {shown.id} (frames 0 to {CLIP_STEPS}, left to right): "
                f"true return {clip.true_return:.0f}",
                fontsize=11,
            )
    verdict = answers[shown.id].choice.value if shown.id in answers else "not answered"
    fig.text(0.33, 0.005, f"answer: {verdict}", ha="center", fontsize=12, weight="bold")
    ax = fig.add_subplot(grid[:, 2])
    seen = set()
    jitter = np.random.default_rng(0).uniform(-0.8, 0.8, size=(len(queries), 2))
    for query, (dx, dy) in zip(queries, jitter, strict=True):
        record = answers.get(query.id)
        pair = store.pair(query)
        marker, colour, label = MARKERS[record.choice] if record else ("s", "white", "pending")
        ax.scatter(
            pair.left.true_return + dx,
            pair.right.true_return + dy,
            marker=marker,
            s=90,
            color=colour,
            edgecolors="black",
            label=None if label in seen else label,
        )
        seen.add(label)
    ax.plot([0, CLIP_STEPS], [0, CLIP_STEPS], color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("true return of the left clip")
    ax.set_ylabel("true return of the right clip")
    ax.set_title("The dataset: every answer\n(below the diagonal the left clip was better)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize="small")
    return save_figure(fig, out / "preferences.png")


def _print_dataset(store: LabelStore) -> None:
    answers = store.latest_answers()
    print("\n  query  left return  right return  answer      annotator   seconds")
    for query in store.queries():
        pair = store.pair(query)
        record = answers.get(query.id)
        choice = record.choice.value if record else "-"
        who = record.annotator if record else "-"
        seconds = f"{record.seconds:.1f}" if record else "-"
        print(
            f"  {query.id:>5}  {pair.left.true_return:>11.0f}  {pair.right.true_return:>12.0f}"
            f"  {choice:<10}  {who:<10}  {seconds:>7}"
        )


def check_claims(store: LabelStore) -> list[Checked]:
    """The claims, decided on the store's queries and their latest answers."""
    follow, vary, repeats = CLAIMS
    answers = store.latest_answers()
    queries = store.queries()
    clear = agreeing = 0
    returns = []
    for query in queries:
        pair = store.pair(query)
        left, right = pair.left.true_return, pair.right.true_return
        returns += [left, right]
        record = answers.get(query.id)
        if record is None or record.choice == Choice.SKIP or abs(left - right) < CLEAR_GAP:
            continue
        clear += 1
        agreeing += record.choice == (Choice.LEFT if left > right else Choice.RIGHT)
    share = agreeing / clear if clear else 0.0
    span = max(returns) - min(returns) if returns else 0.0
    first = {(q.left_uid, q.right_uid): q.id for q in queries}
    compared = same = 0
    for query in queries:
        original = first.get((query.right_uid, query.left_uid))
        if original is None or original >= query.id:
            continue
        choices = [answers[i].choice if i in answers else Choice.SKIP for i in (original, query.id)]
        if Choice.SKIP not in choices:
            compared += 1
            same += MIRROR[choices[0]] == choices[1]
    return [
        follow.check(
            clear > 0 and share >= AGREE,
            f"{agreeing} of {clear} clearly different pairs answered like the returns"
            if clear
            else "no answered pair whose true returns differ clearly",
        ),
        vary.check(
            span >= SPAN,
            f"true returns of the clips from {min(returns, default=0):.0f} "
            f"to {max(returns, default=0):.0f} of {CLIP_STEPS}",
        ),
        repeats.check(
            compared > 0 and same == compared,
            f"{same} of {compared} answered repeats answered the same way"
            if compared
            else "no repeat answered (skipped or pending) both times",
        ),
    ]


def run(args: LessonArgs) -> list[Path]:
    """Post the pairs (or continue the store in ``--out``), have them answered, draw, and
    check the claims on the answers."""
    explain("Lesson 1: preferences, not scores", TEXT)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "labels.sqlite"
    with LabelStore(path) as store:
        if store.counts()["queries"] == 0:
            _post_queries(store, args)
        else:
            note(f"continuing the store {path} (pass another --out to start afresh)")
        _answer(store, args)
        _print_dataset(store)
        print(
            f"\n  The labels are in {path}: fit a reward model on them with "
            f"`hfrl lesson 2 --store {path}`."
        )
        figure = _draw(store, args.out)
        checked = check_claims(store)
    report_claims(args.out, "preferences", args.seed, checked, quick=args.quick)
    return [figure]

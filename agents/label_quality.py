"""Label quality: how each annotator of a label store answers, compared with the others.

For every annotator (a person's name, or a scripted teacher's) this measures, on their newest
answer to each query:

- **agreement with the majority** of the *other* annotators of the same query (left out when
  the others are split evenly or nobody else answered it);
- **agreement with each scripted teacher preset**, the presets answering the very same pairs
  under the goal (``hfrl_gym.teachers``);
- **self-consistency** on repeated pairs: the same two clips posted twice (in either order);
  the two answers agree when they prefer the same clip (or both say equal);
- **response times** in seconds;
- **left/right bias**: the share of ``left`` among left/right answers beside the share the
  goal's returns would give, and the intercept ``b`` of ``P(left) = sigmoid(beta' * d + b)``;
- **beta** (how noisy the person is): the maximum-likelihood ``beta`` of the Boltzmann model
  ``P(left) = sigmoid(beta * (R_left - R_right))`` with ``R`` the clips' goal returns (the
  model the ``noisy`` teacher answers by). Only left/right answers count. When every answer
  follows the return order the likelihood grows without bound: ``beta = inf``. ``beta`` is in
  1 / (return units of one clip).

Classes:
    Annotation: one answer with the pair's goal returns.
    BoltzmannFit: ``beta`` and the left bias of one annotator, with standard errors.
    AnnotatorQuality: every measure above for one annotator.

Functions:
    read_annotations: each annotator's newest answers in a store, with goal returns.
    fit_boltzmann: the maximum-likelihood ``beta`` and the left bias of some answers.
    assess_label_quality: :class:`AnnotatorQuality` of every annotator of a store.

Figures are drawn by :mod:`agents.label_quality_figures`.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from hfrl_gym.answers import Answer, Choice
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.envs import get_goal, get_spec
from hfrl_gym.errors import ConfigError
from hfrl_gym.store import LabelStore
from hfrl_gym.teachers import TEACHER_PRESETS, estimate_mean_episode_return, make_teacher


@dataclass(frozen=True)
class Annotation:
    """One annotator's newest answer to one query, with the clips' goal returns.

    Attributes:
        query_id: the query answered.
        left_uid: uid of the left clip.
        right_uid: uid of the right clip.
        left_return: goal return of the left clip.
        right_return: goal return of the right clip.
        choice: the answer.
        seconds: time taken to answer, in seconds.

    Example:
        >>> Annotation(1, "a1", "b2", 3.0, 1.0, Choice.RIGHT, 2.0).preferred
        'b2'
    """

    query_id: int
    left_uid: str
    right_uid: str
    left_return: float
    right_return: float
    choice: Choice
    seconds: float

    @property
    def preferred(self) -> str | None:
        """The uid of the clip preferred, ``"equal"``, or ``None`` for a skip."""
        return {
            Choice.LEFT: self.left_uid,
            Choice.RIGHT: self.right_uid,
            Choice.EQUAL: "equal",
        }.get(self.choice)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -x))


@dataclass(frozen=True)
class BoltzmannFit:
    """The Boltzmann model fitted to one annotator's left/right answers.

    Attributes:
        beta: maximum-likelihood ``beta`` of ``P(left) = sigmoid(beta * d)``, ``d = R_left -
            R_right``; ``inf`` when every answer follows the return order, ``-inf`` when
            every answer goes against it, ``nan`` when no pair has different returns.
        beta_se: its standard error from the Fisher information (``nan`` when not finite).
        bias: ``b`` of ``P(left) = sigmoid(beta' * d + b)`` (a weak Gaussian prior keeps
            both finite); ``b > 0`` means left is chosen more than the returns explain.
        bias_se: its standard error.
        num_answers: left/right answers used.

    Example:
        >>> fit = fit_boltzmann(np.array([-2.0, -1.0, 1.0, 2.0]), np.array([0, 1, 1, 1]))
        >>> round(fit.beta, 2), fit.num_answers
        (1.01, 4)
    """

    beta: float
    beta_se: float
    bias: float
    bias_se: float
    num_answers: int

    @property
    def left_bias_detected(self) -> bool:
        """Whether the bias is more than two standard errors from zero."""
        return bool(abs(self.bias) > 2 * self.bias_se)


def _beta_mle(differences: np.ndarray, chose_left: np.ndarray) -> tuple[float, float]:
    """``(beta, standard error)`` of the one-parameter model, by bisection on the score."""

    def score(beta: float) -> float:
        return float(differences @ (chose_left - _sigmoid(beta * differences)))

    nonzero = differences[differences != 0]
    if nonzero.size == 0:
        return math.nan, math.nan
    agrees = (differences > 0) == (chose_left > 0.5)
    if np.all(agrees[differences != 0]):
        return math.inf, math.nan
    if not np.any(agrees[differences != 0]):
        return -math.inf, math.nan
    scale = 1.0 / float(np.mean(np.abs(nonzero)))
    low, high = -scale, scale
    while score(low) < 0:
        low *= 2
    while score(high) > 0:
        high *= 2
    for _ in range(200):
        middle = 0.5 * (low + high)
        if score(middle) > 0:
            low = middle
        else:
            high = middle
    beta = 0.5 * (low + high)
    p = _sigmoid(beta * differences)
    information = float(np.sum(differences**2 * p * (1 - p)))
    return beta, (1 / math.sqrt(information) if information > 0 else math.nan)


def _bias_map(differences: np.ndarray, chose_left: np.ndarray) -> tuple[float, float]:
    """``(b, se)`` of ``sigmoid(w * d / s + b)`` by Newton's method, with a N(0, 2^2) prior."""
    scale = float(np.std(differences)) or 1.0
    features = np.stack([differences / scale, np.ones_like(differences)], axis=1)
    prior = np.eye(2) / 4.0
    weights = np.zeros(2)
    for _ in range(100):
        p = _sigmoid(features @ weights)
        gradient = features.T @ (chose_left - p) - prior @ weights
        hessian = features.T @ (features * (p * (1 - p))[:, None]) + prior
        step = np.linalg.solve(hessian, gradient)
        weights += step
        if np.max(np.abs(step)) < 1e-10:
            break
    p = _sigmoid(features @ weights)
    hessian = features.T @ (features * (p * (1 - p))[:, None]) + prior
    return float(weights[1]), float(math.sqrt(np.linalg.inv(hessian)[1, 1]))


def fit_boltzmann(return_differences: np.ndarray, chose_left: np.ndarray) -> BoltzmannFit:
    """Fit ``P(left) = sigmoid(beta * d)`` (and a left bias) by maximum likelihood.

    Args:
        return_differences: ``(K,)`` ``R_left - R_right`` of each pair (goal returns).
        chose_left: ``(K,)`` 1 where the answer was ``left``, 0 where it was ``right``.

    Returns:
        The :class:`BoltzmannFit`.
    """
    differences = np.asarray(return_differences, dtype=np.float64).reshape(-1)
    labels = np.asarray(chose_left, dtype=np.float64).reshape(-1)
    if differences.shape != labels.shape:
        raise ConfigError(
            f"need one answer per return difference, got {labels.shape} and {differences.shape}"
        )
    if differences.size == 0:
        return BoltzmannFit(math.nan, math.nan, math.nan, math.nan, 0)
    beta, beta_se = _beta_mle(differences, labels)
    bias, bias_se = _bias_map(differences, labels)
    return BoltzmannFit(beta, beta_se, bias, bias_se, int(differences.size))


@dataclass(frozen=True)
class AnnotatorQuality:
    """The label quality of one annotator.

    Attributes:
        annotator: the name.
        num_answers: queries answered (newest answer each).
        choices: count of each choice (``left``, ``right``, ``equal``, ``skip``).
        majority_agreement: share of non-skip answers equal to the other annotators'
            majority; ``None`` when no query has one.
        num_majority: answers that had a majority to compare with.
        teacher_agreement: preset name -> share of non-skip answers equal to what that
            scripted teacher answers on the same pair.
        self_consistency: share of repeated-pair answer pairs that prefer the same clip;
            ``None`` without repeats.
        num_repeats: answer pairs on repeated pairs.
        seconds: ``(num_answers,)`` response times in seconds.
        left_share: share of ``left`` among left/right answers (``nan`` without any).
        expected_left_share: share of those pairs whose left clip has the higher goal
            return (ties count one half): what an unbiased, rational annotator would give.
        fit: the Boltzmann model fitted to the left/right answers.
        return_differences: ``(K,)`` ``R_left - R_right`` of the left/right answers.
        chose_left: ``(K,)`` 1 for ``left``, 0 for ``right``.

    Example:
        >>> import tempfile
        >>> from hfrl_gym.recording import record_random_clips
        >>> from hfrl_gym.teachers import ScriptedTeacher
        >>> folder = tempfile.TemporaryDirectory()
        >>> clips = record_random_clips("hfrl/Pendulum-v0", num_clips=6, clip_num_steps=10, seed=0)
        >>> oracle = ScriptedTeacher(rng=np.random.default_rng(0), name="oracle")
        >>> with LabelStore(f"{folder.name}/labels.db") as store:
        ...     _ = store.add_clips(clips)
        ...     ids = store.add_queries([(clips[i].uid, clips[i + 1].uid) for i in range(5)])
        ...     answers = oracle.label([store.pair(qid) for qid in ids])
        ...     _ = [store.add_answer(qid, answer) for qid, answer in zip(ids, answers)]
        ...     (quality,) = assess_label_quality(store, presets=("oracle",))
        >>> quality.num_answers, quality.fit.beta, quality.teacher_agreement["oracle"]
        (5, inf, 1.0)
        >>> folder.cleanup()
    """

    annotator: str
    num_answers: int
    choices: dict[str, int]
    majority_agreement: float | None
    num_majority: int
    teacher_agreement: dict[str, float]
    self_consistency: float | None
    num_repeats: int
    seconds: np.ndarray
    left_share: float
    expected_left_share: float
    fit: BoltzmannFit
    return_differences: np.ndarray = field(repr=False)
    chose_left: np.ndarray = field(repr=False)


def read_annotations(
    store: LabelStore, *, goal: str = "task", annotators: Sequence[str] | None = None
) -> tuple[dict[str, list[Annotation]], dict[int, ClipPair]]:
    """Each annotator's newest answer to each query, with the pair's goal returns.

    Args:
        store: an open label store.
        goal: the goal whose returns the answers are compared with (every env of the store
            must have it; ``task`` always exists).
        annotators: only these (default: everyone who answered).

    Returns:
        ``(annotations by annotator, pair by query id)``.
    """
    names = annotators or sorted({record.annotator for record in store.answers()})
    latest = {name: store.latest_answers(name) for name in names}
    query_ids = sorted({qid for records in latest.values() for qid in records})
    pairs = {qid: store.pair(qid) for qid in query_ids}
    returns: dict[str, float] = {}
    for pair in pairs.values():
        goal_fn = get_goal(pair.left.env_id, goal)
        for clip in (pair.left, pair.right):
            if clip.uid not in returns:
                returns[clip.uid] = float(goal_fn.clip_rewards(clip).sum())
    annotations = {
        name: [
            Annotation(
                query_id=qid,
                left_uid=pairs[qid].left.uid,
                right_uid=pairs[qid].right.uid,
                left_return=returns[pairs[qid].left.uid],
                right_return=returns[pairs[qid].right.uid],
                choice=record.choice,
                seconds=record.seconds,
            )
            for qid, record in sorted(latest[name].items())
        ]
        for name in names
    }
    return annotations, pairs


def _teacher_answers(
    pairs: dict[int, ClipPair], presets: Sequence[str], goal: str, seed: int
) -> dict[str, dict[int, Choice]]:
    """What each preset answers on every pair (grouped by env, thresholds from its clips)."""
    by_env: dict[str, list[int]] = defaultdict(list)
    for qid, pair in pairs.items():
        by_env[pair.left.env_id].append(qid)
    answers: dict[str, dict[int, Choice]] = {preset: {} for preset in presets}
    for env_id, qids in sorted(by_env.items()):
        goal_fn = get_goal(env_id, goal)
        clips: list[Clip] = [c for qid in qids for c in (pairs[qid].left, pairs[qid].right)]
        horizon = get_spec(env_id).horizon
        clip_steps = int(np.median([clip.num_steps for clip in clips]))
        mean_return = estimate_mean_episode_return(clips, horizon=horizon, goal=goal_fn)
        for preset in presets:
            teacher = make_teacher(
                preset,
                goal=goal_fn,
                rng=np.random.default_rng(seed),
                mean_episode_return=mean_return,
                clip_num_steps=clip_steps,
                horizon=horizon,
            )
            labels: list[Answer] = teacher.label([pairs[qid] for qid in qids])
            answers[preset].update(zip(qids, (a.choice for a in labels), strict=True))
    return answers


def _majority(choices: list[Choice]) -> Choice | None:
    counts = Counter(choice for choice in choices if choice is not Choice.SKIP).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return None
    return counts[0][0]


def _self_consistency(annotations: list[Annotation]) -> tuple[float | None, int]:
    groups: dict[frozenset[str], list[str]] = defaultdict(list)
    for item in annotations:
        if item.preferred is not None:
            groups[frozenset((item.left_uid, item.right_uid))].append(item.preferred)
    comparisons = [
        a == b for answers in groups.values() for a, b in itertools.combinations(answers, 2)
    ]
    return (float(np.mean(comparisons)) if comparisons else None), len(comparisons)


def assess_label_quality(
    store: LabelStore,
    *,
    goal: str = "task",
    presets: Sequence[str] = tuple(TEACHER_PRESETS),
    annotators: Sequence[str] | None = None,
    seed: int = 0,
) -> list[AnnotatorQuality]:
    """The label quality of every annotator of a store (see the module docstring).

    Args:
        store: an open label store with answers.
        goal: the goal answers are judged against (``task`` or an alternative goal).
        presets: scripted teacher presets to compare with (they answer the same pairs).
        annotators: only these annotators (default: all); the majority is still taken over
            these only.
        seed: seeds the scripted teachers' random draws.

    Returns:
        One :class:`AnnotatorQuality` per annotator, in name order.

    Raises:
        ConfigError: the store has no answers.
    """
    annotations, pairs = read_annotations(store, goal=goal, annotators=annotators)
    if not pairs:
        raise ConfigError(f"{store.path} holds no answers; label some first (`hfrl label`)")
    teacher_answers = _teacher_answers(pairs, presets, goal, seed)
    by_query: dict[int, dict[str, Choice]] = defaultdict(dict)
    for name, items in annotations.items():
        for item in items:
            by_query[item.query_id][name] = item.choice
    results = []
    for name, items in sorted(annotations.items()):
        answered = [item for item in items if item.choice is not Choice.SKIP]
        majority_hits = []
        for item in answered:
            others = [c for other, c in by_query[item.query_id].items() if other != name]
            majority = _majority(others)
            if majority is not None:
                majority_hits.append(item.choice is majority)
        decided = [item for item in items if item.choice in (Choice.LEFT, Choice.RIGHT)]
        differences = np.array([item.left_return - item.right_return for item in decided])
        chose_left = np.array([float(item.choice is Choice.LEFT) for item in decided])
        consistency, num_repeats = _self_consistency(items)
        results.append(
            AnnotatorQuality(
                annotator=name,
                num_answers=len(items),
                choices={c.value: sum(item.choice is c for item in items) for c in Choice},
                majority_agreement=float(np.mean(majority_hits)) if majority_hits else None,
                num_majority=len(majority_hits),
                teacher_agreement={
                    preset: float(
                        np.mean([teacher_answers[preset][i.query_id] is i.choice for i in answered])
                    )
                    for preset in presets
                    if answered
                },
                self_consistency=consistency,
                num_repeats=num_repeats,
                seconds=np.array([item.seconds for item in items]),
                left_share=float(chose_left.mean()) if decided else math.nan,
                expected_left_share=(
                    float(np.mean((differences > 0) + 0.5 * (differences == 0)))
                    if decided
                    else math.nan
                ),
                fit=fit_boltzmann(differences, chose_left),
                return_differences=differences,
                chose_left=chose_left,
            )
        )
    return results

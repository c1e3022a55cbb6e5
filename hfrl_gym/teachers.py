"""Teachers: whatever answers "which clip is better?", and scripted ones that judge by a goal.

A scripted teacher sees a pair of clips, computes each clip's return under a hidden goal and
answers like one of the simulated teachers of B-Pref (Lee et al. 2021, "B-Pref: Benchmarking
Preference-Based Reinforcement Learning"), applying its behaviours in this order:

1. **skip**: if neither clip's undiscounted return is above ``skip_threshold`` -> ``skip``.
2. **equal**: if the undiscounted returns differ by less than ``equal_threshold`` -> ``equal``.
3. **myopia**: step ``t`` of a ``T``-step clip is weighted ``gamma ** (T - 1 - t)``, so the
   last step counts fully and earlier ones less.
4. **Boltzmann choice** on the weighted returns: ``P(left) = sigmoid(beta * (R_left -
   R_right))``. ``beta = inf`` is the rational teacher: it picks the higher return, and an exact
   tie is answered ``equal`` (the one answer that is right); a finite ``beta`` answers a tie
   with a fair coin, as ``sigmoid(0) = 0.5``.
5. **mistake**: a ``left``/``right`` answer is flipped with probability ``epsilon``;
   ``equal`` and ``skip`` are never flipped (as in B-Pref, where ties override mistakes).
6. **confidence** (off by default): with ``much_better_gap`` set, a ``left``/``right`` answer
   says "much better" when the weighted returns differ by at least that much, else "slightly
   better" (a mistaken answer keeps the confidence of the gap it misjudged).

See docs/TEACHERS.md for the presets and their thresholds.

Classes:
    Teacher: protocol of every answerer, ``label(pairs) -> list[Answer]``.
    ClipGoal: protocol of what a scripted teacher judges by, ``clip_rewards(clip) -> (T,)``.
    TaskGoal: the env's own reward (``clip.true_rewards``), the default goal.
    ScriptedTeacher: the simulated teacher described above.

Functions:
    make_teacher: a ``ScriptedTeacher`` from a preset name (``TEACHER_PRESETS``).
    bpref_thresholds: B-Pref's skip and equal thresholds for a mean episode return.
    estimate_mean_episode_return: a mean episode return estimated from clips.

Constants:
    TEACHER_PRESETS: preset name -> one-line description.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from hfrl_gym.answers import Answer, Choice, Confidence
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.errors import ConfigError

PRESET_EPSILON = 0.1
"""B-Pref's epsilon for the mistake, skip and equal presets."""

TEACHER_PRESETS: dict[str, str] = {
    "oracle": "rational: always prefers the clip with the higher return (ties: equal)",
    "noisy": "Boltzmann-rational with beta=1: P(left) = sigmoid(R_left - R_right)",
    "mistake": "rational, but flips its answer with probability 0.1",
    "skip": "rational, skips a pair when both returns are low (threshold from epsilon 0.1)",
    "myopic": "rational on returns that weight step t by 0.9**(T-1-t) (later steps count more)",
    "equal": "rational, answers equal when returns are close (threshold from epsilon 0.1)",
}


@runtime_checkable
class Teacher(Protocol):
    """Anything that answers queries: a scripted teacher, or a person through the store."""

    def label(self, pairs: Sequence[ClipPair]) -> list[Answer]:
        """One answer per pair, in order."""
        ...


class ClipGoal(Protocol):
    """What a scripted teacher judges clips by (a suite goal, or the task reward)."""

    def clip_rewards(self, clip: Clip) -> np.ndarray:
        """``(T,)`` reward of each step of ``clip`` under this goal."""
        ...


class TaskGoal:
    """The env's own reward: the clip's ``true_rewards``.

    Example:
        >>> clip = Clip("hfrl/CartPole-v0", np.zeros((3, 4)), np.zeros(2, np.int64),
        ...             np.array([1.0, 0.5]), states=np.zeros((3, 4)))
        >>> TaskGoal().clip_rewards(clip).tolist()
        [1.0, 0.5]
    """

    name = "task"

    def clip_rewards(self, clip: Clip) -> np.ndarray:
        """``(T,)`` float64 true rewards of the clip."""
        return clip.true_rewards


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    """``log(sigmoid(x))`` without overflow."""
    return -np.logaddexp(0.0, -x)


class ScriptedTeacher:
    """A simulated teacher with B-Pref's behaviours (see the module docstring for the order).

    Args:
        goal: what clips are judged by; ``None`` is the task goal (``clip.true_rewards``).
        beta: rationality of the Boltzmann choice, > 0; ``math.inf`` is perfectly rational.
        gamma: myopic discount in (0, 1]; step ``t`` of ``T`` is weighted ``gamma**(T-1-t)``.
        epsilon: probability in [0, 1] of flipping a ``left``/``right`` answer (a mistake).
        skip_threshold: skip a pair when neither undiscounted return is above it. The default
            ``-inf`` never skips (a default of 0 would skip every pair of an env whose rewards
            are all negative, such as Pendulum).
        equal_threshold: answer ``equal`` when the undiscounted returns differ by strictly
            less than this; 0 never does.
        rng: the source of every random draw (choices and mistakes).
        name: recorded as the annotator of every answer.
        much_better_gap: give ``left``/``right`` answers a confidence: "much better" when the
            weighted returns differ by at least this (return units of one clip), else
            "slightly better". ``None`` (the default) gives none, as B-Pref's teachers.

    Each ``label`` call draws two uniform numbers per pair (choice, mistake), whatever the
    answers, so a teacher with a given seed answers the same pairs the same way.

    Example:
        >>> def clip(rewards):
        ...     T = len(rewards)
        ...     return Clip("hfrl/CartPole-v0", np.zeros((T + 1, 4)), np.zeros(T, np.int64),
        ...                 np.array(rewards, float), states=np.zeros((T + 1, 4)))
        >>> teacher = ScriptedTeacher(rng=np.random.default_rng(0), name="oracle")
        >>> pairs = [ClipPair(clip([1, 1]), clip([0, 1])), ClipPair(clip([0, 0]), clip([0, 0]))]
        >>> [answer.choice.value for answer in teacher.label(pairs)]
        ['left', 'equal']
    """

    def __init__(
        self,
        *,
        goal: ClipGoal | None = None,
        beta: float = math.inf,
        gamma: float = 1.0,
        epsilon: float = 0.0,
        skip_threshold: float = -math.inf,
        equal_threshold: float = 0.0,
        rng: np.random.Generator,
        name: str = "scripted",
        much_better_gap: float | None = None,
    ) -> None:
        if not beta > 0:
            raise ConfigError(f"beta must be > 0 (math.inf for a rational teacher), got {beta}")
        if not 0 < gamma <= 1:
            raise ConfigError(f"gamma must be in (0, 1] (1 = not myopic), got {gamma}")
        if not 0 <= epsilon <= 1:
            raise ConfigError(f"epsilon (mistake probability) must be in [0, 1], got {epsilon}")
        if math.isnan(skip_threshold) or skip_threshold == math.inf:
            raise ConfigError(
                f"skip_threshold must be finite or -inf (never skip), got {skip_threshold}"
            )
        if not 0 <= equal_threshold < math.inf:
            raise ConfigError(
                f"equal_threshold must be finite and >= 0 (0 = never equal), got {equal_threshold}"
            )
        if not isinstance(rng, np.random.Generator):
            raise ConfigError("rng must be a numpy Generator, e.g. np.random.default_rng(seed)")
        if not name:
            raise ConfigError("a teacher needs a non-empty name (it is the answers' annotator)")
        if much_better_gap is not None and not 0 <= much_better_gap < math.inf:
            raise ConfigError(
                f"much_better_gap must be finite and >= 0 (None = no confidence), got "
                f"{much_better_gap}"
            )
        self.much_better_gap = None if much_better_gap is None else float(much_better_gap)
        self.goal: ClipGoal = TaskGoal() if goal is None else goal
        self.beta = float(beta)
        self.gamma = float(gamma)
        self.epsilon = float(epsilon)
        self.skip_threshold = float(skip_threshold)
        self.equal_threshold = float(equal_threshold)
        self.rng = rng
        self.name = name

    def __repr__(self) -> str:
        return (
            f"ScriptedTeacher(name={self.name!r}, beta={self.beta}, gamma={self.gamma}, "
            f"epsilon={self.epsilon}, skip_threshold={self.skip_threshold}, "
            f"equal_threshold={self.equal_threshold}"
            + ("" if self.much_better_gap is None else f", much_better_gap={self.much_better_gap}")
            + ")"
        )

    def rewards(self, clip: Clip) -> np.ndarray:
        """``(T,)`` float64 rewards of ``clip`` under the teacher's goal, validated."""
        rewards = np.asarray(self.goal.clip_rewards(clip), dtype=np.float64)
        if rewards.shape != (clip.num_steps,) or not np.all(np.isfinite(rewards)):
            raise ConfigError(
                f"goal {self.goal!r} must return {clip.num_steps} finite rewards for clip "
                f"{clip.uid}, got shape {rewards.shape}"
            )
        return rewards

    def weighted_return(self, rewards: np.ndarray) -> float:
        """Myopic return: ``sum_t gamma**(T-1-t) * rewards[t]`` of ``(T,)`` rewards."""
        num_steps = rewards.shape[0]
        if self.gamma == 1.0:
            return float(rewards.sum())
        weights = self.gamma ** np.arange(num_steps - 1, -1, -1, dtype=np.float64)
        return float(weights @ rewards)

    def left_probability(self, weighted_difference: float) -> float:
        """Boltzmann ``P(left)`` for ``R_left - R_right`` of weighted returns (step 4)."""
        if self.beta == math.inf:
            return 1.0 if weighted_difference > 0 else (0.0 if weighted_difference < 0 else 0.5)
        return float(np.exp(_log_sigmoid(np.float64(self.beta * weighted_difference))))

    def label(self, pairs: Sequence[ClipPair]) -> list[Answer]:
        """Answer each pair (skip, equal, myopia, Boltzmann choice, mistake, in that order).

        Args:
            pairs: the queries; both clips of a pair come from one env.

        Returns:
            One ``Answer`` per pair, annotated with the teacher's name, 0 seconds.
        """
        choice_draws = self.rng.random(len(pairs))
        mistake_draws = self.rng.random(len(pairs))
        answers = []
        for pair, choice_draw, mistake_draw in zip(pairs, choice_draws, mistake_draws, strict=True):
            choice, confidence = self._choose(pair, float(choice_draw), float(mistake_draw))
            answers.append(Answer(choice, annotator=self.name, seconds=0.0, confidence=confidence))
        return answers

    def _choose(
        self, pair: ClipPair, choice_draw: float, mistake_draw: float
    ) -> tuple[Choice, Confidence | None]:
        left, right = self.rewards(pair.left), self.rewards(pair.right)
        left_return, right_return = float(left.sum()), float(right.sum())
        if max(left_return, right_return) <= self.skip_threshold:
            return Choice.SKIP, None
        if abs(left_return - right_return) < self.equal_threshold:
            return Choice.EQUAL, None
        difference = self.weighted_return(left) - self.weighted_return(right)
        if self.beta == math.inf and difference == 0:
            return Choice.EQUAL, None
        prefers_left = choice_draw < self.left_probability(difference)
        if mistake_draw < self.epsilon:
            prefers_left = not prefers_left
        return Choice.LEFT if prefers_left else Choice.RIGHT, self.confidence(difference)

    def confidence(self, weighted_difference: float) -> Confidence | None:
        """The confidence of a ``left``/``right`` answer for ``R_left - R_right`` of weighted
        returns (step 6): ``None`` unless ``much_better_gap`` is set."""
        if self.much_better_gap is None:
            return None
        if abs(weighted_difference) >= self.much_better_gap:
            return Confidence.MUCH
        return Confidence.SLIGHTLY


def bpref_thresholds(
    mean_episode_return: float,
    *,
    clip_num_steps: int,
    horizon: int,
    epsilon: float = PRESET_EPSILON,
) -> tuple[float, float]:
    """B-Pref's skip and equal thresholds, with epsilon applied once.

    The scale is the mean return of a clip, ``m = mean_episode_return * clip_num_steps /
    horizon``. For ``m >= 0`` the thresholds are B-Pref's: skip ``epsilon * m``, equal
    ``epsilon * m``. B-Pref's code multiplies by epsilon a second time after its first
    labelling session (``epsilon**2 * m``); we multiply once, as its paper describes. For
    ``m < 0`` (e.g. Pendulum) ``epsilon * m`` would be above nearly every clip's return and skip
    almost all pairs, so the skip threshold is ``m - (1 - epsilon) * |m|`` (equal to
    ``epsilon * m`` when ``m >= 0``) and the equal threshold ``epsilon * |m|``.

    Args:
        mean_episode_return: mean undiscounted return of an episode under the goal.
        clip_num_steps: steps per clip.
        horizon: steps per episode.
        epsilon: the fraction, B-Pref's 0.1 by default.

    Returns:
        ``(skip_threshold, equal_threshold)`` in return units of one clip.

    Example:
        >>> bpref_thresholds(200.0, clip_num_steps=50, horizon=500)
        (2.0, 2.0)
    """
    if clip_num_steps < 1 or horizon < clip_num_steps:
        raise ConfigError(
            f"need 1 <= clip_num_steps <= horizon, got clip_num_steps={clip_num_steps}, "
            f"horizon={horizon}"
        )
    if not math.isfinite(mean_episode_return) or not 0 < epsilon <= 1:
        raise ConfigError(
            f"need a finite mean episode return and epsilon in (0, 1], got "
            f"{mean_episode_return} and {epsilon}"
        )
    scale = mean_episode_return * clip_num_steps / horizon
    return scale - (1 - epsilon) * abs(scale), epsilon * abs(scale)


def estimate_mean_episode_return(
    clips: Sequence[Clip], *, horizon: int, goal: ClipGoal | None = None
) -> float:
    """Mean episode return implied by clips: the mean return per step times ``horizon``.

    Useful for the skip and equal presets when no episode returns are at hand: with clips cut
    evenly from episodes, ``estimate * clip_num_steps / horizon`` is the mean clip return.

    Example:
        >>> clip = Clip("hfrl/CartPole-v0", np.zeros((3, 4)), np.zeros(2, np.int64),
        ...             np.array([1.0, 0.0]), states=np.zeros((3, 4)))
        >>> estimate_mean_episode_return([clip], horizon=100)
        50.0
    """
    if not clips:
        raise ConfigError("need at least one clip to estimate a mean episode return")
    goal = TaskGoal() if goal is None else goal
    per_step = [float(np.mean(goal.clip_rewards(clip))) for clip in clips]
    return float(np.mean(per_step)) * horizon


def make_teacher(
    preset: str,
    *,
    goal: ClipGoal | None = None,
    rng: np.random.Generator,
    mean_episode_return: float | None = None,
    clip_num_steps: int | None = None,
    horizon: int | None = None,
    much_better_gap: float | None = None,
) -> ScriptedTeacher:
    """A scripted teacher from one of B-Pref's six presets (``TEACHER_PRESETS``).

    Args:
        preset: ``oracle``, ``noisy``, ``mistake``, ``skip``, ``myopic`` or ``equal``.
        goal: what clips are judged by; ``None`` is the task goal.
        rng: the teacher's random source.
        mean_episode_return: mean return of an episode under the goal (``skip``/``equal``
            only); :func:`estimate_mean_episode_return` gives one from clips.
        clip_num_steps: steps per clip (``skip``/``equal`` only).
        horizon: steps per episode (``skip``/``equal`` only).
        much_better_gap: give answers a confidence (``ScriptedTeacher``); ``None``: none.

    Returns:
        A ``ScriptedTeacher`` named after the preset.

    Example:
        >>> make_teacher("myopic", rng=np.random.default_rng(0)).gamma
        0.9
    """
    if preset not in TEACHER_PRESETS:
        raise ConfigError(
            f"unknown teacher preset {preset!r}; choose one of {', '.join(TEACHER_PRESETS)}"
        )
    common = {"goal": goal, "rng": rng, "name": preset, "much_better_gap": much_better_gap}
    if preset in ("skip", "equal"):
        if mean_episode_return is None or clip_num_steps is None or horizon is None:
            raise ConfigError(
                f"the {preset!r} teacher's threshold needs mean_episode_return, clip_num_steps "
                "and horizon (estimate_mean_episode_return(clips, horizon=...) gives the first)"
            )
        skip, equal = bpref_thresholds(
            mean_episode_return, clip_num_steps=clip_num_steps, horizon=horizon
        )
        if preset == "skip":
            return ScriptedTeacher(skip_threshold=skip, **common)
        return ScriptedTeacher(equal_threshold=equal, **common)
    if preset == "noisy":
        return ScriptedTeacher(beta=1.0, **common)
    if preset == "mistake":
        return ScriptedTeacher(epsilon=PRESET_EPSILON, **common)
    if preset == "myopic":
        return ScriptedTeacher(gamma=0.9, **common)
    return ScriptedTeacher(**common)

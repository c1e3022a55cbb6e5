"""Query selection: which pairs of clips to ask a teacher about.

Pairs are index pairs ``(i, j)`` into a list of clips, with ``i != j`` and both clips from
one env. Within one call no unordered pair is returned twice; which clip is on the left is
a coin flip.

Classes:
    PreferenceModel: protocol of a model that gives each ensemble member's ``P(left better)``.

Functions:
    uniform_pairs: pairs drawn uniformly among all same-env pairs.
    disagreement_pairs: of ``oversample * num_pairs`` uniform candidates, those on which the
        ensemble members disagree most (variance of their ``P(left)``, Christiano et al. 2017).
    entropy_pairs: of the candidates, those whose mean ``P(left)`` is closest to 0.5
        (highest binary entropy).
    select_pairs: dispatch by method name (``QUERY_METHODS``).
    diverse_subset: a spread-out subset of clips (farthest-point sampling on what the clips
        show), so that near-identical clips are not compared with each other.
    pair_differences: how different the two clips of each pair look (0: identical).
    distinct_pairs: uniform pairs, leaving out those whose clips look the same (``hfrl
        record``; the training loop's pair choice does not use it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.errors import ConfigError

QUERY_METHODS = ("uniform", "disagreement", "entropy")

_ENUMERATE_LIMIT = 200_000
"""Enumerate every candidate pair when there are at most this many; else sample and reject."""

MIN_DIFFERENCE = 0.1
""":func:`distinct_pairs` leaves out pairs whose clips differ by less: a tenth of the
observations' spread. Random CartPole clips: 38% of pairs differ by 0 (the same crashed,
motionless cart), the rest by 2.9 or more; every other suite env: 0.27 or more (docs/UI.md)."""

_CHUNK = 4096
"""Pairs compared per vectorised step of :func:`pair_differences` (bounds its memory)."""


class PreferenceModel(Protocol):
    """A model whose ensemble members each predict ``P(left better)`` for pairs.

    ``hfrl_gym.reward_model.RewardModel`` is one; tests use fakes with known predictions.
    """

    def member_preference_probs(self, pairs: Sequence[ClipPair]) -> np.ndarray:
        """``(M, K)`` probability, per member, that each pair's left clip is better."""
        ...


def clip_descriptors(clips: Sequence[Clip]) -> np.ndarray:
    """``(K, 4 * obs_dim)`` summary of what each clip shows, standardised over the clips.

    First and last observation, mean and standard deviation over the clip: observations
    only, never rewards, so choosing clips by it reveals nothing of the goal.
    """
    rows = []
    for clip in clips:
        obs = clip.observations.reshape(clip.observations.shape[0], -1).astype(np.float64)
        rows.append(np.concatenate([obs[0], obs[-1], obs.mean(axis=0), obs.std(axis=0)]))
    features = np.stack(rows)
    spread = features.std(axis=0)
    return (features - features.mean(axis=0)) / np.where(spread > 1e-8, spread, 1.0)


def diverse_subset(clips: Sequence[Clip], size: int, rng: np.random.Generator) -> list[int]:
    """Indices of ``size`` clips spread over what the clips show (farthest-point sampling).

    In a fixed-horizon env most clips of a poor policy show the same thing (CartPole's pole
    lying on the track): uniform pairs then compare near-identical clips, and a person's
    answer ("equal") teaches little. Starting from a random clip, each next clip is the one
    farthest from those chosen (Euclidean distance between :func:`clip_descriptors`).

    Example:
        >>> from hfrl_gym.clips import Clip
        >>> def still(value):
        ...     obs = np.full((3, 1), value)
        ...     return Clip("hfrl/CartPole-v0", obs, np.zeros(2, np.int64), np.zeros(2),
        ...                 states=obs)
        >>> clips = [still(0.0)] * 8 + [still(5.0), still(-5.0)]
        >>> sorted(diverse_subset(clips, 3, np.random.default_rng(0)))[-2:]
        [8, 9]
    """
    if size >= len(clips):
        return list(range(len(clips)))
    features = clip_descriptors(clips)
    chosen = [int(rng.integers(len(clips)))]
    distance = np.linalg.norm(features - features[chosen[0]], axis=1)
    distance[chosen[0]] = -1.0  # never chosen twice, even among identical clips
    while len(chosen) < size:
        nxt = int(np.argmax(distance))
        chosen.append(nxt)
        distance = np.minimum(distance, np.linalg.norm(features - features[nxt], axis=1))
        distance[chosen] = -1.0
    return chosen


def _trajectories(clips: Sequence[Clip]) -> np.ndarray:
    """``(K, n, d)`` observations of each clip, resampled to the shortest clip's ``n`` frames
    and divided by each dimension's spread over every observation of every clip."""
    flat = [clip.observations.reshape(clip.observations.shape[0], -1) for clip in clips]
    frames = min(obs.shape[0] for obs in flat)
    stacked = np.stack(
        [obs[np.linspace(0, obs.shape[0] - 1, frames).round().astype(int)] for obs in flat]
    ).astype(np.float64)
    spread = np.concatenate(flat).astype(np.float64).std(axis=0)
    return stacked / np.where(spread > 1e-8, spread, 1.0)


def pair_differences(
    clips: Sequence[Clip], pairs: Sequence[tuple[int, int]] | np.ndarray
) -> np.ndarray:
    """How different the two clips of each pair look: 0 when they show the same thing.

    The root mean square, over the clips' frames, of the distance between the two clips'
    observations at that frame, each dimension in units of its spread (standard deviation)
    over every observation of ``clips``. No threshold per env: the spread sets the scale.
    Observations only, never rewards.

    Args:
        clips: the candidate clips of one env (the spread is taken over all of them).
        pairs: ``(i, j)`` index pairs into ``clips``.

    Returns:
        ``(len(pairs),)`` differences, ``>= 0``.

    Example:
        >>> def still(value):
        ...     obs = np.full((3, 4), value)
        ...     return Clip("hfrl/CartPole-v0", obs, np.zeros(2, np.int64), np.zeros(2),
        ...                 states=obs)
        >>> pair_differences([still(0.0), still(0.0), still(1.0)], [(0, 1), (0, 2)]).round(2)
        array([0.  , 4.24])
    """
    if len(pairs) == 0:
        return np.zeros(0)
    scaled = _trajectories(clips)
    index = np.asarray(pairs, dtype=np.int64)
    parts = []
    for start in range(0, len(index), _CHUNK):
        chunk = index[start : start + _CHUNK]
        gap = scaled[chunk[:, 0]] - scaled[chunk[:, 1]]
        parts.append(np.sqrt((gap**2).sum(axis=2).mean(axis=1)))
    return np.concatenate(parts)


def distinct_pairs(
    clips: Sequence[Clip],
    num_pairs: int,
    rng: np.random.Generator,
    *,
    min_difference: float = MIN_DIFFERENCE,
) -> tuple[list[tuple[int, int]], int]:
    """Up to ``num_pairs`` uniform same-env pairs whose two clips do not look the same.

    Pairs are looked at in a uniformly random order; a pair whose
    :func:`pair_differences` (over the clips of its env) is below ``min_difference`` is left
    out: a person cannot judge two clips that look identical (two random CartPole clips are
    most often the same crashed, motionless cart). Fewer than ``num_pairs`` come back when
    fewer pairs differ.

    Returns:
        ``(pairs, dropped)``: the ``(left, right)`` index pairs, and how many pairs were left
        out before they were found (all that were looked at, when too few differ).

    Example:
        >>> def still(value):
        ...     obs = np.full((3, 4), value)
        ...     return Clip("hfrl/CartPole-v0", obs, np.zeros(2, np.int64), np.zeros(2),
        ...                 states=obs)
        >>> pairs, dropped = distinct_pairs([still(0.0)] * 3 + [still(1.0)], 5,
        ...                                 np.random.default_rng(0))
        >>> sorted(sorted(pair) for pair in pairs), dropped
        ([[0, 3], [1, 3], [2, 3]], 3)
    """
    if not (min_difference >= 0 and np.isfinite(min_difference)):
        raise ConfigError(f"min_difference must be a finite number >= 0, got {min_difference}")
    wanted = max(int(num_pairs), 0)
    candidates = uniform_pairs(clips, min(num_possible_pairs(clips), _ENUMERATE_LIMIT), rng)
    index = np.asarray(candidates, dtype=np.int64).reshape(-1, 2)
    differences = np.zeros(len(candidates))
    for group in _groups(clips):
        local = np.full(len(clips), -1)
        local[group] = np.arange(len(group))
        rows = np.flatnonzero(local[index[:, 0]] >= 0)
        differences[rows] = pair_differences([clips[i] for i in group], local[index[rows]])
    chosen = np.flatnonzero(differences >= min_difference)[:wanted]
    looked_at = int(chosen[-1]) + 1 if wanted and len(chosen) == wanted else len(candidates)
    return [candidates[k] for k in chosen], (looked_at if wanted else 0) - len(chosen)


def _groups(clips: Sequence[Clip]) -> list[np.ndarray]:
    """Indices of the clips of each env, for the envs with at least two clips."""
    by_env: dict[str, list[int]] = {}
    for index, clip in enumerate(clips):
        by_env.setdefault(clip.env_id, []).append(index)
    return [np.array(indices) for indices in by_env.values() if len(indices) >= 2]


def num_possible_pairs(clips: Sequence[Clip]) -> int:
    """Number of unordered pairs of distinct clips from one env."""
    return sum(len(group) * (len(group) - 1) // 2 for group in _groups(clips))


def uniform_pairs(
    clips: Sequence[Clip], num_pairs: int, rng: np.random.Generator
) -> list[tuple[int, int]]:
    """``num_pairs`` distinct pairs drawn uniformly among all same-env pairs of ``clips``.

    Args:
        clips: the pool; clips of several envs are never paired across envs.
        num_pairs: how many pairs, at most :func:`num_possible_pairs`.
        rng: the random source.

    Returns:
        ``(left, right)`` index pairs into ``clips``.

    Example:
        >>> clips = [Clip("hfrl/CartPole-v0", np.zeros((3, 4)), np.zeros(2, np.int64),
        ...               np.ones(2), states=np.zeros((3, 4))) for _ in range(3)]
        >>> pairs = uniform_pairs(clips, 3, np.random.default_rng(0))
        >>> sorted(tuple(sorted(pair)) for pair in pairs)
        [(0, 1), (0, 2), (1, 2)]
    """
    if num_pairs < 0:
        raise ConfigError(f"num_pairs must be >= 0, got {num_pairs}")
    groups = _groups(clips)
    sizes = np.array([len(group) for group in groups], dtype=np.int64)
    counts = sizes * (sizes - 1) // 2
    total = int(counts.sum())
    if num_pairs > total:
        raise ConfigError(
            f"asked for {num_pairs} distinct pairs but the {len(clips)} clips make only "
            f"{total} same-env pairs; record more clips or ask for fewer pairs"
        )
    if num_pairs == 0:
        return []
    if total <= _ENUMERATE_LIMIT:
        unordered = _all_pairs(groups)[rng.choice(total, size=num_pairs, replace=False)]
    else:
        unordered = _sample_pairs(groups, counts / total, num_pairs, rng)
    swap = rng.random(num_pairs) < 0.5
    ordered = np.where(swap[:, None], unordered[:, ::-1], unordered)
    return [(int(left), int(right)) for left, right in ordered]


def _all_pairs(groups: list[np.ndarray]) -> np.ndarray:
    """``(P, 2)`` every unordered same-env pair, ``i < j`` within each row."""
    parts = []
    for group in groups:
        rows, cols = np.triu_indices(len(group), k=1)
        parts.append(np.stack([group[rows], group[cols]], axis=1))
    return np.concatenate(parts)


def _sample_pairs(
    groups: list[np.ndarray], weights: np.ndarray, num_pairs: int, rng: np.random.Generator
) -> np.ndarray:
    """Uniform distinct pairs by rejection (used when there are too many to enumerate)."""
    seen: set[tuple[int, int]] = set()
    while len(seen) < num_pairs:
        group = groups[rng.choice(len(groups), p=weights)]
        first, second = rng.choice(len(group), size=2, replace=False)
        pair = (int(group[first]), int(group[second]))
        seen.add((min(pair), max(pair)))
    return np.array(sorted(seen), dtype=np.int64)


def _candidates(
    clips: Sequence[Clip],
    num_pairs: int,
    model: PreferenceModel,
    rng: np.random.Generator,
    oversample: int,
) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Uniform candidates and the ``(M, C)`` member probabilities for them."""
    if oversample < 1:
        raise ConfigError(f"oversample must be >= 1, got {oversample}")
    num_candidates = min(num_pairs * oversample, num_possible_pairs(clips))
    candidates = uniform_pairs(clips, num_candidates, rng)
    if num_pairs > len(candidates):
        raise ConfigError(
            f"asked for {num_pairs} pairs but only {len(candidates)} same-env pairs exist"
        )
    pairs = [ClipPair(clips[left], clips[right]) for left, right in candidates]
    probs = np.asarray(model.member_preference_probs(pairs), dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] != len(candidates):
        raise ConfigError(
            f"member_preference_probs must return (members, {len(candidates)}) probabilities, "
            f"got shape {probs.shape}"
        )
    return candidates, probs


def _top(
    candidates: list[tuple[int, int]], scores: np.ndarray, num_pairs: int
) -> list[tuple[int, int]]:
    """The ``num_pairs`` candidates with the highest scores (ties: earlier candidate)."""
    order = np.argsort(-scores, kind="stable")[:num_pairs]
    return [candidates[index] for index in order]


def disagreement_pairs(
    clips: Sequence[Clip],
    num_pairs: int,
    model: PreferenceModel,
    rng: np.random.Generator,
    oversample: int = 10,
) -> list[tuple[int, int]]:
    """Pairs the ensemble disagrees on most (Christiano et al. 2017).

    Draws ``oversample * num_pairs`` uniform candidates (fewer if the pool is smaller) and
    keeps the ``num_pairs`` with the highest variance across members of ``P(left better)``.

    Example:
        >>> class Split:  # member 0 says left, member 1 says right, on pairs with clip 0
        ...     def member_preference_probs(self, pairs):
        ...         p = np.array([0.9 if clips[0] in (p.left, p.right) else 0.5 for p in pairs])
        ...         return np.stack([p, 1 - p])
        >>> clips = [Clip("hfrl/CartPole-v0", np.zeros((3, 4)), np.zeros(2, np.int64),
        ...               np.ones(2), states=np.zeros((3, 4))) for _ in range(4)]
        >>> all(0 in pair for pair in disagreement_pairs(clips, 3, Split(),
        ...                                               np.random.default_rng(0)))
        True
    """
    candidates, probs = _candidates(clips, num_pairs, model, rng, oversample)
    return _top(candidates, probs.var(axis=0), num_pairs)


def entropy_pairs(
    clips: Sequence[Clip],
    num_pairs: int,
    model: PreferenceModel,
    rng: np.random.Generator,
    oversample: int = 10,
) -> list[tuple[int, int]]:
    """Pairs whose ensemble-mean ``P(left better)`` is most uncertain (highest entropy).

    Same candidates as :func:`disagreement_pairs`; the score is the binary entropy of the
    members' mean probability.

    Example:
        >>> class Sure:  # certain about every pair except those with clip 1
        ...     def member_preference_probs(self, pairs):
        ...         return np.array([[0.5 if clips[1] in (p.left, p.right) else 0.99
        ...                           for p in pairs]])
        >>> clips = [Clip("hfrl/CartPole-v0", np.zeros((3, 4)), np.zeros(2, np.int64),
        ...               np.ones(2), states=np.zeros((3, 4))) for _ in range(4)]
        >>> all(1 in pair for pair in entropy_pairs(clips, 3, Sure(), np.random.default_rng(0)))
        True
    """
    candidates, probs = _candidates(clips, num_pairs, model, rng, oversample)
    mean = np.clip(probs.mean(axis=0), 1e-12, 1 - 1e-12)
    entropy = -(mean * np.log(mean) + (1 - mean) * np.log1p(-mean))
    return _top(candidates, entropy, num_pairs)


def select_pairs(
    method: str,
    clips: Sequence[Clip],
    num_pairs: int,
    rng: np.random.Generator,
    *,
    model: PreferenceModel | None = None,
    oversample: int = 10,
) -> list[tuple[int, int]]:
    """Pairs chosen by ``method`` (one of ``QUERY_METHODS``).

    Args:
        method: ``uniform``, ``disagreement`` or ``entropy``.
        clips: the pool.
        num_pairs: how many pairs.
        rng: the random source.
        model: the reward model, needed by ``disagreement`` and ``entropy``.
        oversample: candidates per chosen pair for ``disagreement`` and ``entropy``.

    Example:
        >>> select_pairs("random", [], 1, np.random.default_rng(0))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        hfrl_gym.errors.ConfigError: unknown query method 'random'; choose one of uniform, ...
    """
    if method not in QUERY_METHODS:
        raise ConfigError(
            f"unknown query method {method!r}; choose one of {', '.join(QUERY_METHODS)}"
        )
    if method == "uniform":
        return uniform_pairs(clips, num_pairs, rng)
    if model is None:
        raise ConfigError(f"query method {method!r} needs a reward model (model=...)")
    selectors: dict[str, Callable[..., list[tuple[int, int]]]] = {
        "disagreement": disagreement_pairs,
        "entropy": entropy_pairs,
    }
    return selectors[method](clips, num_pairs, model, rng, oversample=oversample)

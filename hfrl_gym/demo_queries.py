"""A person's demonstrations as queries (``hfrl store pair-demos``).

``hfrl play`` stores the episodes a person plays as clips of policy ``"human"``. Posting
pairs of them, with each other and with the store's other clips (an agent's, a random
policy's), asks a person which is better, so that demonstrations teach the reward model
through the same answers as every other clip.

Classes:
    DemoPairs: the pairs chosen and what was left out.

Functions:
    demonstration_pairs: choose pairs among a store's clips (indices; nothing stored).
    pair_demonstrations: read the stores, choose, and post the queries in one transaction.

Attributes:
    HUMAN: the policy name of a person's clips.
    AGAINST: what demonstrations can be paired with.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hfrl_gym.clips import Clip
from hfrl_gym.errors import ConfigError
from hfrl_gym.queries import MIN_DIFFERENCE, pair_differences
from hfrl_gym.store import LabelStore

HUMAN = "human"
AGAINST = ("both", "demos", "clips")
"""``demos``: demonstration with demonstration; ``clips``: with the store's other clips."""


@dataclass(frozen=True)
class DemoPairs:
    """Pairs chosen by :func:`demonstration_pairs`.

    Attributes:
        pairs: ``(left, right)`` indices into the clips given, the sides a coin flip.
        with_demos: how many of them pair two demonstrations.
        looked_alike: pairs left out because their two clips look the same.
        available: the new pairs of different-looking clips there were in all.
    """

    pairs: list[tuple[int, int]]
    with_demos: int
    looked_alike: int
    available: int


def _candidates(clips: Sequence[Clip], against: str) -> list[tuple[int, int]]:
    """Every unordered pair with a demonstration, of one env and one clip length."""
    groups: dict[tuple[str, int], tuple[list[int], list[int]]] = {}
    for index, clip in enumerate(clips):
        demos, others = groups.setdefault((clip.env_id, clip.num_steps), ([], []))
        (demos if clip.policy == HUMAN else others).append(index)
    found = []
    for demos, others in groups.values():
        if against in ("both", "demos"):
            found += [(a, b) for n, a in enumerate(demos) for b in demos[n + 1 :]]
        if against in ("both", "clips"):
            found += [(a, b) for a in demos for b in others]
    return found


def demonstration_pairs(
    clips: Sequence[Clip],
    num_pairs: int,
    rng: np.random.Generator,
    *,
    against: str = "both",
    posted: set[frozenset[str]] | None = None,
    min_difference: float = MIN_DIFFERENCE,
) -> DemoPairs:
    """Up to ``num_pairs`` new pairs, each with a demonstration (a clip of policy ``human``).

    Pairs are of one env and one clip length (a longer clip is not comparable), drawn
    uniformly; a pair already ``posted`` (either way round) or whose clips look the same
    (:func:`hfrl_gym.queries.pair_differences` below ``min_difference``, the spread taken over
    the clips of its env and length) is left out.

    Example:
        >>> def clip(value, policy):
        ...     obs = np.full((3, 4), value)
        ...     return Clip("hfrl/CartPole-v0", obs, np.zeros(2, np.int64), np.zeros(2),
        ...                 states=obs, policy=policy)
        >>> clips = [clip(0.0, "human"), clip(0.0, "human"), clip(1.0, "random")]
        >>> chosen = demonstration_pairs(clips, 5, np.random.default_rng(0))
        >>> sorted(sorted(pair) for pair in chosen.pairs), chosen.looked_alike
        ([[0, 2], [1, 2]], 1)
    """
    if against not in AGAINST:
        raise ConfigError(f"--against must be one of {', '.join(AGAINST)}, got {against!r}")
    uids = [clip.uid for clip in clips]
    candidates = [
        pair
        for pair in _candidates(clips, against)
        if frozenset((uids[pair[0]], uids[pair[1]])) not in (posted or set())
    ]
    order = rng.permutation(len(candidates))
    candidates = [candidates[k] for k in order]
    differences = np.zeros(len(candidates))
    kinds = sorted({(clips[a].env_id, clips[a].num_steps) for a, _ in candidates})
    for kind in kinds:
        members = [i for i, clip in enumerate(clips) if (clip.env_id, clip.num_steps) == kind]
        local = {index: n for n, index in enumerate(members)}
        rows = [k for k, (a, _) in enumerate(candidates) if a in local]
        pairs = [(local[candidates[k][0]], local[candidates[k][1]]) for k in rows]
        differences[rows] = pair_differences([clips[i] for i in members], pairs)
    distinct = [
        pair for pair, gap in zip(candidates, differences, strict=True) if gap >= min_difference
    ]
    chosen = distinct[: max(int(num_pairs), 0)]
    flips = rng.random(len(chosen)) < 0.5
    pairs = [(b, a) if flip else (a, b) for (a, b), flip in zip(chosen, flips, strict=True)]
    both_demos = sum(clips[a].policy == clips[b].policy == HUMAN for a, b in pairs)
    return DemoPairs(pairs, both_demos, len(candidates) - len(distinct), len(distinct))


@dataclass(frozen=True)
class PostedDemoPairs:
    """What :func:`pair_demonstrations` did.

    Attributes:
        query_ids: the ids of the queries posted.
        chosen: the pairs and what was left out.
        demonstrations: the demonstrations that could be paired.
        copied: demonstrations copied in from the ``demos`` store.
    """

    query_ids: list[int]
    chosen: DemoPairs
    demonstrations: int
    copied: int


def _demonstrations_of(path: Path, env_id: str | None, into: Path) -> list[Clip]:
    """The clips of policy ``human`` in the store at ``path`` (one env when given)."""
    if path.exists() and into.exists() and path.samefile(into):
        raise ConfigError(
            f"--demos {path} is the store the queries go into; leave --demos out to pair that "
            "store's own demonstrations"
        )
    with LabelStore(path, create=False) as source:
        return [clip for clip in source.get_clips(source.clip_uids(env_id)) if clip.policy == HUMAN]


def pair_demonstrations(
    store_path: Path,
    num_pairs: int,
    *,
    demos: Path | None = None,
    env_id: str | None = None,
    against: str = "both",
    seed: int = 0,
    min_difference: float = MIN_DIFFERENCE,
) -> PostedDemoPairs:
    """Post up to ``num_pairs`` queries pairing the demonstrations in ``store_path`` (and
    those copied in from the store ``demos``) with each other and the store's other clips.

    The copied clips and the queries are stored in one transaction, in round 0; nothing is
    stored when anything is refused.

    Raises:
        ConfigError: no demonstrations, or no new pair of different-looking clips.
        StoreError, UnknownEnvError: a store that cannot be used, an env not in the suite.
    """
    if env_id is not None:
        from hfrl_gym.envs import get_spec

        get_spec(env_id)  # an unknown env is named before any store is read
    if against not in AGAINST:
        raise ConfigError(f"--against must be one of {', '.join(AGAINST)}, got {against!r}")
    with LabelStore(store_path, create=False) as store:
        clips = store.get_clips(store.clip_uids(env_id))
        known = {clip.uid for clip in clips}
        copies = [] if demos is None else _demonstrations_of(demos, env_id, store_path)
        copies = [clip for clip in copies if clip.uid not in known]
        clips += copies
        num_demos = sum(clip.policy == HUMAN for clip in clips)
        of_env = f" of {env_id}" if env_id else ""
        if num_demos == 0:
            where = f"{store_path}" + ("" if demos is None else f" or {demos}")
            raise ConfigError(
                f"{where} holds no demonstrations{of_env} (clips of policy 'human'); record "
                f"some with `hfrl play ENV --store {store_path}`, or name their store with --demos"
            )
        posted = {frozenset((q.left_uid, q.right_uid)) for q in store.queries()}
        rng = np.random.default_rng(seed)
        chosen = demonstration_pairs(
            clips, num_pairs, rng, against=against, posted=posted, min_difference=min_difference
        )
        if not chosen.pairs:
            raise ConfigError(
                f"no new pair to post for the {num_demos} demonstrations{of_env} with "
                f"--against {against}: every pair of one env and clip length is posted already "
                f"or looks the same ({chosen.looked_alike} look alike); play more with `hfrl play`"
            )
        now = time.time()
        records = [
            {
                "uid": uuid.uuid4().hex,
                "left_uid": clips[left].uid,
                "right_uid": clips[right].uid,
                "round": 0,
                "created": now,
            }
            for left, right in chosen.pairs
        ]
        store.import_records(copies, records, [])
        new = {record["uid"] for record in records}
        ids = [record["id"] for record in store.query_records() if record["uid"] in new]
    return PostedDemoPairs(ids, chosen, num_demos, len(copies))

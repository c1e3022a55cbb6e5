"""The pair-selection part of the loop: which clips a round asks about, and posting them.

Classes:
    PairSelector: a diverse set of candidates, then pairs by the run's query method.

Functions:
    asked_clips: the clips a store's queries asked about so far (``PairSelector``'s
        ``earlier``).
    informative: which pairs the teacher is unlikely to tie or skip, judged by what it tied
        and skipped before.
    post_pairs: store the clips of chosen pairs and post the pairs as one round's queries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from agents.reward_fitter import RewardFitter
from hfrl_gym.answers import Answer, Choice
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.errors import ConfigError
from hfrl_gym.queries import diverse_subset, num_possible_pairs, pair_differences, select_pairs
from hfrl_gym.reward_model import RewardModel
from hfrl_gym.store import LabelStore, Query

History = Callable[[], Sequence[tuple[ClipPair, Answer]]]
"""The answers so far, with their pairs (``LabelStore.labelled_pairs``)."""

Earlier = Callable[[], Sequence[Clip]]
"""The clips asked about in earlier rounds (:func:`asked_clips`)."""


def informative(
    model: RewardModel,
    history: Sequence[tuple[ClipPair, Answer]],
    pairs: Sequence[tuple[Clip, Clip]],
) -> np.ndarray:
    """``(P,)`` bool: the pairs the teacher is unlikely to tie or skip.

    A teacher ties pairs it cannot tell apart and skips pairs where both clips are poor; such
    answers cost a label and teach little. Their thresholds are the teacher's own, unknown
    here, so they are read from its answers so far, in the learned reward's units: a pair is
    kept when its predicted return gap exceeds the median gap of the pairs it tied, and its
    better clip's predicted return exceeds the median of the better clips of the pairs it
    skipped (each rule once it has tied, or skipped, at least two pairs).
    """
    keep = np.ones(len(pairs), dtype=bool)
    if not pairs:
        return keep
    tied = [pair for pair, answer in history if answer.choice is Choice.EQUAL]
    skipped = [pair for pair, answer in history if answer.choice is Choice.SKIP]
    if len(tied) < 2 and len(skipped) < 2:
        return keep

    def returns(two_sided: Sequence[tuple[Clip, Clip]]) -> tuple[np.ndarray, np.ndarray]:
        values = model.clip_returns([clip for pair in two_sided for clip in pair])
        return values[0::2], values[1::2]

    left, right = returns(pairs)
    if len(tied) >= 2:
        tied_left, tied_right = returns([(p.left, p.right) for p in tied])
        keep &= np.abs(left - right) > np.median(np.abs(tied_left - tied_right))
    if len(skipped) >= 2:
        skip_left, skip_right = returns([(p.left, p.right) for p in skipped])
        keep &= np.maximum(left, right) > np.median(np.maximum(skip_left, skip_right))
    return keep


class PairSelector:
    """Choose the pairs of clips to ask about.

    Candidates are a spread-out subset of the clips (farthest-point sampling over what they
    show), so that near-identical clips (a fallen CartPole pole, say) are not compared with
    each other; pairs among them are then chosen by ``method`` once a reward model has been
    fit, uniformly before.

    Args:
        method: ``uniform``, ``disagreement`` or ``entropy`` (``hfrl_gym.queries``).
        rng: the selection's random source.
        fitter: the run's reward fitter; ``None`` for uniform pairs always.
        diverse: choose among a spread-out subset of the clips (the loop); ``False``: among
            all of them (a lesson whose numbers rest on pairs drawn from every clip).
        history: the answers so far; with it (and a fitted model) pairs the teacher would
            likely tie or skip are passed over (:func:`informative`) while others remain.
        earlier: the clips asked about before; with it, some of them join the candidates
            (about one in five), so the newest clips are also compared with older behaviour
            (the exploration's clips, a better policy's): a policy that collapsed, whose new
            clips all look alike, still yields pairs that tell it what was better. Pairs of
            two earlier clips come last (they may have been asked already).
        min_difference: pass over pairs whose two clips look the same
            (``hfrl_gym.queries.pair_differences`` below this) while others remain: a person
            cannot judge them. ``None``: keep them (scripted teachers tie them; the
            benchmarks were measured so).

    Example:
        >>> from hfrl_gym.recording import record_random_clips
        >>> clips = record_random_clips("hfrl/CartPole-v0", num_clips=4, clip_num_steps=5, seed=0)
        >>> every_clip = PairSelector("uniform", np.random.default_rng(0), diverse=False)
        >>> pairs = every_clip.select(clips, 6)
        >>> len({frozenset((a.uid, b.uid)) for a, b in pairs})  # every pair of the 4 clips
        6
    """

    def __init__(
        self,
        method: str,
        rng: np.random.Generator,
        fitter: RewardFitter | None = None,
        *,
        diverse: bool = True,
        history: History | None = None,
        min_difference: float | None = None,
        earlier: Earlier | None = None,
    ) -> None:
        self.method, self.rng, self.fitter, self.diverse = method, rng, fitter, diverse
        self.history, self.min_difference, self.earlier = history, min_difference, earlier

    def select(self, clips: Sequence[Clip], num_pairs: int) -> list[tuple[Clip, Clip]]:
        """``num_pairs`` pairs of ``clips``.

        Raises:
            ConfigError: fewer than two clips to compare.
        """
        if len(clips) < 2:
            raise ConfigError(
                f"{len(clips)} clip(s) to compare; raise --steps or lower --clip-steps so each "
                "round records clips"
            )
        if self.diverse:
            candidates = [clips[i] for i in diverse_subset(clips, 4 * num_pairs + 8, self.rng)]
        else:
            candidates = list(clips)
        num_new = len(candidates)
        if self.earlier is not None:
            new = {clip.uid for clip in clips}
            old = [clip for clip in self.earlier() if clip.uid not in new]
            if old:
                chosen = diverse_subset(old, min(len(old), num_pairs + 2), self.rng)
                candidates += [old[i] for i in chosen]
        model = None if self.fitter is None else self.fitter.fitted_model
        method = self.method if model is not None else "uniform"
        use_history = model is not None and self.history is not None
        revisits = len(candidates) > num_new
        if not use_history and self.min_difference is None and not revisits:
            index_pairs = select_pairs(method, candidates, num_pairs, self.rng, model=model)
            return [(candidates[i], candidates[j]) for i, j in index_pairs]
        # Three times as many, best first; the ones worth asking are taken first.
        wanted = min(3 * num_pairs, num_possible_pairs(candidates))
        index_pairs = select_pairs(method, candidates, wanted, self.rng, model=model)
        ranked = [(candidates[i], candidates[j]) for i, j in index_pairs]
        keep = np.ones(len(ranked), dtype=bool)
        if model is not None and self.history is not None:
            keep &= informative(model, self.history(), ranked)
        if self.min_difference is not None:
            keep &= pair_differences(candidates, index_pairs) >= self.min_difference
        if revisits:
            keep &= np.array([min(i, j) < num_new for i, j in index_pairs], dtype=bool)
        order = [*np.flatnonzero(keep), *np.flatnonzero(~keep)]
        return [ranked[index] for index in order[:num_pairs]]


def asked_clips(store: LabelStore) -> Earlier:
    """The clips of ``store``'s queries so far, in the order they were stored.

    Read from the store, so a resumed run revisits exactly the clips the uninterrupted run
    would have.
    """

    def earlier() -> list[Clip]:
        queries = store.queries()
        uids = dict.fromkeys(uid for q in queries for uid in (q.left_uid, q.right_uid))
        return store.get_clips(list(uids))

    return earlier


def post_pairs(
    store: LabelStore, round_index: int, pairs: Sequence[tuple[Clip, Clip]]
) -> list[Query]:
    """Store the pairs' clips and post the pairs as round ``round_index``'s queries."""
    clips = {clip.uid: clip for pair in pairs for clip in pair}  # each clip once, in order
    store.add_clips(list(clips.values()))
    ids = store.add_queries([(a.uid, b.uid) for a, b in pairs], round=round_index)
    return [store.get_query(query_id) for query_id in ids]

"""The pair-selection part of the loop: which clips a round asks about, and posting them.

Classes:
    PairSelector: a diverse set of candidates, then pairs by the run's query method.

Functions:
    post_pairs: store the clips of chosen pairs and post the pairs as one round's queries.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from agents.reward_fitter import RewardFitter
from hfrl_gym.clips import Clip
from hfrl_gym.errors import ConfigError
from hfrl_gym.queries import diverse_subset, select_pairs
from hfrl_gym.store import LabelStore, Query


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
    ) -> None:
        self.method, self.rng, self.fitter, self.diverse = method, rng, fitter, diverse

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
        model = None if self.fitter is None else self.fitter.fitted_model
        method = self.method if model is not None else "uniform"
        index_pairs = select_pairs(method, candidates, num_pairs, self.rng, model=model)
        return [(candidates[i], candidates[j]) for i, j in index_pairs]


def post_pairs(
    store: LabelStore, round_index: int, pairs: Sequence[tuple[Clip, Clip]]
) -> list[Query]:
    """Store the pairs' clips and post the pairs as round ``round_index``'s queries."""
    clips = {clip.uid: clip for pair in pairs for clip in pair}  # each clip once, in order
    store.add_clips(list(clips.values()))
    ids = store.add_queries([(a.uid, b.uid) for a, b in pairs], round=round_index)
    return [store.get_query(query_id) for query_id in ids]

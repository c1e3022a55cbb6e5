"""Tests of hfrl_gym.queries: uniform, disagreement and entropy pair selection."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import gymnasium as gym
import numpy as np
import pytest

from hfrl_gym import queries
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.errors import ConfigError
from hfrl_gym.queries import (
    QUERY_METHODS,
    disagreement_pairs,
    entropy_pairs,
    num_possible_pairs,
    select_pairs,
    uniform_pairs,
)
from hfrl_gym.reward_model import RewardModel


def make_clips(count: int, env_id: str = "test/A-v0", steps: int = 3) -> list[Clip]:
    return [
        Clip(
            env_id,
            np.full((steps + 1, 2), index, np.float32),
            np.zeros(steps, np.int64),
            np.zeros(steps),
            states=np.zeros((steps + 1, 2)),
        )
        for index in range(count)
    ]


class FakeModel:
    """Member probabilities looked up per unordered pair of clip indices."""

    def __init__(self, clips: list[Clip], table: dict[frozenset[int], list[float]]) -> None:
        self.index = {clip.uid: i for i, clip in enumerate(clips)}
        self.table = table
        self.calls = 0

    def member_preference_probs(self, pairs: Sequence[ClipPair]) -> np.ndarray:
        self.calls += 1
        columns = []
        for pair in pairs:
            key = frozenset((self.index[pair.left.uid], self.index[pair.right.uid]))
            columns.append(self.table.get(key, [0.9, 0.9, 0.9]))
        return np.array(columns).T


def test_uniform_pairs_are_distinct_within_one_env_and_never_repeated() -> None:
    clips = make_clips(6, "test/A-v0") + make_clips(4, "test/B-v0") + make_clips(1, "test/C-v0")
    assert num_possible_pairs(clips) == 15 + 6
    pairs = uniform_pairs(clips, 21, np.random.default_rng(0))
    unordered = {frozenset(pair) for pair in pairs}
    assert len(unordered) == 21
    for left, right in pairs:
        assert left != right
        assert clips[left].env_id == clips[right].env_id
    assert all(clips[i].env_id != "test/C-v0" for pair in pairs for i in pair)


def test_uniform_pairs_are_uniform_over_pairs_and_sides() -> None:
    clips = make_clips(5)
    rng = np.random.default_rng(1)
    draws = [uniform_pairs(clips, 1, rng)[0] for _ in range(10_000)]
    counts = Counter(frozenset(pair) for pair in draws)
    assert len(counts) == 10
    frequencies = np.array(list(counts.values())) / len(draws)
    assert np.all(np.abs(frequencies - 0.1) < 0.015)  # SE 0.003
    left_is_smaller = np.mean([left < right for left, right in draws])
    assert left_is_smaller == pytest.approx(0.5, abs=0.02)


def test_uniform_pairs_by_rejection_when_too_many_to_enumerate(monkeypatch) -> None:
    monkeypatch.setattr(queries, "_ENUMERATE_LIMIT", 5)
    clips = make_clips(8, "test/A-v0") + make_clips(8, "test/B-v0")
    pairs = uniform_pairs(clips, 40, np.random.default_rng(2))
    assert len({frozenset(pair) for pair in pairs}) == 40
    assert all(clips[left].env_id == clips[right].env_id for left, right in pairs)
    envs = Counter(clips[left].env_id for left, _ in pairs)
    assert set(envs) == {"test/A-v0", "test/B-v0"}


def test_asking_for_more_pairs_than_exist_is_refused_with_the_arithmetic() -> None:
    with pytest.raises(ConfigError, match="only 3 same-env pairs"):
        uniform_pairs(make_clips(3), 4, np.random.default_rng(0))
    assert uniform_pairs(make_clips(3), 0, np.random.default_rng(0)) == []


def test_disagreement_picks_the_pairs_the_ensemble_is_split_on() -> None:
    clips = make_clips(12)
    rng = np.random.default_rng(3)
    split = {frozenset(pair) for pair in uniform_pairs(clips, 6, rng)}
    table = {pair: [0.95, 0.05, 0.5] for pair in split}
    model = FakeModel(clips, table)
    # 66 pairs exist; 6 * 11 candidates cover them all, so the choice is exactly the split set.
    chosen = disagreement_pairs(clips, 6, model, np.random.default_rng(4), oversample=11)
    assert {frozenset(pair) for pair in chosen} == split
    assert model.calls == 1
    # Control: uniform selection rarely lands on them.
    uniform = uniform_pairs(clips, 6, np.random.default_rng(4))
    assert len({frozenset(pair) for pair in uniform} & split) < 3


def test_disagreement_with_oversampling_prefers_split_pairs_among_candidates() -> None:
    clips = make_clips(40)
    all_pairs = {frozenset(pair) for pair in uniform_pairs(clips, 780, np.random.default_rng(5))}
    split = set(list(sorted(all_pairs, key=sorted))[::10])  # 78 split pairs, 10%
    model = FakeModel(clips, {pair: [0.9, 0.1, 0.5] for pair in split})
    chosen = disagreement_pairs(clips, 10, model, np.random.default_rng(6), oversample=10)
    candidates = uniform_pairs(clips, 100, np.random.default_rng(6))  # the same candidates
    split_candidates = sum(frozenset(pair) in split for pair in candidates)
    assert split_candidates >= 5  # about 10 expected
    split_chosen = sum(frozenset(pair) in split for pair in chosen)
    assert split_chosen == min(10, split_candidates)  # uniform choice would give about 1


def test_entropy_prefers_an_uncertain_mean_over_disagreement() -> None:
    clips = make_clips(10)
    pairs = [frozenset(pair) for pair in uniform_pairs(clips, 45, np.random.default_rng(7))]
    unsure = set(pairs[:5])  # members agree on 0.5: no variance, highest entropy
    split = set(pairs[5:10])  # members at 0.95 and 0.55: variance, mean 0.75
    table = {pair: [0.5, 0.5, 0.5] for pair in unsure}
    table.update({pair: [0.95, 0.55, 0.75] for pair in split})
    model = FakeModel(clips, table)
    by_entropy = entropy_pairs(clips, 5, model, np.random.default_rng(8), oversample=9)
    by_disagreement = disagreement_pairs(clips, 5, model, np.random.default_rng(8), oversample=9)
    assert {frozenset(pair) for pair in by_entropy} == unsure
    assert {frozenset(pair) for pair in by_disagreement} == split


def test_select_pairs_dispatches_and_refuses_unknown_methods() -> None:
    clips = make_clips(6)
    model = FakeModel(clips, {})
    assert QUERY_METHODS == ("uniform", "disagreement", "entropy")
    for method in QUERY_METHODS:
        pairs = select_pairs(method, clips, 4, np.random.default_rng(9), model=model)
        assert len(pairs) == 4
    assert select_pairs("uniform", clips, 4, np.random.default_rng(9)) == uniform_pairs(
        clips, 4, np.random.default_rng(9)
    )
    with pytest.raises(ConfigError, match="uniform, disagreement, entropy"):
        select_pairs("active", clips, 4, np.random.default_rng(9))
    with pytest.raises(ConfigError, match="needs a reward model"):
        select_pairs("disagreement", clips, 4, np.random.default_rng(9))


def test_model_with_wrong_output_shape_is_refused() -> None:
    class Wrong:
        def member_preference_probs(self, pairs: Sequence[ClipPair]) -> np.ndarray:
            return np.zeros(len(pairs))

    with pytest.raises(ConfigError, match="member_preference_probs"):
        disagreement_pairs(make_clips(4), 2, Wrong(), np.random.default_rng(0))


def test_reward_model_is_a_preference_model_for_selection() -> None:
    clips = make_clips(8)
    model = RewardModel(
        gym.spaces.Box(-np.inf, np.inf, (2,)),
        gym.spaces.Discrete(2),
        env_id="test/A-v0",
        seed=0,
        device="cpu",
    )
    pairs = disagreement_pairs(clips, 5, model, np.random.default_rng(10), oversample=3)
    assert len({frozenset(pair) for pair in pairs}) == 5
    probs = model.member_preference_probs([ClipPair(clips[i], clips[j]) for i, j in pairs])
    candidates = uniform_pairs(clips, 15, np.random.default_rng(10))
    all_probs = model.member_preference_probs([ClipPair(clips[i], clips[j]) for i, j in candidates])
    # The chosen variances are the top five of the candidates'.
    assert np.sort(probs.var(axis=0)) == pytest.approx(np.sort(all_probs.var(axis=0))[-5:])


def test_diverse_subset_spreads_out_and_never_repeats() -> None:
    from hfrl_gym.queries import diverse_subset

    rng = np.random.default_rng(0)

    def still(value: float) -> Clip:
        obs = np.full((4, 2), value)
        return Clip("hfrl/CartPole-v0", obs, np.zeros(3, np.int64), np.zeros(3), states=obs)

    clips = [still(0.0)] * 30 + [still(1.0)] * 30 + [still(9.0)]  # many look-alikes
    chosen = diverse_subset(clips, 10, rng)
    assert len(chosen) == len(set(chosen)) == 10
    assert 60 in chosen  # the one clip unlike the others is always picked
    values = {clips[i].observations[0, 0] for i in chosen}
    assert values == {0.0, 1.0, 9.0}  # every kind is represented
    assert diverse_subset(clips[:5], 10, rng) == [0, 1, 2, 3, 4]


# -- pairs a person can judge -------------------------------------------------------------


def _still(values: Sequence[float], steps: int = 4, scale: float = 1.0) -> list[Clip]:
    """Motionless CartPole-shaped clips, each at one value."""
    return [
        Clip(
            "hfrl/CartPole-v0",
            np.full((steps + 1, 4), scale * value),
            np.zeros(steps, np.int64),
            np.zeros(steps),
            states=np.zeros((steps + 1, 4)),
        )
        for value in values
    ]


def test_pair_differences_are_zero_for_look_alikes_and_scale_free() -> None:
    pairs = [(0, 1), (0, 2), (1, 2)]
    small = queries.pair_differences(_still([0.0, 0.0, 1.0]), pairs)
    large = queries.pair_differences(_still([0.0, 0.0, 1.0], scale=1000.0), pairs)
    assert small[0] == 0.0
    assert small[1] > 1.0
    np.testing.assert_allclose(small, large)  # in units of the spread: no per-env threshold


def test_pair_differences_compare_clips_of_different_lengths() -> None:
    clips = [*_still([0.0], steps=4), *_still([0.0], steps=8), *_still([2.0], steps=8)]
    differences = queries.pair_differences(clips, [(0, 1), (0, 2)])
    assert differences[0] == 0.0
    assert differences[1] > 1.0


def test_distinct_pairs_leave_out_look_alikes_and_count_them() -> None:
    clips = _still([0.0] * 6 + [1.0, 2.0])  # 15 look-alike pairs among 28
    pairs, dropped = queries.distinct_pairs(clips, 28, np.random.default_rng(3))
    assert len(pairs) == 13
    assert dropped == 15
    assert all(clips[a].observations[0, 0] != clips[b].observations[0, 0] for a, b in pairs)
    assert len({frozenset(pair) for pair in pairs}) == 13
    everything, none_left_out = queries.distinct_pairs(
        clips, 28, np.random.default_rng(3), min_difference=0.0
    )
    assert (len(everything), none_left_out) == (28, 0)


def test_distinct_pairs_stop_at_the_number_asked_for() -> None:
    clips = _still([0.0] * 6 + [1.0, 2.0])
    pairs, dropped = queries.distinct_pairs(clips, 2, np.random.default_rng(0))
    assert len(pairs) == 2
    assert 0 <= dropped <= 15
    with pytest.raises(ConfigError, match="min_difference"):
        queries.distinct_pairs(clips, 2, np.random.default_rng(0), min_difference=-1.0)


def test_distinct_pairs_never_mix_envs() -> None:
    clips = _still([0.0, 1.0]) + make_clips(3, env_id="test/B-v0")
    pairs, _ = queries.distinct_pairs(clips, 4, np.random.default_rng(0))
    assert len(pairs) == 4
    assert all(clips[a].env_id == clips[b].env_id for a, b in pairs)


def test_cli_default_matches_the_library() -> None:
    from hfrl_gym import cli

    assert cli.MIN_DIFFERENCE == queries.MIN_DIFFERENCE

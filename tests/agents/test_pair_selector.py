"""Pair selection: diverse candidates, and passing over pairs a teacher would tie or skip."""

from __future__ import annotations

import numpy as np

from agents.pair_selector import PairSelector, informative
from hfrl_gym.answers import Answer, Choice
from hfrl_gym.clips import Clip, ClipPair
from tests.conftest import make_clip


class ReturnIsFirstObservation:
    """A stand-in reward model: a clip's return is its first observation's first entry."""

    def clip_returns(self, clips: list[Clip]) -> np.ndarray:
        return np.array([float(clip.observations[0, 0]) for clip in clips])

    def member_preference_probs(self, pairs: list[ClipPair]) -> np.ndarray:
        gaps = np.array([p.left.observations[0, 0] - p.right.observations[0, 0] for p in pairs])
        return np.stack([1 / (1 + np.exp(-gaps)), 1 / (1 + np.exp(-0.5 * gaps))])


def _clip(value: float, rng: np.random.Generator) -> Clip:
    clip = make_clip(rng, num_steps=4)
    observations = clip.observations.copy()
    observations[0, 0] = value
    return Clip(clip.env_id, observations, clip.actions, clip.true_rewards, states=clip.states)


def test_pairs_like_those_tied_or_skipped_are_passed_over(rng: np.random.Generator) -> None:
    model = ReturnIsFirstObservation()
    history = [
        (ClipPair(_clip(5.0, rng), _clip(5.1, rng)), Answer(Choice.EQUAL)),  # gap 0.1
        (ClipPair(_clip(9.0, rng), _clip(9.3, rng)), Answer(Choice.EQUAL)),  # gap 0.3
        (ClipPair(_clip(0.0, rng), _clip(1.0, rng)), Answer(Choice.SKIP)),  # best 1.0
        (ClipPair(_clip(2.0, rng), _clip(-1.0, rng)), Answer(Choice.SKIP)),  # best 2.0
        (ClipPair(_clip(8.0, rng), _clip(3.0, rng)), Answer(Choice.LEFT)),
    ]
    pairs = [
        (_clip(7.0, rng), _clip(7.1, rng)),  # a gap below the ties' median (0.2): passed over
        (_clip(0.5, rng), _clip(1.2, rng)),  # both poor (best below 1.5): passed over
        (_clip(7.0, rng), _clip(2.0, rng)),  # informative
    ]
    assert informative(model, history, pairs).tolist() == [False, False, True]
    assert informative(model, history[-1:], pairs).tolist() == [True, True, True]  # no ties yet


def test_the_selector_takes_informative_pairs_first(rng: np.random.Generator) -> None:
    class Fitted:
        fitted_model = ReturnIsFirstObservation()

    clips = [_clip(value, rng) for value in (0.0, 0.1, 0.2, 5.0, 10.0, 10.1)]
    history = [
        (ClipPair(clips[0], clips[1]), Answer(Choice.EQUAL)),
        (ClipPair(clips[4], clips[5]), Answer(Choice.EQUAL)),
    ]
    selector = PairSelector(
        "uniform", np.random.default_rng(0), Fitted(), diverse=False, history=lambda: history
    )
    chosen = selector.select(clips, 4)
    gaps = [abs(a.observations[0, 0] - b.observations[0, 0]) for a, b in chosen]
    assert len(chosen) == 4
    assert min(gaps) > 0.1  # no pair as close as the ones the teacher tied
    plain = PairSelector("uniform", np.random.default_rng(0), Fitted(), diverse=False)
    plain_gaps = [
        abs(a.observations[0, 0] - b.observations[0, 0]) for a, b in plain.select(clips, 8)
    ]
    assert min(plain_gaps) <= 0.1  # the control: without the history, close pairs are asked


def _still(value: float) -> Clip:
    """A clip that shows one unchanging observation (a crashed, motionless cart)."""
    observations = np.full((5, 4), value, dtype=np.float32)
    return Clip(
        "hfrl/CartPole-v0", observations, np.zeros(4, np.int64), np.zeros(4), states=observations
    )


def test_people_are_not_asked_about_clips_that_look_the_same() -> None:
    clips = [_still(0.0) for _ in range(5)] + [_still(1.0), _still(2.0)]
    for seed in range(5):
        for_people = PairSelector(
            "uniform", np.random.default_rng(seed), diverse=False, min_difference=0.1
        )
        chosen = for_people.select(clips, 3)
        assert len(chosen) == 3
        assert all(a.observations[0, 0] != b.observations[0, 0] for a, b in chosen)
    # the control: without the rule, uniform pairs of these clips are mostly look-alikes
    scripted = PairSelector("uniform", np.random.default_rng(0), diverse=False)
    same = [a.observations[0, 0] == b.observations[0, 0] for a, b in scripted.select(clips, 10)]
    assert any(same)


def test_look_alikes_are_asked_only_when_nothing_else_is_left() -> None:
    clips = [_still(0.0) for _ in range(4)]
    selector = PairSelector("uniform", np.random.default_rng(0), diverse=False, min_difference=0.1)
    assert len(selector.select(clips, 2)) == 2  # the round still gets its pairs


def test_runs_answered_by_people_pass_over_look_alikes(tmp_path) -> None:
    from agents.config import TrainConfig
    from agents.rlhf_loop import build_parts, plan_run

    for teacher, expected in (("store", 0.1), ("oracle", None)):
        config = TrainConfig(
            env="hfrl/CartPole-v0",
            teacher=teacher,
            labels=4,
            steps=4096,
            rounds=2,
            out=str(tmp_path / teacher),
            video=False,
        )
        built = build_parts(
            config, plan_run(config), resume=False, show_progress=False, answerer=None
        )
        try:
            assert built.parts.pairs.min_difference == expected
        finally:
            built.agent.close()
            built.parts.store.close()


def test_a_collapsed_policy_is_compared_with_earlier_clips() -> None:
    class Fitted:
        fitted_model = ReturnIsFirstObservation()

    collapsed = [_still(0.0) for _ in range(6)]  # every new clip shows the same thing
    earlier = [_still(float(value)) for value in (3.0, 4.0, 5.0)]
    new_uids = {clip.uid for clip in collapsed}
    for seed in range(5):
        selector = PairSelector(
            "disagreement", np.random.default_rng(seed), Fitted(), earlier=lambda: earlier
        )
        chosen = selector.select(collapsed, 3)
        assert len(chosen) == 3
        # each pair compares a new clip with an earlier one: the only pairs that tell apart
        assert all((a.uid in new_uids) != (b.uid in new_uids) for a, b in chosen)
    # the control: without earlier clips, every pair is two look-alikes
    alone = PairSelector("disagreement", np.random.default_rng(0), Fitted()).select(collapsed, 3)
    assert all(a.observations[0, 0] == b.observations[0, 0] for a, b in alone)
    # and pairs of two earlier clips come last, even when they are all that differ
    # (the ensemble disagrees most about the two earlier clips, 10 against 11)
    far = [_still(10.0), _still(11.0)]
    (pair,) = PairSelector(
        "disagreement", np.random.default_rng(0), Fitted(), earlier=lambda: far
    ).select(collapsed[:2], 1)
    assert {pair[0].uid, pair[1].uid} & new_uids


def test_revisited_clips_come_from_the_store_in_order(tmp_path) -> None:
    from agents.pair_selector import asked_clips, post_pairs
    from hfrl_gym.store import LabelStore

    clips = [_still(float(value)) for value in range(4)]
    with LabelStore(tmp_path / "s.sqlite") as store:
        earlier = asked_clips(store)
        assert earlier() == []
        post_pairs(store, 0, [(clips[0], clips[1]), (clips[2], clips[0])])
        assert [clip.uid for clip in earlier()] == [clips[0].uid, clips[1].uid, clips[2].uid]

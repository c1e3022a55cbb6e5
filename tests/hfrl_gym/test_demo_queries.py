"""`hfrl store pair-demos` (a person's demonstrations as queries) and `hfrl record`'s pairs
of clips that do not look the same, through the real command in this process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hfrl_gym.clips import Clip
from hfrl_gym.demo_queries import HUMAN, demonstration_pairs
from hfrl_gym.queries import MIN_DIFFERENCE, pair_differences
from hfrl_gym.recording import record_clips
from hfrl_gym.store import LabelStore
from human_ui.cli import main

CARTPOLE = "hfrl/CartPole-v0"


def _balance(obs: np.ndarray, rng: np.random.Generator) -> int:
    """A controller that keeps the pole up for a while (a stand-in for a person)."""
    return int(obs[2] + 0.5 * obs[3] > 0)


def _demos(num_clips: int, seed: int, steps: int = 20) -> list[Clip]:
    return record_clips(
        CARTPOLE, num_clips=num_clips, clip_num_steps=steps, seed=seed, policy=_balance,
        policy_name=HUMAN,
    )  # fmt: skip


def _random(num_clips: int, seed: int, steps: int = 20) -> list[Clip]:
    return record_clips(CARTPOLE, num_clips=num_clips, clip_num_steps=steps, seed=seed)


def _pairs(path: Path) -> list[tuple[Clip, Clip]]:
    with LabelStore(path, create=False) as store:
        return [
            (store.get_clip(query.left_uid), store.get_clip(query.right_uid))
            for query in store.queries()
        ]


def test_record_posts_only_pairs_that_look_different(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.sqlite"
    argv = ["record", "--store", str(path), "--clips", "20", "--clip-steps", "50"]
    assert main([*argv, "--queries", "15"]) == 0
    out = capsys.readouterr().out
    with LabelStore(path, create=False) as store:
        clips = store.get_clips(store.clip_uids())
        index = {clip.uid: n for n, clip in enumerate(clips)}
        pairs = [(index[q.left_uid], index[q.right_uid]) for q in store.queries()]
    assert len(pairs) == 15
    assert min(pair_differences(clips, pairs)) >= MIN_DIFFERENCE
    dropped = int(out.split("left out ")[1].split()[0])
    assert dropped > 0  # random CartPole: most clips are the same crashed, motionless cart
    assert "posted 15 queries;" in out


def test_record_with_no_minimum_keeps_the_look_alikes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.sqlite"
    argv = ["record", "--store", str(path), "--clips", "20", "--queries", "190"]
    assert main([*argv, "--min-difference", "0"]) == 0
    assert "left out 0 pairs" in capsys.readouterr().out
    with LabelStore(path, create=False) as store:
        clips = store.get_clips(store.clip_uids())
        index = {clip.uid: n for n, clip in enumerate(clips)}
        pairs = [(index[q.left_uid], index[q.right_uid]) for q in store.queries()]
    assert len(pairs) == 190
    assert min(pair_differences(clips, pairs)) == 0.0


def test_record_posts_fewer_when_too_few_pairs_differ(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.sqlite"
    argv = ["record", "--store", str(path), "--clips", "20", "--queries", "190"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "of the 190 asked for" in out
    posted = int(out.split("posted ")[1].split()[0])
    dropped = int(out.split("left out ")[1].split()[0])
    assert posted + dropped == 190
    assert len(_pairs(path)) == posted


def test_pair_demos_pairs_demonstrations_with_each_other_and_other_clips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "run.sqlite"
    with LabelStore(path) as store:
        store.add_clips(_demos(4, seed=1) + _random(6, seed=2) + _random(2, seed=3, steps=10))
        old = store.add_queries([(store.clip_uids()[0], store.clip_uids()[1])])
    assert main(["store", "pair-demos", str(path), "--pairs", "12", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    pairs = _pairs(path)[len(old) :]
    assert len(pairs) == 12
    assert "posted 12 queries (round 0) for 4 demonstrations" in out
    assert all(HUMAN in (left.policy, right.policy) for left, right in pairs)
    assert all(left.num_steps == right.num_steps == 20 for left, right in pairs)
    with_demos = sum(left.policy == right.policy == HUMAN for left, right in pairs)
    assert f"{with_demos} with another demonstration, {12 - with_demos} with another clip" in out
    assert 0 < with_demos < 12
    unordered = {frozenset((left.uid, right.uid)) for left, right in _pairs(path)}
    assert len(unordered) == len(old) + 12  # the pair posted before is not posted again


@pytest.mark.parametrize(("against", "both_demos"), [("demos", True), ("clips", False)])
def test_pair_demos_against(tmp_path: Path, against: str, both_demos: bool) -> None:
    path = tmp_path / "run.sqlite"
    with LabelStore(path) as store:
        store.add_clips(_demos(4, seed=1) + _random(4, seed=2))
    assert main(["store", "pair-demos", str(path), "--pairs", "3", "--against", against]) == 0
    pairs = _pairs(path)
    assert len(pairs) == 3
    assert all((left.policy == right.policy == HUMAN) == both_demos for left, right in pairs)


def test_pair_demos_copies_demonstrations_from_another_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demos, run = tmp_path / "demonstrations.sqlite", tmp_path / "run.sqlite"
    with LabelStore(demos) as store:
        store.add_clips(_demos(3, seed=5))
    with LabelStore(run) as store:
        store.add_clips(_random(5, seed=6))
    before = demos.read_bytes()
    argv = ["store", "pair-demos", str(run), "--demos", str(demos), "--against", "clips"]
    assert main([*argv, "--pairs", "4"]) == 0
    assert f"copied 3 demonstrations from {demos}" in capsys.readouterr().out
    with LabelStore(run, create=False) as store:
        assert store.counts()["clips"] == 8
    assert len(_pairs(run)) == 4
    assert demos.read_bytes() == before
    assert main([*argv, "--pairs", "4"]) == 0  # again: nothing copied twice, new pairs only
    with LabelStore(run, create=False) as store:
        assert store.counts()["clips"] == 8
    assert len({frozenset((a.uid, b.uid)) for a, b in _pairs(run)}) == 8


def test_pair_demos_refuses_and_stores_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, other = tmp_path / "run.sqlite", tmp_path / "other.sqlite"
    with LabelStore(path) as store:
        store.add_clips(_random(4, seed=2) + _demos(1, seed=1))
    with LabelStore(other) as store:
        store.add_clips(_random(2, seed=3))
    before = {file.name: file.read_bytes() for file in tmp_path.iterdir()}
    refused = {
        "holds no demonstrations": ["store", "pair-demos", str(other)],
        "no new pair to post": ["store", "pair-demos", str(path), "--against", "demos"],
        "leave --demos out": ["store", "pair-demos", str(path), "--demos", str(path)],
        "no demonstrations of hfrl/Pendulum-v0": [
            "store", "pair-demos", str(path), "--env", "hfrl/Pendulum-v0"
        ],
    }  # fmt: skip
    for message, argv in refused.items():
        assert main(argv) == 2, message
        err = capsys.readouterr().err
        assert message in err
        assert len(err.strip().splitlines()) == 1
    after = {file.name: file.read_bytes() for file in tmp_path.iterdir()}
    assert after == before


def test_demonstration_pairs_leave_out_look_alikes() -> None:
    def still(value: float, policy: str) -> Clip:
        obs = np.full((3, 4), value)
        return Clip(CARTPOLE, obs, np.zeros(2, np.int64), np.zeros(2), states=obs, policy=policy)

    clips = [still(0.0, HUMAN), still(0.0, HUMAN), still(0.0, "random"), still(1.0, "random")]
    chosen = demonstration_pairs(clips, 9, np.random.default_rng(0))
    assert sorted(sorted(pair) for pair in chosen.pairs) == [[0, 3], [1, 3]]
    assert (chosen.looked_alike, chosen.available, chosen.with_demos) == (3, 2, 0)

"""Tests of hfrl_gym.teachers: the B-Pref behaviours, their order, the presets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hfrl_gym.answers import Choice
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.envs import get_goal
from hfrl_gym.errors import ConfigError
from hfrl_gym.teachers import (
    TEACHER_PRESETS,
    ScriptedTeacher,
    Teacher,
    bpref_thresholds,
    estimate_mean_episode_return,
    make_teacher,
)

ENV_ID = "test/Synthetic-v0"


def make_clip(rewards: np.ndarray | list[float], env_id: str = ENV_ID) -> Clip:
    rewards = np.asarray(rewards, dtype=np.float64)
    steps = rewards.shape[0]
    return Clip(
        env_id,
        np.zeros((steps + 1, 2), np.float32),
        np.zeros(steps, np.int64),
        rewards,
        states=np.zeros((steps + 1, 2)),
    )


def pair_with_difference(difference: float, steps: int = 4) -> ClipPair:
    """A pair whose left return exceeds the right one by ``difference``."""
    right = np.full(steps, 0.25)
    left = right.copy()
    left[-1] += difference
    return ClipPair(make_clip(left), make_clip(right))


def choices(teacher: ScriptedTeacher, pairs: list[ClipPair]) -> np.ndarray:
    return np.array([answer.choice.value for answer in teacher.label(pairs)])


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_oracle_is_always_right_and_answers_exact_ties_equal() -> None:
    rng = np.random.default_rng(0)
    pairs = [
        ClipPair(make_clip(rng.normal(size=10)), make_clip(rng.normal(size=10)))
        for _ in range(2000)
    ]
    pairs += [ClipPair(make_clip([1.0, 2.0]), make_clip([2.0, 1.0])) for _ in range(20)]
    answers = make_teacher("oracle", rng=np.random.default_rng(1)).label(pairs)
    for pair, answer in zip(pairs, answers, strict=True):
        difference = pair.left.true_return - pair.right.true_return
        expected = (
            Choice.LEFT if difference > 0 else Choice.RIGHT if difference < 0 else Choice.EQUAL
        )
        assert answer.choice == expected
        assert answer.annotator == "oracle"
        assert answer.seconds == 0.0


@pytest.mark.parametrize("beta", [1.0, 2.5])
def test_boltzmann_choice_frequency_matches_sigmoid_of_beta_times_difference(beta: float) -> None:
    teacher = ScriptedTeacher(beta=beta, rng=np.random.default_rng(2), name="noisy")
    draws = 5000  # standard error of a frequency <= 0.5 / sqrt(5000) = 0.007
    for difference in (-2.0, -0.6, 0.0, 0.3, 1.0):
        found = choices(teacher, [pair_with_difference(difference)] * draws)
        assert set(found) <= {"left", "right"}
        left_rate = float(np.mean(found == "left"))
        assert left_rate == pytest.approx(sigmoid(beta * difference), abs=0.03)
        if beta != 1.0 and difference != 0.0:
            # Control: a teacher that ignored beta would answer sigmoid(difference).
            assert abs(left_rate - sigmoid(difference)) > 0.05


def test_noisy_preset_is_boltzmann_with_beta_one() -> None:
    teacher = make_teacher("noisy", rng=np.random.default_rng(3))
    left_rate = float(np.mean(choices(teacher, [pair_with_difference(1.5)] * 5000) == "left"))
    assert left_rate == pytest.approx(sigmoid(1.5), abs=0.03)
    assert abs(left_rate - 1.0) > 0.1  # control: not the oracle


def test_mistake_flips_at_rate_epsilon_and_never_touches_equal_or_skip() -> None:
    rng = np.random.default_rng(4)
    pairs = [
        ClipPair(make_clip(rng.normal(size=5)), make_clip(rng.normal(size=5)))
        for _ in range(10_000)
    ]
    truth = choices(make_teacher("oracle", rng=np.random.default_rng(5)), pairs)
    found = choices(make_teacher("mistake", rng=np.random.default_rng(6)), pairs)
    assert float(np.mean(found != truth)) == pytest.approx(0.1, abs=0.01)  # SE 0.003
    always_wrong = ScriptedTeacher(epsilon=1.0, skip_threshold=-5.0, rng=np.random.default_rng(7))
    tie = ClipPair(make_clip([1.0, 1.0]), make_clip([2.0, 0.0]))
    low = ClipPair(make_clip([-3.0, -3.0]), make_clip([-4.0, -2.5]))
    clear = pair_with_difference(1.0)
    assert choices(always_wrong, [tie, low, clear]).tolist() == ["equal", "skip", "right"]


def test_skip_fires_when_neither_return_is_above_the_threshold() -> None:
    teacher = ScriptedTeacher(skip_threshold=2.0, rng=np.random.default_rng(8))
    at_threshold = ClipPair(make_clip([1.0, 1.0]), make_clip([0.5, 0.5]))
    below = ClipPair(make_clip([1.0, 0.5]), make_clip([0.5, 0.5]))
    one_above = ClipPair(make_clip([1.0, 1.0]), make_clip([1.0, 1.0 + 1e-9]))
    both_above = ClipPair(make_clip([3.0, 0.0]), make_clip([2.5, 0.0]))
    found = choices(teacher, [at_threshold, below, one_above, both_above])
    assert found.tolist() == ["skip", "skip", "right", "left"]


def test_equal_fires_strictly_below_the_threshold_on_undiscounted_returns() -> None:
    teacher = ScriptedTeacher(equal_threshold=0.5, gamma=0.5, rng=np.random.default_rng(9))
    just_inside = ClipPair(make_clip([1.0, 0.0]), make_clip([0.0, 0.5 + 2**-20]))
    at_threshold = ClipPair(make_clip([1.0, 0.0]), make_clip([0.5, 0.0]))
    # Undiscounted returns 2 and 1.7 are close; the myopic ones (1 and 1.7) are not.
    close_only_undiscounted = ClipPair(make_clip([2.0, 0.0]), make_clip([0.0, 1.7]))
    found = choices(teacher, [just_inside, at_threshold, close_only_undiscounted])
    assert found.tolist() == ["equal", "left", "equal"]


def test_order_skip_before_equal_before_choice() -> None:
    teacher = ScriptedTeacher(
        skip_threshold=1.0, equal_threshold=10.0, rng=np.random.default_rng(10)
    )
    both_low_and_close = ClipPair(make_clip([0.5]), make_clip([0.4]))
    close = ClipPair(make_clip([5.0]), make_clip([1.0]))
    assert choices(teacher, [both_low_and_close, close]).tolist() == ["skip", "equal"]


def test_myopic_weights_late_steps_more_and_flips_disagreeing_orderings() -> None:
    teacher = make_teacher("myopic", rng=np.random.default_rng(11))
    steps = 10
    for step in range(steps):
        one_hot = np.zeros(steps)
        one_hot[step] = 1.0
        assert teacher.weighted_return(one_hot) == pytest.approx(0.9 ** (steps - 1 - step))
    rng = np.random.default_rng(12)
    pairs = []
    for _ in range(200):
        early, late = np.zeros(steps), np.zeros(steps)
        early[rng.integers(0, 3)] = 1.0  # undiscounted return 1.0, weighted <= 0.9**7 = 0.48
        late[rng.integers(8, 10)] = 0.8  # undiscounted 0.8, weighted >= 0.72
        pairs.append(ClipPair(make_clip(early), make_clip(late)))
    assert set(choices(teacher, pairs)) == {"right"}
    oracle = make_teacher("oracle", rng=np.random.default_rng(13))
    assert set(choices(oracle, pairs)) == {"left"}  # control: undiscounted ordering differs


def test_same_seed_same_answers_and_draws_do_not_depend_on_answers() -> None:
    pairs = [pair_with_difference(d) for d in np.linspace(-1, 1, 50)]
    first = choices(ScriptedTeacher(beta=1.0, rng=np.random.default_rng(14)), pairs)
    second = choices(ScriptedTeacher(beta=1.0, rng=np.random.default_rng(14)), pairs)
    other = choices(ScriptedTeacher(beta=1.0, rng=np.random.default_rng(15)), pairs)
    assert first.tolist() == second.tolist()
    assert first.tolist() != other.tolist()
    rng_a, rng_b = np.random.default_rng(16), np.random.default_rng(16)
    ScriptedTeacher(rng=rng_a).label(pairs)
    ScriptedTeacher(skip_threshold=100.0, rng=rng_b).label(pairs)  # every pair skipped
    assert rng_a.random() == rng_b.random()


def test_teacher_judges_by_its_goal_not_the_true_reward() -> None:
    class Negated:
        def clip_rewards(self, clip: Clip) -> np.ndarray:
            return -clip.true_rewards

    pair = pair_with_difference(1.0)
    assert choices(ScriptedTeacher(rng=np.random.default_rng(17)), [pair]).tolist() == ["left"]
    negated = ScriptedTeacher(goal=Negated(), rng=np.random.default_rng(17))
    assert choices(negated, [pair]).tolist() == ["right"]


def test_teacher_works_with_a_suite_goal() -> None:
    goal = get_goal("hfrl/Pendulum-v0", "spin")
    obs_slow = np.tile([1.0, 0.0, 0.5], (4, 1))
    obs_fast = np.tile([1.0, 0.0, 6.0], (4, 1))
    clips = [
        Clip("hfrl/Pendulum-v0", obs, np.zeros((3, 1)), np.zeros(3), states=np.zeros((4, 2)))
        for obs in (obs_slow, obs_fast)
    ]
    teacher = ScriptedTeacher(goal=goal, rng=np.random.default_rng(18))
    assert choices(teacher, [ClipPair(*clips)]).tolist() == ["right"]


def test_goal_with_wrong_shape_is_refused() -> None:
    class Broken:
        def clip_rewards(self, clip: Clip) -> np.ndarray:
            return np.zeros(clip.num_steps + 1)

    teacher = ScriptedTeacher(goal=Broken(), rng=np.random.default_rng(19))
    with pytest.raises(ConfigError, match="finite rewards"):
        teacher.label([pair_with_difference(1.0)])


def test_scripted_teacher_is_a_teacher() -> None:
    assert isinstance(make_teacher("oracle", rng=np.random.default_rng(0)), Teacher)
    assert make_teacher("oracle", rng=np.random.default_rng(0)).label([]) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"beta": 0.0},
        {"gamma": 0.0},
        {"gamma": 1.5},
        {"epsilon": -0.1},
        {"equal_threshold": -1.0},
        {"skip_threshold": math.nan},
        {"name": ""},
    ],
)
def test_invalid_settings_are_refused(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        ScriptedTeacher(rng=np.random.default_rng(0), **kwargs)


def test_presets_have_the_bpref_names_and_settings() -> None:
    assert list(TEACHER_PRESETS) == ["oracle", "noisy", "mistake", "skip", "myopic", "equal"]
    scale = {"mean_episode_return": 300.0, "clip_num_steps": 50, "horizon": 500}
    teachers = {
        name: make_teacher(name, rng=np.random.default_rng(0), **scale) for name in TEACHER_PRESETS
    }
    settings = {
        name: (t.beta, t.gamma, t.epsilon, t.skip_threshold, t.equal_threshold, t.name)
        for name, t in teachers.items()
    }
    # Clip scale m = 300 * 50 / 500 = 30; thresholds use epsilon once: 0.1 * 30 = 3.
    assert settings == {
        "oracle": (math.inf, 1.0, 0.0, -math.inf, 0.0, "oracle"),
        "noisy": (1.0, 1.0, 0.0, -math.inf, 0.0, "noisy"),
        "mistake": (math.inf, 1.0, 0.1, -math.inf, 0.0, "mistake"),
        "skip": (math.inf, 1.0, 0.0, pytest.approx(3.0), 0.0, "skip"),
        "myopic": (math.inf, 0.9, 0.0, -math.inf, 0.0, "myopic"),
        "equal": (math.inf, 1.0, 0.0, -math.inf, pytest.approx(3.0), "equal"),
    }


def test_unknown_preset_lists_the_valid_names() -> None:
    with pytest.raises(ConfigError, match="oracle, noisy, mistake, skip, myopic, equal"):
        make_teacher("perfect", rng=np.random.default_rng(0))


@pytest.mark.parametrize("preset", ["skip", "equal"])
def test_threshold_presets_need_a_return_scale(preset: str) -> None:
    with pytest.raises(ConfigError, match="mean_episode_return"):
        make_teacher(preset, rng=np.random.default_rng(0), clip_num_steps=50, horizon=500)


def test_thresholds_for_negative_returns_skip_only_clearly_bad_pairs() -> None:
    skip, equal = bpref_thresholds(-1000.0, clip_num_steps=20, horizon=200)
    assert (skip, equal) == (pytest.approx(-190.0), pytest.approx(10.0))
    teacher = make_teacher(
        "skip",
        rng=np.random.default_rng(0),
        mean_episode_return=-1000.0,
        clip_num_steps=20,
        horizon=200,
    )
    typical = ClipPair(make_clip(np.full(20, -5.0)), make_clip(np.full(20, -6.0)))
    awful = ClipPair(make_clip(np.full(20, -10.0)), make_clip(np.full(20, -12.0)))
    assert choices(teacher, [typical, awful]).tolist() == ["left", "skip"]


def test_mean_episode_return_estimated_from_clips_uses_the_goal() -> None:
    clips = [make_clip([1.0, 1.0, 0.0, 0.0]), make_clip([1.0, 1.0, 1.0, 1.0])]
    assert estimate_mean_episode_return(clips, horizon=100) == pytest.approx(75.0)

    class Doubled:
        def clip_rewards(self, clip: Clip) -> np.ndarray:
            return 2 * clip.true_rewards

    assert estimate_mean_episode_return(clips, horizon=100, goal=Doubled()) == pytest.approx(150.0)
    with pytest.raises(ConfigError):
        estimate_mean_episode_return([], horizon=100)

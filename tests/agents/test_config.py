"""TrainConfig validation and the label schedule."""

from __future__ import annotations

import itertools

import pytest

from agents.config import TrainConfig
from agents.plan import labels_per_round, steps_per_round
from hfrl_gym.errors import ConfigError, UnknownEnvError


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"env": "hfrl/Nope-v0"}, UnknownEnvError, "hfrl/CartPole-v0"),
        ({"teacher": "wizard"}, ConfigError, "oracle"),
        ({"labels": -5}, ConfigError, "--labels must be positive"),
        ({"steps": 0}, ConfigError, "--steps must be positive"),
        ({"reward": "magic"}, ConfigError, "learned, true, constant, random"),
        ({"goal": "fly"}, ConfigError, "fly"),
        ({"clip_steps": 10_000}, ConfigError, "horizon"),
        ({"query": "psychic"}, ConfigError, "uniform"),
        ({"initial_steps": 30_000, "steps": 20_000}, ConfigError, "--initial-steps"),
        ({"disagreement_bonus": -0.5}, ConfigError, "--disagreement-bonus must be from 0"),
        ({"disagreement_bonus": float("nan")}, ConfigError, "--disagreement-bonus"),
        ({"perturb_fraction": 0.7}, ConfigError, "--perturb-fraction must be in"),
        ({"perturb_fraction": float("nan")}, ConfigError, "--perturb-fraction"),
        (
            {"perturb_fraction": 0.05, "asynchronous": True, "teacher": "store"},
            ConfigError,
            "--perturb-fraction records between synchronous rounds",
        ),
    ],
)
def test_bad_settings_say_what_to_fix(changes: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        TrainConfig(**changes).validate()


def test_config_round_trips_through_json() -> None:
    config = TrainConfig(labels=7, teacher="noisy", out="x")
    assert TrainConfig.from_json(config.to_json()) == config
    with pytest.raises(ConfigError, match="unknown settings"):
        TrainConfig.from_json('{"labls": 3}')


@pytest.mark.parametrize(("labels", "rounds", "decay"), [(100, 6, 0.6), (7, 5, 0.9), (3, 8, 0.5)])
def test_label_schedule_front_loads_and_never_exceeds_budget(
    labels: int, rounds: int, decay: float
) -> None:
    schedule = labels_per_round(labels, rounds, decay)
    assert sum(schedule) == labels
    assert len(schedule) == rounds
    assert all(a >= b for a, b in itertools.pairwise(schedule))
    assert schedule[0] > schedule[-1] or labels < rounds


def test_steps_schedule_adds_up_in_whole_rollouts_within_the_budget() -> None:
    assert sum(steps_per_round(100_001, 6)) == 100_001
    for budget, rounds, rollout in [(98_000, 6, 512), (48_000, 6, 4096), (50_000, 6, 4096)]:
        schedule = steps_per_round(budget, rounds, rollout)
        assert all(steps % rollout == 0 for steps in schedule)
        assert budget - rollout < sum(schedule) <= budget

"""The configuration of ``hfrl train``: one dataclass whose fields document themselves.

Classes:
    TrainConfig: every setting of a training run; saved as ``config.json`` in the run folder.

Functions:
    add_config_arguments: the ``hfrl train`` flags, generated from the dataclass fields.
    config_from_args: a validated ``TrainConfig`` from parsed flags.

The flags ``--env --teacher --labels --steps --seed --out`` are a contract: scripts and docs
rely on them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hfrl_gym.errors import ConfigError

REWARD_SOURCES = ("learned", "true", "constant", "random", "goal")
LIVE_TEACHERS = ("store", "human")
QUERY_METHODS = ("uniform", "disagreement", "entropy")
ALGORITHMS = ("ppo", "sac", "dqn")


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run (RLHF, or a baseline with the same budget).

    Example:
        >>> config = TrainConfig(env="hfrl/CartPole-v0", labels=50, steps=20_000)
        >>> config.validate().rounds
        10
    """

    env: str = field(default="hfrl/CartPole-v0", metadata={"help": "suite env id (`hfrl envs`)"})
    teacher: str = field(
        default="oracle",
        metadata={
            "help": "who answers: a scripted preset (oracle, noisy, mistake, skip, myopic, "
            "equal), `store` (other processes answer the run's store, e.g. `hfrl label`) or "
            "`human` (one comparison window stays open for the whole run)"
        },
    )
    goal: str = field(
        default="task",
        metadata={"help": "goal a scripted teacher judges by: `task` or an alternative goal"},
    )
    reward: str = field(
        default="learned",
        metadata={
            "help": "reward PPO trains on: `learned` (RLHF); baselines: `true`, `constant` "
            "(+1 every step), `random` (a randomly initialised reward network), `goal` (the "
            "--goal's own reward, told to the agent outright)"
        },
    )
    algo: str = field(
        default="ppo",
        metadata={
            "help": "the RL algorithm: `ppo`; or off-policy, its replay buffer relabelled by "
            "the reward model after every refit (as PEBBLE): `sac` (continuous actions) or "
            "`dqn` (discrete actions)"
        },
    )
    labels: int = field(default=100, metadata={"help": "label budget (skips count against it)"})
    steps: int = field(default=100_000, metadata={"help": "env steps in all (PPO + clips)"})
    seed: int = field(default=0, metadata={"help": "seed of envs, networks and teachers"})
    out: str = field(default="runs/run", metadata={"help": "run folder to write"})
    device: str = field(
        default="auto", metadata={"help": "auto (CUDA when available), cpu or cuda"}
    )
    rounds: int = field(default=10, metadata={"help": "label rounds (each followed by PPO)"})
    label_decay: float = field(
        default=0.6,
        metadata={"help": "labels of round k are proportional to label_decay**k (front-loads)"},
    )
    round_growth: float = field(
        default=1.0,
        metadata={
            "help": "PPO steps of round k are proportional to round_growth**k: 1 spreads them "
            "evenly; above 1 early rounds are short, so the reward is refit often early"
        },
    )
    ppo_schedule: str = field(
        default="run",
        metadata={
            "help": "PPO's learning-rate and clip-range schedules: `run` (decay over the whole "
            "run, as tuned on the true reward) or `hold` (stay at their initial values while "
            "the learned reward keeps changing)"
        },
    )
    clip_steps: int = field(default=25, metadata={"help": "steps per clip"})
    initial_steps: int = field(
        default=2_000,
        metadata={"help": "env steps of the untrained policy recorded for the first round"},
    )
    explore_fraction: float = field(
        default=0.1,
        metadata={
            "help": "share of --steps spent on unsupervised exploration before the first "
            "queries: PPO maximises the entropy of visited states (k-nearest-neighbour "
            "estimate, as PEBBLE) and the first queries compare its clips; 0: record the "
            "untrained policy for --initial-steps instead"
        },
    )
    absorbing_steps: int = field(
        default=25,
        metadata={
            "help": "training episodes end this many steps into an absorbing state (CartPole's "
            "crash), as a truncation PPO bootstraps from; 0: run every episode to the horizon"
        },
    )
    query: str = field(
        default="disagreement", metadata={"help": "pair selection: uniform, disagreement, entropy"}
    )
    avoid_uninformative: bool = field(
        default=False,
        metadata={
            "help": "pass over pairs the teacher would likely tie or skip, judged from the "
            "pairs it tied and skipped so far (in the learned reward's units)"
        },
    )
    revisit: bool = field(
        default=False,
        metadata={
            "help": "also compare the newest clips with clips asked about in earlier rounds "
            "(about one candidate in five), so a collapsed policy still gets telling pairs"
        },
    )
    disagreement_bonus: float = field(
        default=0.0,
        metadata={
            "help": "reward bonus for the reward ensemble's disagreement, in the learned "
            "reward's units, falling linearly to 0 by the end of the run (RUNE, Liang et al. "
            "2022): exploration that goes on after the state-entropy phase; 0: off"
        },
    )
    perturb_fraction: float = field(
        default=0.0,
        metadata={
            "help": "share of --steps spent recording the current policy with random actions "
            "mixed in (a different chance on each env, from 0 to 0.5), after each round's PPO, so "
            "the next queries also compare clips near the policy rather than only its own "
            "look-alikes; 0: off"
        },
    )
    ensemble: int = field(default=3, metadata={"help": "reward networks in the ensemble"})
    refit: str = field(
        default="full",
        metadata={
            "help": "reward refits: `full` trains on every answer until early stopping; "
            "`bounded` continues from the last fit with steps in proportion to the new "
            "answers (faster with many labels; docs/BENCHMARKS.md)"
        },
    )
    eval_episodes: int = field(default=10, metadata={"help": "episodes per true-return evaluation"})
    wait_timeout: float | None = field(
        default=None,
        metadata={"help": "seconds to wait for answers with --teacher store (default: forever)"},
    )
    annotator: str | None = field(
        default=None, metadata={"help": "name of the person (--teacher human)"}
    )
    video: bool = field(default=True, metadata={"help": "film the trained agent at the end"})
    asynchronous: bool = field(
        default=False,
        metadata={
            "flag": "--async",
            "help": "with --teacher store or human: PPO keeps training while people answer; "
            "queries of the newest policy are posted whenever fewer than --queue-low are "
            "unanswered, the reward model refits in the background when answers arrive and "
            "PPO takes it up between rollouts (docs/ARCHITECTURE.md); --rounds is then the "
            "number of checkpoints",
        },
    )
    queue_low: int = field(
        default=4,
        metadata={
            "help": "--async: unanswered queries kept posted (the low-water mark); the first "
            "fit waits for the synchronous plan's first round of answers"
        },
    )
    kl_coef: float = field(
        default=0.0,
        metadata={
            "help": "KL penalty beta: PPO's reward becomes r - beta * (log pi - log pi_ref), "
            "pi_ref the --reference policy or else PPO's initial one (0: no penalty)"
        },
    )
    reference: str | None = field(
        default=None,
        metadata={
            "help": "a saved PPO policy of this env (e.g. `hfrl lesson 8`'s bc_policy.pt) "
            "that PPO starts from and --kl-coef keeps it close to"
        },
    )

    def validate(self) -> TrainConfig:
        """Check every field; raise ``ConfigError`` that says what to change."""
        from hfrl_gym.envs import get_goal, get_spec
        from hfrl_gym.teachers import TEACHER_PRESETS

        _check_types(self)
        spec = get_spec(self.env)
        get_goal(self.env, self.goal)
        if self.reward not in REWARD_SOURCES:
            raise ConfigError(f"--reward must be one of {', '.join(REWARD_SOURCES)}")
        if self.reward == "goal" and self.goal == "task":
            raise ConfigError(
                "--reward goal needs an alternative --goal; for the task: --reward true"
            )
        if self.teacher not in TEACHER_PRESETS and self.teacher not in LIVE_TEACHERS:
            names = ", ".join([*TEACHER_PRESETS, *LIVE_TEACHERS])
            raise ConfigError(f"unknown teacher {self.teacher!r}; choose one of {names}")
        if self.query not in QUERY_METHODS:
            raise ConfigError(f"--query must be one of {', '.join(QUERY_METHODS)}")
        from agents.reward_fitter import fit_config

        fit_config(self.refit)  # ConfigError naming the choices
        for name in ("labels", "steps", "rounds", "clip_steps", "ensemble", "eval_episodes"):
            if getattr(self, name) < (0 if name == "labels" else 1):
                raise ConfigError(
                    f"--{name.replace('_', '-')} must be positive, got {getattr(self, name)}"
                )
        if self.reward == "learned" and self.labels < 2:
            raise ConfigError("RLHF needs at least 2 labels (--labels); or pick a baseline")
        if self.clip_steps > spec.horizon:
            raise ConfigError(
                f"--clip-steps {self.clip_steps} exceeds {self.env}'s horizon {spec.horizon}"
            )
        if self.initial_steps < 2 * self.clip_steps:
            raise ConfigError(
                f"--initial-steps {self.initial_steps} records fewer than 2 clips of "
                f"{self.clip_steps} steps; raise it to at least {2 * self.clip_steps}"
            )
        if self.reward == "learned" and self.initial_steps >= self.steps:
            raise ConfigError(
                f"--initial-steps {self.initial_steps} leaves no PPO steps of --steps "
                f"{self.steps}; raise --steps or lower --initial-steps"
            )
        if not 0.0 <= self.disagreement_bonus <= 100.0:
            raise ConfigError(
                f"--disagreement-bonus must be from 0 (off) to 100, got {self.disagreement_bonus}"
            )
        if not 0.0 <= self.perturb_fraction <= 0.5:
            raise ConfigError(
                f"--perturb-fraction must be in [0, 0.5] (0: off), got {self.perturb_fraction}"
            )
        if not 0.0 <= self.explore_fraction < 0.9:
            raise ConfigError(
                f"--explore-fraction must be in [0, 0.9) (0: no exploration), got "
                f"{self.explore_fraction}"
            )
        if self.absorbing_steps < 0:
            raise ConfigError(
                f"--absorbing-steps must be >= 0 (0: never truncate), got {self.absorbing_steps}"
            )
        if self.ppo_schedule not in ("run", "hold"):
            raise ConfigError(f"--ppo-schedule must be run or hold, got {self.ppo_schedule!r}")
        if not 1.0 <= self.round_growth <= 10.0:
            raise ConfigError(f"--round-growth must be in [1, 10], got {self.round_growth}")
        if not 0.0 < self.label_decay <= 1.0:
            raise ConfigError(f"--label-decay must be in (0, 1], got {self.label_decay}")
        if not 0.0 <= self.kl_coef < float("inf"):
            raise ConfigError(f"--kl-coef must be finite and >= 0, got {self.kl_coef}")
        if self.wait_timeout is not None and not 0.0 < self.wait_timeout < float("inf"):
            raise ConfigError(
                f"--wait-timeout must be a positive number of seconds, got {self.wait_timeout}; "
                "leave it out to wait forever"
            )
        if self.asynchronous:
            _check_async(self)
        from agents.algorithms import check_algo_config

        check_algo_config(self)
        if self.annotator is not None and not self.annotator.strip():
            raise ConfigError("--annotator must not be empty; give the person's name")
        _check_budget(self)
        if self.reference is not None and not Path(self.reference).is_file():
            raise ConfigError(
                f"--reference {self.reference} is not a file; pass a policy.pt of this env"
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        """The settings by name, as saved in ``config.json``."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """The config as JSON (saved in the run folder)."""
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        """Read a config written by :meth:`to_json` (unknown keys are refused).

        Run folders made before settings became optional wrote ``""`` for no annotator or
        reference and ``0`` for waiting forever; those read as ``None``.

        Example:
            >>> TrainConfig.from_json('{"reference": "", "wait_timeout": 0.0}').reference is None
            True
        """
        data: dict[str, Any] = json.loads(text)
        if not isinstance(data, dict):
            raise ConfigError("config.json holds no JSON object of settings")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ConfigError(f"config.json has unknown settings {sorted(unknown)}")
        for name, legacy_none in _LEGACY_NONE.items():
            if name in data and data[name] == legacy_none:
                data[name] = None
        for name, before in _ADDED_LATER.items():
            data.setdefault(name, before)  # a run made before the setting existed ran so
        return cls(**data)


def _check_types(config: TrainConfig) -> None:
    """Refuse a setting of the wrong type (a hand-edited ``config.json``), naming its flag."""
    kinds = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}
    for item in dataclasses.fields(config):
        value, type_name = getattr(config, item.name), str(item.type)
        base = type_name.split(" | ")[0]
        allowed = kinds.get(base)
        if allowed is None or (type_name.endswith(" | None") and value is None):
            continue
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            expected = {"int": "a whole number", "float": "a number", "str": "text"}
            raise ConfigError(
                f"{_flag(item)} must be {expected.get(base, 'true or false')}, got {value!r}"
            )


def _flag(item: dataclasses.Field) -> str:
    """The ``hfrl train`` flag of a ``TrainConfig`` field (``asynchronous``: ``--async``)."""
    return item.metadata.get("flag", "--" + item.name.replace("_", "-"))


def _check_async(config: TrainConfig) -> None:
    """Refuse ``--async`` where no person answers, or where it has nothing to refit."""
    if config.teacher not in LIVE_TEACHERS:
        raise ConfigError(
            f"--async is for people answering through the store (--teacher store or human); "
            f"the scripted teacher {config.teacher!r} answers at once, so leave out --async "
            "(the synchronous schedule is the reproducible one)"
        )
    if config.reward != "learned":
        raise ConfigError(
            f"--async refits a learned reward; leave it out with --reward {config.reward}"
        )
    if config.queue_low < 1:
        raise ConfigError(f"--queue-low must be at least 1 query, got {config.queue_low}")
    if config.perturb_fraction > 0:
        raise ConfigError(
            "--perturb-fraction records between synchronous rounds; --async posts the "
            "training clips as it goes: leave one of them out"
        )


MAX_SEED = 2**31 - 1
"""Seeds are 0 .. 2**31 - 1: numpy takes < 2**32, and a run adds offsets to its seed."""


def _check_budget(config: TrainConfig) -> None:
    """Refuse a seed numpy cannot take, an unknown device, and budgets no run could spend
    (before any file is written or memory taken: a billion rounds need gigabytes to plan)."""
    if not 0 <= config.seed <= MAX_SEED:
        raise ConfigError(f"--seed must be from 0 to {MAX_SEED}, got {config.seed}")
    if config.device not in ("auto", "cpu", "cuda") and not config.device.startswith("cuda:"):
        raise ConfigError(f"--device must be auto, cpu, cuda or cuda:N, got {config.device!r}")
    if config.rounds > config.steps:
        raise ConfigError(
            f"--rounds {config.rounds} exceeds --steps {config.steps}: every round trains PPO; "
            "lower --rounds"
        )
    clips = config.steps // max(config.clip_steps, 1)
    pairs = clips * (clips - 1) // 2
    if config.reward == "learned" and config.labels > pairs:
        raise ConfigError(
            f"--labels {config.labels} exceeds the {pairs} pairs of the {clips} clips that "
            f"--steps {config.steps} can record at --clip-steps {config.clip_steps}; lower "
            "--labels or raise --steps"
        )


_LEGACY_NONE: dict[str, Any] = {"annotator": "", "reference": "", "wait_timeout": 0.0}
"""Values that meant "not set" in config.json files written before ``None`` was used."""

_ADDED_LATER: dict[str, Any] = {
    "explore_fraction": 0.0,
    "avoid_uninformative": False,
    "round_growth": 1.0,
    "ppo_schedule": "run",
    "asynchronous": False,
    "queue_low": 4,
    "refit": "full",
    "algo": "ppo",
    "disagreement_bonus": 0.0,
    "perturb_fraction": 0.0,
}
"""Settings added after runs were first made, with the behaviour those runs had: an older
``config.json`` (resumed, or reused by a sweep) reads as what it ran, not as today's
defaults."""


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one ``--flag`` per ``TrainConfig`` field, its help from the field's metadata."""
    for item in dataclasses.fields(TrainConfig):
        flag = _flag(item)
        help_text = f"{item.metadata.get('help', '')} (default: {item.default})"
        if item.type == "bool":
            parser.add_argument(
                flag,
                action=argparse.BooleanOptionalAction,
                default=None,
                dest=item.name,
                help=help_text,
            )
        else:
            base = str(item.type).split(" | ")[0]
            kind = {"int": int, "float": float}.get(base, str)
            parser.add_argument(flag, type=kind, default=None, dest=item.name, help=help_text)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """A validated config from parsed flags; flags not given keep their defaults."""
    given = {
        item.name: getattr(args, item.name)
        for item in dataclasses.fields(TrainConfig)
        if getattr(args, item.name, None) is not None
    }
    return TrainConfig(**given).validate()


def ensure_writable(folder: Path) -> None:
    """Create ``folder`` or raise ``ConfigError`` saying why it cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        raise ConfigError(
            f"cannot write the run folder {folder}: {error.strerror}; pass --out a folder you "
            "can write"
        ) from None

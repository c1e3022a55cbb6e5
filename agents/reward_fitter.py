"""The reward-fitting part of the loop: refit the reward model on every answer so far.

Classes:
    RewardFitter: a reward model, whether it has been fit, and the report of its last fit
        (or of the background fit it adopted, ``agents.background_fit``).
    Spaces: what a new reward model is shaped by (an env or a VecEnv has both spaces).

Functions:
    new_reward_model: an unfit reward model of an env (the one place a new one is made).
    fit_config: the fit settings of ``hfrl train --refit full|bounded``.

Attributes:
    REFIT_CONFIGS: the fit settings of each ``--refit`` choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import gymnasium as gym
import numpy as np

from agents.diagnostics import RewardProbe, probe_reward
from hfrl_gym.answers import Answer
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.errors import ConfigError
from hfrl_gym.reward_model import FitConfig, RefitBudget, RewardModel
from hfrl_gym.reward_model.trainer import FitReport
from hfrl_gym.store import LabelStore

REFIT_CONFIGS = {"full": FitConfig(), "bounded": FitConfig(budget=RefitBudget())}
"""``full``: every refit trains epochs over every answer until early stopping (from the
last weights); ``bounded``: after the first fit, steps in proportion to the new answers
(``hfrl_gym.reward_model.refit``; docs/BENCHMARKS.md compares the two)."""


def fit_config(refit: str) -> FitConfig:
    """The fit settings of one ``--refit`` choice.

    Example:
        >>> fit_config("bounded").budget is not None, fit_config("full").budget
        (True, None)
    """
    if refit not in REFIT_CONFIGS:
        raise ConfigError(f"--refit must be one of {', '.join(REFIT_CONFIGS)}, got {refit!r}")
    return REFIT_CONFIGS[refit]


class Spaces(Protocol):
    """Anything with an observation and an action space (a Gymnasium env, an SB3 VecEnv)."""

    observation_space: gym.Space
    action_space: gym.Space


def new_reward_model(
    env_id: str, spaces: Spaces, *, num_members: int, device: str, seed: int
) -> RewardModel:
    """A new, unfit reward model of ``env_id``: an ensemble of ``num_members`` networks.

    Example:
        >>> from hfrl_gym.envs import make_env
        >>> new_reward_model("hfrl/CartPole-v0", make_env("hfrl/CartPole-v0"), num_members=3,
        ...                  device="cpu", seed=0).num_members
        3
    """
    return RewardModel(
        spaces.observation_space,
        spaces.action_space,
        env_id=env_id,
        num_members=num_members,
        device=device,
        seed=seed,
    )


class RewardFitter:
    """Refits ``model`` (Bradley-Terry, ensemble) on all the answers in a store.

    Args:
        model: the reward model PPO's reward comes from (it is refit in place).
        rng: the fit's random source (bootstrap samples, validation split).
        fitted: whether ``model`` was already fit (a resumed run's checkpoint).
        config: the fit settings (``fit_config``); ``FitConfig()`` when ``None``. A bounded
            refit continues from ``model`` as saved, so a resumed run refits as an
            uninterrupted one would.

    Attributes:
        last_fit: the report of the last fit in this process, ``None`` before one.
        last_probe: the refit reward measured on the clips given to the last :meth:`fit`.
    """

    def __init__(
        self,
        model: RewardModel,
        rng: np.random.Generator,
        *,
        fitted: bool,
        config: FitConfig | None = None,
    ) -> None:
        self.model, self.rng, self.fitted = model, rng, fitted
        self.config = FitConfig() if config is None else config
        self.last_fit: FitReport | None = None
        self.last_probe: RewardProbe | None = None

    def fit(self, store: LabelStore, *, probe: Sequence[Clip] = ()) -> FitReport:
        """Fit the model on every answered pair in ``store``; return the report.

        With ``probe`` (the round's clips, labelled or not), :attr:`last_probe` measures the
        refit reward on them: rank correlation with their true returns, scale, and drift
        from the previous fit (``agents.diagnostics``). Measuring changes nothing.
        """
        before = probe_reward(self.model, probe) if self.fitted else None
        report = self.fit_pairs(store.labelled_pairs())
        self.last_probe = probe_reward(self.model, probe, previous=before)
        return report

    def fit_pairs(self, labelled: Sequence[tuple[ClipPair, Answer]]) -> FitReport:
        """Fit the model on these answered pairs (a lesson's first ``n``, say)."""
        self.last_fit = self.model.fit(labelled, self.rng, self.config)
        self.fitted = True
        return self.last_fit

    def adopt(self, model: RewardModel, report: FitReport, probe: RewardProbe | None) -> None:
        """Take a model refit elsewhere (``--async``'s background fit) as this run's model.

        Only the thread that runs PPO calls this, between rollouts; the model is not fit in
        place afterwards (the background fit works on a copy of it).
        """
        self.model, self.last_fit, self.last_probe = model, report, probe
        self.fitted = True

    @property
    def fitted_model(self) -> RewardModel | None:
        """The model once it has been fit (active query selection needs one), else ``None``."""
        return self.model if self.fitted else None

"""The reward model: an ensemble of MLPs fit to preferences with the Bradley-Terry model.

See docs/REWARD_MODEL.md for the architecture, the loss, normalisation and checkpoints.

Modules:
    features: ``(obs, action, next_obs)`` -> feature vectors (one-hot for Discrete parts).
    normalize: input standardisation and output reward scale.
    net: ``EnsembleMLP``, the stacked member networks; ``resolve_device``.
    bradley_terry: logits, the loss with an assumed random-answer chance, accuracy.
    trainer: ``FitConfig``, ``FitReport``, ``fit_ensemble`` (bootstrap, early stopping).
    refit: ``RefitBudget``, ``refit_ensemble`` (a warm refit whose work scales with the new
        answers).
    checkpoint: the checkpoint folder format (``weights.pt`` + ``meta.json``).
    model: ``RewardModel``, which ties them together.

Classes (re-exported):
    RewardModel, FitConfig, FitReport, RefitBudget, EnsembleMLP, TransitionFeatures.
"""

from __future__ import annotations

from hfrl_gym.reward_model.features import TransitionFeatures
from hfrl_gym.reward_model.model import RewardModel
from hfrl_gym.reward_model.net import EnsembleMLP
from hfrl_gym.reward_model.refit import RefitBudget
from hfrl_gym.reward_model.trainer import FitConfig, FitReport

__all__ = [
    "EnsembleMLP",
    "FitConfig",
    "FitReport",
    "RefitBudget",
    "RewardModel",
    "TransitionFeatures",
]

"""A bounded warm refit: continue from the last fit's weights with work that scales with the
new answers, not with all of them.

A full fit (``trainer.fit_ensemble``) trains epochs over every answer until early stopping,
so each refit of a run costs about as much as the first fit on that many answers. A bounded
refit starts from the weights the last fit left and takes a number of optimiser steps set by
the answers that arrived since (``RefitBudget.num_steps``). Each member's minibatch is half
new training pairs (drawn with replacement) and half drawn from its bootstrap sample of all
training pairs, so old answers keep their hold on the reward. The validation split is drawn
as in a full fit; the weights are checked on it before training and ``evals`` times during,
and each member keeps its best weights (the starting ones included: a refit does not make a
member's validation loss worse).

Classes:
    RefitBudget: how many steps a refit takes and how often it is validated.

Functions:
    refit_ensemble: train an ``EnsembleMLP`` on ``PairData`` within a budget.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from hfrl_gym.errors import ConfigError
from hfrl_gym.reward_model.net import EnsembleMLP
from hfrl_gym.reward_model.trainer import (
    BestWeights,
    FitConfig,
    FitReport,
    PairData,
    bootstrap_samples,
    evaluate_pairs,
    fit_report,
    split_train_val,
    train_step,
)


@dataclass(frozen=True)
class RefitBudget:
    """The work of one bounded refit.

    Attributes:
        new_pair_epochs: passes over the new training pairs (in the new half of each
            minibatch); the steps are ``new_pair_epochs * new / (batch_size / 2)``.
        min_steps: fewest optimiser steps (also when no answer is new).
        max_steps: most optimiser steps, whatever arrived.
        evals: validation checks during the refit (after the one before it).

    Example:
        >>> budget = RefitBudget(new_pair_epochs=10, min_steps=20, max_steps=200)
        >>> [budget.num_steps(new, batch_size=64) for new in (0, 32, 160, 10_000)]
        [20, 20, 50, 200]
        >>> RefitBudget(min_steps=10, max_steps=5)
        Traceback (most recent call last):
        ...
        hfrl_gym.errors.ConfigError: need 1 <= min_steps <= max_steps, got 10 and 5
    """

    new_pair_epochs: float = 10.0
    min_steps: int = 40
    max_steps: int = 300
    evals: int = 4

    def __post_init__(self) -> None:
        if not 1 <= self.min_steps <= self.max_steps:
            raise ConfigError(
                f"need 1 <= min_steps <= max_steps, got {self.min_steps} and {self.max_steps}"
            )
        if not self.new_pair_epochs > 0 or self.evals < 1:
            raise ConfigError(
                f"need new_pair_epochs > 0 and evals >= 1, got {self.new_pair_epochs} and "
                f"{self.evals}"
            )

    def num_steps(self, num_new: int, *, batch_size: int) -> int:
        """Optimiser steps for ``num_new`` new training pairs."""
        steps = math.ceil(self.new_pair_epochs * num_new / max(1, batch_size // 2))
        return min(self.max_steps, max(self.min_steps, steps))


def refit_ensemble(
    net: EnsembleMLP,
    data: PairData,
    new_pairs: np.ndarray,
    *,
    config: FitConfig,
    budget: RefitBudget,
    rng: np.random.Generator,
    num_skipped: int = 0,
) -> FitReport:
    """Continue training ``net`` in place (see the module docstring).

    Args:
        net: the ensemble as the last fit left it, on the same device as ``data``.
        data: every answered pair (at least one).
        new_pairs: indices into ``data``'s pairs of the answers new since the last fit.
        config: batch size, learning rate, validation share, assumed random-answer chance.
        budget: the steps to take and how often to validate.
        rng: source of the split, the bootstrap samples and the minibatches.
        num_skipped: skipped pairs, only reported.

    Returns:
        The report of the kept weights.
    """
    started = time.perf_counter()
    num_pairs = int(data.targets.shape[0])
    if num_pairs < 1:
        raise ConfigError("no answered pairs to fit on (every pair was skipped?)")
    train, val = split_train_val(num_pairs, config.val_fraction, rng)
    members, device = net.num_members, data.features.device
    samples = bootstrap_samples(train, members, config.bootstrap, rng)
    new_train = train[np.isin(train, new_pairs)]
    steps = budget.num_steps(len(new_train), batch_size=config.batch_size)
    half = config.batch_size // 2 if len(new_train) > 0 else 0
    every = math.ceil(steps / budget.evals)
    optimizer = torch.optim.AdamW(
        net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    best = None
    if len(val) > 0:
        best = BestWeights(net, evaluate_pairs(net, data, val, config.random_answer_prob)[0])
    for step in range(1, steps + 1):
        old = np.take_along_axis(
            samples, rng.integers(0, len(train), size=(members, config.batch_size - half)), 1
        )
        new = old[:, :0]
        if half:
            new = new_train[rng.integers(0, len(new_train), size=(members, half))]
        batch = torch.as_tensor(np.concatenate([new, old], axis=1), device=device)
        train_step(net, data, batch, optimizer, config.random_answer_prob)
        if best is not None and (step % every == 0 or step == steps):
            best.update(evaluate_pairs(net, data, val, config.random_answer_prob)[0])
    if best is not None:
        best.restore()
    return fit_report(
        net,
        data,
        (train, val),
        config=config,
        num_skipped=num_skipped,
        epochs_run=math.ceil(steps * config.batch_size / len(train)),
        gradient_steps=steps,
        started=started,
    )

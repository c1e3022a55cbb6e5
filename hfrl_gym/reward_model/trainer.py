"""Fitting the ensemble to answered pairs (Bradley-Terry, bootstrap, early stopping).

One fit: the answered pairs (skips already dropped) are split at random into a training
and a validation set (``val_fraction``, at least one validation pair once there are 5
pairs). Each member trains on its own bootstrap sample of the training pairs (drawn with
replacement, as many as there are training pairs), with AdamW (Adam with decoupled weight
decay) on minibatches of pairs. After every epoch each member's validation loss is computed;
a member's best weights are kept, and training stops when no member has improved for
``patience`` epochs. The best weights are restored, and the report gives the training
loss, the validation loss and the ensemble's validation accuracy (on non-equal pairs) of
those weights. (A bounded warm refit, ``refit.py``, shares the parts below.)

Classes:
    FitConfig: the fit's settings.
    FitReport: what a fit did and how well the result does.
    PairData: clips' features and the answered pairs, as tensors on the model's device.
    BestWeights: each member's best weights so far (early stopping).

Functions:
    split_train_val: the random validation split.
    bootstrap_samples: each member's bootstrap sample of the training pairs.
    evaluate_pairs: each member's loss and the ensemble's accuracy on some pairs.
    train_step: one optimiser step on a minibatch per member.
    fit_report: the report of the current weights.
    fit_ensemble: train an ``EnsembleMLP`` on ``PairData``.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from hfrl_gym.errors import ConfigError
from hfrl_gym.reward_model.bradley_terry import (
    bradley_terry_loss,
    preference_accuracy,
    preference_logits,
)
from hfrl_gym.reward_model.net import EnsembleMLP

if TYPE_CHECKING:
    from hfrl_gym.reward_model.refit import RefitBudget

MIN_PAIRS_FOR_VALIDATION = 5
EVAL_CHUNK_PAIRS = 1024
MIN_IMPROVEMENT = 1e-3
"""A member's validation loss must fall by more than this (nats) to count as better."""


@dataclass(frozen=True)
class FitConfig:
    """Settings of one reward-model fit.

    Attributes:
        max_epochs: most passes over each member's bootstrap sample.
        batch_size: pairs per minibatch.
        learning_rate: AdamW step size.
        weight_decay: AdamW decoupled weight decay.
        val_fraction: share of the answered pairs held out for validation, in [0, 1).
        patience: epochs without any member improving its validation loss before stopping.
        random_answer_prob: assumed chance that an answer is random, in [0, 1).
        bootstrap: each member trains on its own bootstrap sample (else all on the same set).
        warm_start: continue from the current weights (True) or start from fresh weights
            drawn from the fit's ``rng`` (False).
        budget: with warm start and a model fit before, train a bounded number of steps
            that scales with the new answers (``refit.RefitBudget``); ``None``: train
            epochs over every answer until early stopping, as on a first fit.

    Example:
        >>> FitConfig(batch_size=0)
        Traceback (most recent call last):
        ...
        hfrl_gym.errors.ConfigError: batch_size must be >= 1, got 0
    """

    max_epochs: int = 200
    batch_size: int = 64
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    val_fraction: float = 0.2
    patience: int = 10
    random_answer_prob: float = 0.1
    bootstrap: bool = True
    warm_start: bool = True
    budget: RefitBudget | None = None

    def __post_init__(self) -> None:
        for name in ("max_epochs", "batch_size", "patience"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.learning_rate > 0 or not self.weight_decay >= 0:
            raise ConfigError(
                f"need learning_rate > 0 and weight_decay >= 0, got {self.learning_rate} "
                f"and {self.weight_decay}"
            )
        for name in ("val_fraction", "random_answer_prob"):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(f"{name} must be in [0, 1), got {getattr(self, name)}")


@dataclass(frozen=True)
class FitReport:
    """What one fit did.

    Attributes:
        num_pairs: labelled pairs given, skipped ones included.
        num_skipped: pairs answered ``skip`` (not used).
        num_train: pairs in the training split.
        num_val: pairs in the validation split (0 with fewer than 5 answered pairs).
        train_loss: mean over members of the loss on the training split (nats per pair).
        val_loss: the same on the validation split; ``None`` without one.
        val_accuracy: share of non-equal validation pairs the ensemble-mean returns order
            as the teacher did; ``None`` without such pairs.
        epochs_run: epochs trained (a bounded refit: its steps as passes over the training
            split, rounded up).
        seconds: wall-clock time of the fit, in seconds.
        gradient_steps: optimiser steps taken; ``None`` in reports saved before it was kept.

    Example:
        >>> FitReport(10, 0, 8, 2, 0.5, 0.6, 1.0, 3, 0.1).to_dict()["val_accuracy"]
        1.0
    """

    num_pairs: int
    num_skipped: int
    num_train: int
    num_val: int
    train_loss: float
    val_loss: float | None
    val_accuracy: float | None
    epochs_run: int
    seconds: float
    gradient_steps: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable fields."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class PairData:
    """Answered pairs over a set of clips, ready for training.

    Attributes:
        features: ``(C, T_max, D)`` float32 normalised features of ``C`` clips, zero-padded.
        mask: ``(C, T_max)`` float32, 1 on real steps, 0 on padding.
        left: ``(P,)`` int64 index of each pair's left clip.
        right: ``(P,)`` int64 index of each pair's right clip.
        targets: ``(P,)`` float32 probability that left is better (1, 0.75, 0.5, 0.25, 0).

    Example:
        >>> data = PairData.from_arrays([np.zeros((2, 3)), np.ones((4, 3))], [0], [1], [1.0],
        ...                             device=torch.device("cpu"))
        >>> tuple(data.features.shape), data.mask.sum().item()
        ((2, 4, 3), 6.0)
    """

    features: torch.Tensor
    mask: torch.Tensor
    left: torch.Tensor
    right: torch.Tensor
    targets: torch.Tensor

    @classmethod
    def from_arrays(
        cls,
        clip_features: list[np.ndarray],
        left: list[int],
        right: list[int],
        targets: list[float],
        *,
        device: torch.device,
    ) -> PairData:
        """Pad ``(T_c, D)`` clip features into one tensor and index the pairs."""
        max_steps = max(features.shape[0] for features in clip_features)
        dim = clip_features[0].shape[1]
        padded = np.zeros((len(clip_features), max_steps, dim), dtype=np.float32)
        mask = np.zeros((len(clip_features), max_steps), dtype=np.float32)
        for index, features in enumerate(clip_features):
            padded[index, : features.shape[0]] = features
            mask[index, : features.shape[0]] = 1.0
        return cls(
            torch.from_numpy(padded).to(device),
            torch.from_numpy(mask).to(device),
            torch.as_tensor(left, dtype=torch.int64, device=device),
            torch.as_tensor(right, dtype=torch.int64, device=device),
            torch.as_tensor(targets, dtype=torch.float32, device=device),
        )

    def clip_returns(self, net: EnsembleMLP, clips: torch.Tensor) -> torch.Tensor:
        """Each member's predicted return of clips.

        Args:
            net: the ensemble.
            clips: ``(K,)`` clip indices scored by every member, or ``(M, K)``, row ``m``
                scored by member ``m``.

        Returns:
            ``(M, K)`` sums of predicted rewards over each clip's real steps.
        """
        features, mask = self.features[clips], self.mask[clips]
        steps, dim = features.shape[-2], features.shape[-1]
        if clips.dim() == 1:
            rewards = net(features.reshape(-1, dim)).reshape(-1, clips.shape[0], steps)
        else:
            members = clips.shape[0]
            rewards = net(features.reshape(members, -1, dim)).reshape(members, -1, steps)
        return (rewards * mask).sum(dim=-1)


def split_train_val(
    num_pairs: int, val_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Random ``(train, val)`` index arrays; no validation below 5 pairs, else at least 1.

    Example:
        >>> train, val = split_train_val(10, 0.2, np.random.default_rng(0))
        >>> len(train), len(val), sorted([*train, *val]) == list(range(10))
        (8, 2, True)
    """
    num_val = 0
    if num_pairs >= MIN_PAIRS_FOR_VALIDATION and val_fraction > 0:
        num_val = min(num_pairs - 1, max(1, round(val_fraction * num_pairs)))
    order = rng.permutation(num_pairs)
    return np.sort(order[num_val:]), np.sort(order[:num_val])


def evaluate_pairs(
    net: EnsembleMLP, data: PairData, pairs: np.ndarray, random_answer_prob: float
) -> tuple[torch.Tensor, float | None]:
    """``(M,)`` mean loss of each member on ``pairs``, and the ensemble-mean accuracy."""
    logits = []
    with torch.no_grad():
        for start in range(0, len(pairs), EVAL_CHUNK_PAIRS):
            chunk = torch.as_tensor(
                pairs[start : start + EVAL_CHUNK_PAIRS], device=data.features.device
            )
            returns = data.clip_returns(net, torch.cat([data.left[chunk], data.right[chunk]]))
            logits.append(preference_logits(*returns.chunk(2, dim=1)))
        all_logits = torch.cat(logits, dim=1)
        targets = data.targets[torch.as_tensor(pairs, device=data.features.device)]
        loss = bradley_terry_loss(all_logits, targets, random_answer_prob=random_answer_prob)
    return loss, preference_accuracy(all_logits.mean(dim=0), targets)


def train_step(
    net: EnsembleMLP,
    data: PairData,
    batch: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    random_answer_prob: float,
) -> None:
    """One optimiser step on ``(M, B)`` pair indices, row ``m`` for member ``m``."""
    returns = data.clip_returns(net, torch.cat([data.left[batch], data.right[batch]], 1))
    logits = preference_logits(*returns.chunk(2, dim=1))
    loss = bradley_terry_loss(logits, data.targets[batch], random_answer_prob=random_answer_prob)
    optimizer.zero_grad(set_to_none=True)
    loss.sum().backward()  # members share no weights: each gets its own gradient
    optimizer.step()


class BestWeights:
    """Each member's weights at its lowest validation loss so far (early stopping).

    Args:
        net: the ensemble whose members are tracked; its current weights are the first
            candidate only when ``loss`` is given (a warm start that must not get worse).
        loss: ``(M,)`` validation loss of the current weights, or ``None``.
    """

    def __init__(self, net: EnsembleMLP, loss: torch.Tensor | None = None) -> None:
        self.net = net
        device = next(net.parameters()).device
        infinite = torch.full((net.num_members,), torch.inf, device=device)
        self.loss = infinite if loss is None else loss
        self.weights = [parameter.detach().clone() for parameter in net.member_parameters()]

    def update(self, loss: torch.Tensor) -> bool:
        """Keep the members whose ``(M,)`` loss improved by more than ``MIN_IMPROVEMENT``;
        return whether any did."""
        improved = loss < self.loss - MIN_IMPROVEMENT
        if not bool(improved.any()):
            return False
        self.loss = torch.where(improved, loss, self.loss)
        for kept, parameter in zip(self.weights, self.net.member_parameters(), strict=True):
            kept[improved] = parameter.detach()[improved]
        return True

    def restore(self) -> None:
        """Put the kept weights back into the ensemble."""
        with torch.no_grad():
            for kept, parameter in zip(self.weights, self.net.member_parameters(), strict=True):
                parameter.copy_(kept)


def bootstrap_samples(
    train: np.ndarray, members: int, bootstrap: bool, rng: np.random.Generator
) -> np.ndarray:
    """``(M, len(train))`` training pairs of each member: its bootstrap sample, or all."""
    if bootstrap:
        return train[rng.integers(0, len(train), size=(members, len(train)))]
    return np.tile(train, (members, 1))


def fit_report(
    net: EnsembleMLP,
    data: PairData,
    split: tuple[np.ndarray, np.ndarray],
    *,
    config: FitConfig,
    num_skipped: int,
    epochs_run: int,
    gradient_steps: int,
    started: float,
) -> FitReport:
    """The report of the ensemble's current weights on the ``(train, val)`` split."""
    train, val = split
    train_loss, _ = evaluate_pairs(net, data, train, config.random_answer_prob)
    val_loss, val_accuracy = (None, None)
    if len(val) > 0:
        member_val_loss, val_accuracy = evaluate_pairs(net, data, val, config.random_answer_prob)
        val_loss = float(member_val_loss.mean())
    return FitReport(
        num_pairs=int(data.targets.shape[0]) + num_skipped,
        num_skipped=num_skipped,
        num_train=len(train),
        num_val=len(val),
        train_loss=float(train_loss.mean()),
        val_loss=val_loss,
        val_accuracy=val_accuracy,
        epochs_run=epochs_run,
        seconds=time.perf_counter() - started,
        gradient_steps=gradient_steps,
    )


def fit_ensemble(
    net: EnsembleMLP,
    data: PairData,
    *,
    config: FitConfig,
    rng: np.random.Generator,
    num_skipped: int = 0,
) -> FitReport:
    """Train ``net`` in place on ``data`` (see the module docstring for the procedure).

    Args:
        net: the ensemble, on the same device as ``data``.
        data: the answered pairs (at least one).
        config: the settings.
        rng: source of the split, the bootstrap samples and the minibatch order.
        num_skipped: skipped pairs, only reported.

    Returns:
        The report of the restored (best) weights.
    """
    started = time.perf_counter()
    num_pairs = int(data.targets.shape[0])
    if num_pairs < 1:
        raise ConfigError("no answered pairs to fit on (every pair was skipped?)")
    train, val = split_train_val(num_pairs, config.val_fraction, rng)
    samples = bootstrap_samples(train, net.num_members, config.bootstrap, rng)
    optimizer = torch.optim.AdamW(
        net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    best = BestWeights(net)
    epochs_without_improvement, epochs_run, steps = 0, 0, 0
    for _ in range(config.max_epochs):
        epochs_run += 1
        order = torch.as_tensor(rng.permuted(samples, axis=1), device=data.features.device)
        for start in range(0, len(train), config.batch_size):
            batch = order[:, start : start + config.batch_size]
            train_step(net, data, batch, optimizer, config.random_answer_prob)
            steps += 1
        if len(val) == 0:
            continue
        val_loss, _ = evaluate_pairs(net, data, val, config.random_answer_prob)
        if best.update(val_loss):
            epochs_without_improvement = 0
        else:
            epochs_without_improvement += 1
            if epochs_without_improvement >= config.patience:
                break
    if len(val) > 0:
        best.restore()
    return fit_report(
        net,
        data,
        (train, val),
        config=config,
        num_skipped=num_skipped,
        epochs_run=epochs_run,
        gradient_steps=steps,
        started=started,
    )

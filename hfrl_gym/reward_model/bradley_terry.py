"""The Bradley-Terry preference likelihood, computed from logits.

The model says the left clip is preferred with probability ``sigmoid(R_left - R_right)``,
``R`` being the sum of the predicted rewards over a clip. With an assumed chance ``eps`` that
an answer is random (Christiano et al. 2017 use 0.1), the probability becomes::

    P(left) = (1 - eps) * sigmoid(delta) + eps / 2

The loss is ``binary_cross_entropy_with_logits(z, target)`` on the logit ``z = log P(left) -
log P(right)`` of that probability, computed in log space (``logsigmoid``, ``logaddexp``):
no probability is formed, no clipping is needed, and ``eps = 0`` gives ``z = delta``.
Targets are 1 (left), 0 (right) and 0.5 (equal); an answer given as "slightly better" is a
softer 0.75 (left) or 0.25 (right) (:mod:`hfrl_gym.answers`): the loss is then smallest at a
finite return gap instead of pushing it ever wider. Skipped pairs are never targets.

Functions:
    preference_logits: ``R_left - R_right``.
    answer_logits: the logit of ``P(left)`` with the random-answer chance.
    bradley_terry_loss: mean loss per ensemble member.
    preference_accuracy: share of non-equal pairs whose preferred clip the logits pick.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional

from hfrl_gym.errors import ConfigError


def preference_logits(left_returns: torch.Tensor, right_returns: torch.Tensor) -> torch.Tensor:
    """Bradley-Terry logits ``left_returns - right_returns`` (any matching shapes).

    Example:
        >>> preference_logits(torch.tensor([3.0]), torch.tensor([1.0]))
        tensor([2.])
    """
    return left_returns - right_returns


def answer_logits(logits: torch.Tensor, random_answer_prob: float) -> torch.Tensor:
    """Logit of ``(1 - eps) * sigmoid(logits) + eps / 2``, computed in log space.

    Args:
        logits: Bradley-Terry logits, any shape.
        random_answer_prob: ``eps`` in [0, 1).

    Returns:
        ``log P(left) - log P(right)``, same shape; bounded by ``log((2 - eps) / eps)``.

    Example:
        >>> answer_logits(torch.tensor([0.0, 1000.0]), 0.1)
        tensor([0.0000, 2.9444])
    """
    if not 0 <= random_answer_prob < 1:
        raise ConfigError(f"random_answer_prob must be in [0, 1), got {random_answer_prob}")
    if random_answer_prob == 0:
        return logits
    log_keep = math.log1p(-random_answer_prob)
    log_random = math.log(random_answer_prob / 2)
    random_part = torch.full_like(logits, log_random)
    log_left = torch.logaddexp(log_keep + functional.logsigmoid(logits), random_part)
    log_right = torch.logaddexp(log_keep + functional.logsigmoid(-logits), random_part)
    return log_left - log_right


def bradley_terry_loss(
    logits: torch.Tensor, targets: torch.Tensor, *, random_answer_prob: float
) -> torch.Tensor:
    """Mean negative log-likelihood of the targets, per ensemble member.

    Args:
        logits: ``(M, B)`` Bradley-Terry logits of ``B`` pairs for ``M`` members.
        targets: ``(M, B)`` or ``(B,)`` probabilities that left is better, in [0, 1].
        random_answer_prob: assumed chance of a random answer, in [0, 1).

    Returns:
        ``(M,)`` mean loss of each member (nats per pair).

    Example:
        >>> loss = bradley_terry_loss(torch.zeros(2, 3), torch.ones(3), random_answer_prob=0.1)
        >>> [round(value, 4) for value in loss.tolist()]
        [0.6931, 0.6931]
    """
    targets = targets.to(logits).expand_as(logits)
    z = answer_logits(logits, random_answer_prob)
    return functional.binary_cross_entropy_with_logits(z, targets, reduction="none").mean(dim=-1)


def preference_accuracy(logits: torch.Tensor, targets: torch.Tensor) -> float | None:
    """Share of the non-equal pairs whose preferred clip has the larger predicted return.

    Pairs answered ``equal`` (target 0.5) are left out; a logit of exactly 0 counts as wrong.

    Args:
        logits: ``(B,)`` logits (e.g. of the ensemble-mean returns).
        targets: ``(B,)`` targets.

    Returns:
        The accuracy in [0, 1], or ``None`` when every pair is ``equal``.

    Example:
        >>> preference_accuracy(torch.tensor([2.0, -1.0, 0.5]), torch.tensor([1.0, 1.0, 0.5]))
        0.5
    """
    decided = targets != 0.5
    if not bool(decided.any()):
        return None
    correct = (logits[decided] > 0) == (targets[decided] > 0.5)
    return float(correct.float().mean())

"""The reward network: an ensemble of small MLPs held as batched weights.

Each member maps a ``D``-dimensional transition feature to a scalar reward through hidden
layers (64, 64 by default) with LeakyReLU (slope 0.01) and a linear output. The weights of
all members are stacked (layer ``l``: ``(M, fan_in, fan_out)``), so one batched matrix
product (``torch.baddbmm``) evaluates every member at once; members share no weights.

Classes:
    EnsembleMLP: the ``M`` stacked MLPs.

Functions:
    resolve_device: ``"auto"`` -> CUDA when available, else CPU.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import nn

from hfrl_gym.errors import ConfigError

LEAKY_RELU_SLOPE = 0.01


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> ``cuda`` when torch sees a GPU, else ``cpu``; other names as given.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ConfigError(f"unknown device {device!r}; use 'auto', 'cpu' or 'cuda'") from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"device {device!r} asked for, but torch sees no CUDA GPU here; use 'cpu', or "
            "'auto' (the GPU when there is one)"
        )
    return resolved


class EnsembleMLP(nn.Module):
    """``M`` MLPs with identical shapes and independent weights.

    Args:
        input_dim: feature dimension ``D``.
        num_members: ensemble size ``M``.
        hidden_sizes: width of each hidden layer.
        seed: seeds the initialisation (PyTorch's ``nn.Linear`` scheme: uniform in
            ``+-1/sqrt(fan_in)``), through a private generator; global state is untouched.

    Example:
        >>> net = EnsembleMLP(5, num_members=3, hidden_sizes=(8, 8), seed=0)
        >>> net(torch.zeros(10, 5)).shape
        torch.Size([3, 10])
    """

    def __init__(
        self, input_dim: int, *, num_members: int, hidden_sizes: Sequence[int], seed: int
    ) -> None:
        super().__init__()
        if input_dim < 1 or num_members < 1 or any(size < 1 for size in hidden_sizes):
            raise ConfigError(
                f"need input_dim, num_members and hidden sizes >= 1, got {input_dim}, "
                f"{num_members}, {tuple(hidden_sizes)}"
            )
        self.input_dim = int(input_dim)
        self.num_members = int(num_members)
        self.hidden_sizes = tuple(int(size) for size in hidden_sizes)
        sizes = [self.input_dim, *self.hidden_sizes, 1]
        self.weights = nn.ParameterList(
            nn.Parameter(torch.empty(num_members, fan_in, fan_out))
            for fan_in, fan_out in itertools.pairwise(sizes)
        )
        self.biases = nn.ParameterList(
            nn.Parameter(torch.empty(num_members, 1, fan_out)) for fan_out in sizes[1:]
        )
        self.reset_parameters(seed)

    def reset_parameters(self, seed: int) -> None:
        """Re-initialise every member from ``seed``."""
        generator = torch.Generator().manual_seed(int(seed))
        with torch.no_grad():
            for weight, bias in zip(self.weights, self.biases, strict=True):
                bound = 1.0 / math.sqrt(weight.shape[1])
                for parameter in (weight, bias):
                    values = torch.rand(parameter.shape, generator=generator) * 2 - 1
                    parameter.copy_(values * bound)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Rewards of every member.

        Args:
            features: ``(N, D)`` features scored by every member, or ``(M, N, D)`` with
                member ``m`` scoring ``features[m]``.

        Returns:
            ``(M, N)`` rewards.
        """
        num_layers = len(self.weights)
        if features.dim() == 2:
            # Shared input: one (N, D) x (D, M*H) product for the first layer.
            weight = self.weights[0]
            members, fan_in, fan_out = weight.shape
            flat = weight.permute(1, 0, 2).reshape(fan_in, members * fan_out)
            hidden = (features @ flat).reshape(-1, members, fan_out).transpose(0, 1)
            hidden = hidden + self.biases[0]
        elif features.dim() == 3 and features.shape[0] == self.num_members:
            hidden = torch.baddbmm(self.biases[0], features, self.weights[0])
        else:
            raise ConfigError(
                f"features must be (N, {self.input_dim}) or ({self.num_members}, N, "
                f"{self.input_dim}), got {tuple(features.shape)}"
            )
        for layer in range(1, num_layers):
            hidden = nn.functional.leaky_relu(hidden, LEAKY_RELU_SLOPE)
            hidden = torch.baddbmm(self.biases[layer], hidden, self.weights[layer])
        return hidden.squeeze(-1)

    @torch.no_grad()
    def rescale_inputs(self, scale: torch.Tensor, shift: torch.Tensor) -> None:
        """Fold an input change into the first layer, keeping every member's function.

        After this, the net applied to ``x_new`` gives what it gave before for
        ``x_old = x_new * scale + shift``. A refit's new input normalisation uses it:
        with old ``(m0, s0)`` and new ``(m1, s1)``, ``scale = s1 / s0`` and
        ``shift = (m1 - m0) / s0``.

        Args:
            scale: ``(D,)`` per-feature factor.
            shift: ``(D,)`` per-feature offset.
        """
        weight, bias = self.weights[0], self.biases[0]
        bias.add_((shift.to(weight) @ weight).unsqueeze(1))
        weight.mul_(scale.to(weight)[None, :, None])

    def member_parameters(self) -> list[torch.Tensor]:
        """Every parameter; each has the member index as its first dimension."""
        return [*self.weights, *self.biases]

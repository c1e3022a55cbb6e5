"""PPO with a KL penalty that keeps the policy close to a reference policy.

As in the RLHF of large language models (Ziegler et al. 2019; Ouyang et al. 2022), the reward
PPO optimises at each step is the learned reward minus ``beta * (log pi(a|s) - log
pi_ref(a|s))``, where ``a`` is the action the policy took and ``pi_ref`` is a frozen copy of
the starting policy (usually the behaviour-cloned one). Its expectation over the policy's
actions is ``beta * KL(pi(.|s) || pi_ref(.|s))``: the agent pays for every nat it moves away
from the reference, and the coefficient ``beta`` sets the price.

How it is applied to SB3's PPO: :class:`KLPenalty` is a callback. At the end of each rollout
(SB3 2.x calls ``on_rollout_end`` after the rollout buffer's returns and advantages are
computed) it scores the rollout's states and actions with the reference in one batch,
subtracts the penalty from ``rollout_buffer.rewards`` (the log-probabilities of the acting
policy are already stored in ``rollout_buffer.log_probs``), and recomputes the returns and
advantages from the buffer's values and the rollout's last values and dones. It also measures
the exact mean ``KL(pi || pi_ref)`` over the rollout's states and logs both, so a run shows
how far it has moved.

Classes:
    KLRecord: the KL measured at the end of one rollout.
    KLPenalty: the SB3 callback described above.

Functions:
    frozen_copy: a frozen deep copy of a policy (the reference).
    load_policy_weights: (from ``agents.policy_file``) a saved policy's weights into a policy.
    mean_kl: exact mean ``KL(policy || reference)`` over given observations.
    kl_penalty_for_run: the callback of ``hfrl train --kl-coef B [--reference ZIP]``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.distributions import Distribution
from stable_baselines3.common.policies import ActorCriticPolicy

from agents.policy_file import load_policy_weights, save_policy
from hfrl_gym.errors import ConfigError

REFERENCE_FILE = "reference.pt"
"""Where a run without ``--reference`` keeps its starting policy (for resuming)."""
LEGACY_REFERENCE_FILE = "reference.zip"
"""The same, in runs made before policies were saved as tensors (SB3's zip, read safely)."""


def frozen_copy(policy: ActorCriticPolicy) -> ActorCriticPolicy:
    """A deep copy of ``policy`` that is never trained (no gradients, eval mode)."""
    reference = copy.deepcopy(policy)
    reference.set_training_mode(False)
    for parameter in reference.parameters():
        parameter.requires_grad_(False)
    return reference


def _actions_tensor(actions: torch.Tensor, action_space: spaces.Space) -> torch.Tensor:
    if isinstance(action_space, spaces.Discrete):
        return actions.long().flatten()
    return actions


def _kl(current: Distribution, reference: Distribution) -> torch.Tensor:
    """``(N,)`` exact KL between two SB3 distributions of the same kind."""
    kl = torch.distributions.kl_divergence(current.distribution, reference.distribution)
    return kl.sum(dim=1) if kl.dim() > 1 else kl


def mean_kl(
    policy: ActorCriticPolicy, reference: ActorCriticPolicy, observations: np.ndarray
) -> float:
    """Exact mean ``KL(policy(.|s) || reference(.|s))`` over observations, in nats.

    Args:
        policy: the policy being trained.
        reference: the policy it is compared with (same spaces).
        observations: ``(N, *obs_shape)`` states to average over.

    Example:
        >>> from agents.ppo import untrained_ppo
        >>> ppo = untrained_ppo("hfrl/CartPole-v0", seed=0)
        >>> mean_kl(ppo.policy, frozen_copy(ppo.policy), np.zeros((3, 4), np.float32))
        0.0
    """
    obs = torch.as_tensor(np.asarray(observations, np.float32), device=policy.device)
    with torch.no_grad():
        kl = _kl(policy.get_distribution(obs), reference.get_distribution(obs))
    return float(kl.mean())


@dataclass(frozen=True)
class KLRecord:
    """The KL penalty of one rollout.

    Attributes:
        num_timesteps: PPO's env steps when the rollout ended.
        mean_kl: exact mean ``KL(pi || pi_ref)`` over the rollout's states, in nats.
        mean_log_ratio: mean sampled ``log pi(a|s) - log pi_ref(a|s)`` (its estimate).
        mean_penalty: mean reward subtracted per step (``kl_coef * mean_log_ratio``).

    Example:
        >>> KLRecord(num_timesteps=256, mean_kl=0.02, mean_log_ratio=0.021, mean_penalty=0.002)
        KLRecord(num_timesteps=256, mean_kl=0.02, mean_log_ratio=0.021, mean_penalty=0.002)
    """

    num_timesteps: int
    mean_kl: float
    mean_log_ratio: float
    mean_penalty: float


class KLPenalty(BaseCallback):
    """Subtract ``kl_coef * (log pi(a|s) - log pi_ref(a|s))`` from PPO's rewards.

    Args:
        reference: the policy to stay close to; a frozen copy is kept.
        kl_coef: the penalty's coefficient ``beta`` >= 0 (reward units per nat). With 0 the
            rewards are left alone and the KL is only measured.

    Attributes:
        history: one :class:`KLRecord` per rollout.

    Example:
        >>> from agents.ppo import PPOHyperparameters, make_ppo, make_training_venv
        >>> venv = make_training_venv("hfrl/CartPole-v0", num_envs=2, seed=0, clip_num_steps=10)
        >>> ppo = make_ppo(venv, "hfrl/CartPole-v0", seed=0, device="cpu",
        ...                hyperparameters=PPOHyperparameters(n_steps=32))
        >>> penalty = KLPenalty(ppo.policy, kl_coef=0.5)
        >>> _ = ppo.learn(128, callback=penalty)  # two rollouts of 2 envs x 32 steps
        >>> len(penalty.history), penalty.history[0].mean_kl
        (2, 0.0)
        >>> penalty.history[1].mean_kl > 0
        True
    """

    def __init__(self, reference: ActorCriticPolicy, kl_coef: float) -> None:
        super().__init__()
        if not kl_coef >= 0 or not np.isfinite(kl_coef):
            raise ConfigError(f"the KL coefficient must be finite and >= 0, got {kl_coef}")
        self.reference = frozen_copy(reference)
        self.kl_coef = float(kl_coef)
        self.history: list[KLRecord] = []

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        buffer = self.model.rollout_buffer
        policy = self.model.policy
        self.reference.to(policy.device)
        n_steps, n_envs = buffer.rewards.shape
        obs = torch.as_tensor(
            buffer.observations.reshape(n_steps * n_envs, *buffer.obs_shape), device=policy.device
        )
        actions = torch.as_tensor(
            buffer.actions.reshape(n_steps * n_envs, -1), device=policy.device
        )
        actions = _actions_tensor(actions, policy.action_space)
        with torch.no_grad():
            reference_dist = self.reference.get_distribution(obs)
            reference_log_prob = reference_dist.log_prob(actions).cpu().numpy()
            kl = _kl(policy.get_distribution(obs), reference_dist)
        log_ratio = buffer.log_probs - reference_log_prob.reshape(n_steps, n_envs)
        if self.kl_coef > 0:
            buffer.rewards -= (self.kl_coef * log_ratio).astype(buffer.rewards.dtype)
            buffer.compute_returns_and_advantage(
                last_values=self.locals["values"], dones=self.locals["dones"]
            )
        record = KLRecord(
            num_timesteps=int(self.num_timesteps),
            mean_kl=float(kl.mean()),
            mean_log_ratio=float(log_ratio.mean()),
            mean_penalty=float(self.kl_coef * log_ratio.mean()),
        )
        self.history.append(record)
        self.logger.record("kl/mean_kl", record.mean_kl)
        self.logger.record("kl/mean_log_ratio", record.mean_log_ratio)
        self.logger.record("kl/mean_penalty", record.mean_penalty)


def kl_penalty_for_run(
    ppo: PPO,
    *,
    kl_coef: float,
    reference: str | Path | None,
    run_root: str | Path,
    resume: bool,
    env_id: str | None = None,
) -> KLPenalty | None:
    """The KL penalty of a training run, and its starting policy.

    With ``reference`` (a saved PPO policy, e.g. ``hfrl lesson 8``'s ``bc_policy.pt``), a new
    run starts PPO from those weights and the penalty keeps it close to them. Without one, the
    reference is PPO's initial policy, saved as ``run_root/reference.pt`` so that a resumed
    run measures against the same policy.

    Args:
        ppo: the run's PPO (already restored when resuming).
        kl_coef: the coefficient; 0 with no reference means no penalty (returns ``None``).
        reference: the reference policy file, or ``None``/``""``.
        run_root: the run folder.
        resume: whether the run is being resumed (its PPO weights are not replaced).
        env_id: the run's env (recorded with, and checked against, the saved policies).

    Returns:
        The callback to pass to ``ppo.learn``, or ``None`` when there is nothing to do.
    """
    if not reference and kl_coef == 0:
        return None
    saved = Path(run_root) / REFERENCE_FILE
    legacy = Path(run_root) / LEGACY_REFERENCE_FILE
    reference_policy = frozen_copy(ppo.policy)
    if reference:
        load_policy_weights(reference_policy, reference, env_id=env_id)
        if not resume:
            ppo.policy.load_state_dict(reference_policy.state_dict())
    elif resume and (saved.is_file() or legacy.is_file()):
        load_policy_weights(reference_policy, saved if saved.is_file() else legacy, env_id=env_id)
    else:
        save_policy(ppo, saved, env_id=env_id)
    return KLPenalty(reference_policy, kl_coef)

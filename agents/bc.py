"""Behaviour cloning: fit PPO's own policy network to demonstrated actions.

The first stage of the pipeline that large language models use (supervised fine-tuning):
before any reward, copy what a demonstrator did. The policy is the SB3
``ActorCriticPolicy`` that PPO builds for the env (``agents.ppo.make_ppo``), so PPO can go on
from it, and a KL penalty (``agents.kl_penalty``) can keep PPO close to it.

Classes:
    BCConfig: settings of one behaviour-cloning fit.
    BCReport: what a fit did: loss and agreement on training and held-out demonstrations.

Functions:
    stored_demonstrations: a store's clips of one env played by one policy (``"human"``).
    demonstration_arrays: the ``(observation, action)`` pairs of clips, as two arrays.
    behaviour_clone: fit a policy by maximising the log-likelihood of demonstrated actions.
    action_agreement: how closely a policy's deterministic actions match demonstrated ones.
    heuristic_controller: a simple scripted controller of a suite env (a demonstrator).
    record_demonstrations: clips of a heuristic controller, with optional random actions.

Demonstrations are clips: a person's played episodes (``hfrl play``, clips with
``policy == "human"`` in a store) or a scripted controller's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.policies import ActorCriticPolicy

from hfrl_gym.clips import Clip
from hfrl_gym.envs import make_env
from hfrl_gym.errors import ConfigError
from hfrl_gym.recording import Policy, record_clips
from hfrl_gym.store import LabelStore


@dataclass(frozen=True)
class BCConfig:
    """Settings of one behaviour-cloning fit.

    Attributes:
        num_epochs: passes over the training demonstrations.
        batch_size: (observation, action) samples per gradient step.
        learning_rate: Adam step size.
        entropy_weight: weight of an entropy bonus that keeps the policy from collapsing
            onto one action (so that PPO can still explore after it).
        val_fraction: share of the clips (whole clips, not steps) held out, in [0, 1).

    Example:
        >>> BCConfig(num_epochs=0)
        Traceback (most recent call last):
        ...
        hfrl_gym.errors.ConfigError: num_epochs must be >= 1, got 0
    """

    num_epochs: int = 100
    batch_size: int = 64
    learning_rate: float = 1e-3
    entropy_weight: float = 1e-3
    val_fraction: float = 0.2

    def __post_init__(self) -> None:
        for name in ("num_epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.learning_rate > 0 or self.entropy_weight < 0:
            raise ConfigError(
                f"need learning_rate > 0 and entropy_weight >= 0, got {self.learning_rate} "
                f"and {self.entropy_weight}"
            )
        if not 0 <= self.val_fraction < 1:
            raise ConfigError(f"val_fraction must be in [0, 1), got {self.val_fraction}")


@dataclass(frozen=True)
class BCReport:
    """What one behaviour-cloning fit did.

    Attributes:
        num_train: demonstrated steps trained on.
        num_val: held-out demonstrated steps (0 when no clip was held out).
        train_nll: mean negative log-likelihood of the training actions after the fit
            (nats per action).
        val_nll: the same on the held-out actions; ``None`` without them.
        train_agreement: :func:`action_agreement` on the training demonstrations.
        val_agreement: the same on the held-out ones; ``None`` without them.
        epochs_run: epochs trained.

    Example:
        >>> BCReport(800, 200, 0.08, 0.1, 0.98, 0.97, 100).val_agreement
        0.97
    """

    num_train: int
    num_val: int
    train_nll: float
    val_nll: float | None
    train_agreement: float
    val_agreement: float | None
    epochs_run: int


def stored_demonstrations(store: LabelStore, *, env_id: str, policy: str = "human") -> list[Clip]:
    """The clips of ``env_id`` in a store that ``policy`` acted in (``hfrl play`` records
    a person's episodes as ``"human"``), in the order stored.

    Raises:
        ConfigError: the store holds none; the message says how to record some.
    """
    clips = [clip for clip in store.get_clips(store.clip_uids(env_id)) if clip.policy == policy]
    if not clips:
        raise ConfigError(
            f"{store.path} holds no {env_id} clips played by {policy!r}; record some with "
            f"`hfrl play {env_id} --store {store.path}`"
        )
    return clips


def demonstration_arrays(clips: Sequence[Clip]) -> tuple[np.ndarray, np.ndarray]:
    """Every ``(observation, action)`` of the clips: the state each action was taken in.

    Args:
        clips: demonstrations of one env.

    Returns:
        ``observations (N, *obs_shape)`` float32 and ``actions (N, *act_shape)``, where ``N``
        is the clips' total number of steps (the last observation of a clip has no action).

    Example:
        >>> clip = Clip("hfrl/CartPole-v0", np.zeros((4, 4)), np.array([0, 1, 1]), np.ones(3),
        ...             states=np.zeros((4, 4)))
        >>> [a.shape for a in demonstration_arrays([clip, clip])]
        [(6, 4), (6,)]
    """
    if not clips:
        raise ConfigError("behaviour cloning needs at least one demonstration clip")
    env_ids = sorted({clip.env_id for clip in clips})
    if len(env_ids) > 1:
        raise ConfigError(f"demonstrations must come from one env, got {env_ids}")
    observations = np.concatenate([clip.observations[:-1] for clip in clips]).astype(np.float32)
    actions = np.concatenate([clip.actions for clip in clips])
    return observations, actions


def _action_tensor(
    actions: np.ndarray, action_space: spaces.Space, device: torch.device
) -> torch.Tensor:
    if isinstance(action_space, spaces.Discrete):
        return torch.as_tensor(actions.reshape(-1), dtype=torch.long, device=device)
    if isinstance(action_space, spaces.Box):
        flat = actions.reshape(len(actions), -1).astype(np.float32)
        return torch.as_tensor(flat, device=device)
    raise ConfigError(f"behaviour cloning supports Discrete and Box actions, not {action_space}")


def _mean_nll(policy: ActorCriticPolicy, obs: np.ndarray, actions: np.ndarray) -> float:
    device = policy.device
    with torch.no_grad():
        distribution = policy.get_distribution(torch.as_tensor(obs, device=device))
        log_prob = distribution.log_prob(_action_tensor(actions, policy.action_space, device))
    return float(-log_prob.mean())


def action_agreement(
    policy: ActorCriticPolicy, observations: np.ndarray, actions: np.ndarray
) -> float:
    """How closely the policy's deterministic actions match demonstrated ones.

    Args:
        policy: an SB3 actor-critic policy.
        observations: ``(N, *obs_shape)`` states.
        actions: ``(N, *act_shape)`` demonstrated actions.

    Returns:
        Discrete actions: the share of states where the most likely action is the
        demonstrated one, in [0, 1]. Box actions: the share of the demonstrated actions'
        variance that the policy's mean action explains (R^2: 1 = identical, 0 = no better
        than always taking the average demonstrated action, negative = worse).
    """
    predicted, _ = policy.predict(np.asarray(observations, np.float32), deterministic=True)
    space = policy.action_space
    if isinstance(space, spaces.Discrete):
        return float(np.mean(predicted.reshape(-1) == actions.reshape(-1)))
    demonstrated = actions.reshape(len(actions), -1).astype(np.float64)
    error = np.sum((predicted.reshape(demonstrated.shape) - demonstrated) ** 2)
    spread = np.sum((demonstrated - demonstrated.mean(axis=0)) ** 2)
    return float(1.0 - error / spread) if spread > 0 else float(error == 0)


def _split(num_clips: int, val_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Indices of the held-out clips (none with fewer than 5 clips)."""
    num_val = round(num_clips * val_fraction) if num_clips >= 5 else 0
    return rng.permutation(num_clips)[:num_val]


def behaviour_clone(
    policy: ActorCriticPolicy,
    clips: Sequence[Clip],
    *,
    rng: np.random.Generator,
    config: BCConfig | None = None,
) -> BCReport:
    """Fit ``policy`` to the demonstrated actions by maximum likelihood, in place.

    The loss per minibatch is ``-mean(log pi(a|s)) - entropy_weight * mean(entropy)``: for
    discrete actions the cross-entropy of the demonstrated action, for continuous ones the
    Gaussian negative log-likelihood (the mean and, through ``log_std``, the spread are
    learned). The value network is not touched. Clips are held out whole for validation.

    Args:
        policy: the policy to fit, e.g. ``ppo.policy`` of ``agents.ppo.make_ppo``.
        clips: demonstrations of the env the policy acts in.
        rng: source of the held-out split and the minibatch order.
        config: settings; ``BCConfig()`` when ``None``.

    Returns:
        The fit's :class:`BCReport`.

    Example:
        >>> from agents.ppo import untrained_ppo
        >>> demos = record_demonstrations("hfrl/CartPole-v0", num_clips=4, clip_num_steps=20,
        ...                               seed=0)
        >>> ppo = untrained_ppo("hfrl/CartPole-v0", seed=0)
        >>> report = behaviour_clone(ppo.policy, demos, rng=np.random.default_rng(0),
        ...                          config=BCConfig(num_epochs=40))
        >>> report.num_train, report.train_agreement > 0.8
        (80, True)
    """
    config = BCConfig() if config is None else config
    held_out = set(_split(len(clips), config.val_fraction, rng).tolist())
    train_clips = [clip for i, clip in enumerate(clips) if i not in held_out]
    val_clips = [clip for i, clip in enumerate(clips) if i in held_out]
    obs, actions = demonstration_arrays(train_clips)
    device = policy.device
    obs_t = torch.as_tensor(obs, device=device)
    actions_t = _action_tensor(actions, policy.action_space, device)
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.learning_rate)
    policy.set_training_mode(True)
    try:
        for _ in range(config.num_epochs):
            order = rng.permutation(len(obs))
            for start in range(0, len(order), config.batch_size):
                batch = torch.as_tensor(order[start : start + config.batch_size], device=device)
                distribution = policy.get_distribution(obs_t[batch])
                log_prob = distribution.log_prob(actions_t[batch])
                entropy = distribution.entropy()
                loss = -log_prob.mean()
                if entropy is not None and config.entropy_weight > 0:
                    loss = loss - config.entropy_weight * entropy.mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    finally:
        policy.set_training_mode(False)
    val_nll = val_agreement = None
    if val_clips:
        val_obs, val_actions = demonstration_arrays(val_clips)
        val_nll = _mean_nll(policy, val_obs, val_actions)
        val_agreement = action_agreement(policy, val_obs, val_actions)
    return BCReport(
        num_train=len(obs),
        num_val=0 if not val_clips else sum(clip.num_steps for clip in val_clips),
        train_nll=_mean_nll(policy, obs, actions),
        val_nll=val_nll,
        train_agreement=action_agreement(policy, obs, actions),
        val_agreement=val_agreement,
        epochs_run=config.num_epochs,
    )


# -- scripted demonstrators -----------------------------------------------------------------


def _cartpole(obs: np.ndarray) -> np.ndarray | int:
    x, x_dot, theta, theta_dot = (float(v) for v in obs)
    return int(theta + 0.5 * theta_dot + 0.05 * x + 0.2 * x_dot > 0)


def _pendulum(obs: np.ndarray) -> np.ndarray | int:
    cos, sin, theta_dot = (float(v) for v in obs)
    theta = np.arctan2(sin, cos)
    if cos > 0.85:  # near the top: hold it with a PD controller
        torque = -10.0 * theta - 2.0 * theta_dot
    else:  # swing up: pump energy in the direction of motion until it reaches the top's
        energy = 0.5 * theta_dot**2 + 10.0 * (cos - 1.0)
        torque = -4.0 * energy * np.sign(theta_dot) if theta_dot != 0 else 2.0
    return np.array([np.clip(torque, -2.0, 2.0)], dtype=np.float32)


def _mountain_car(obs: np.ndarray) -> np.ndarray | int:
    return np.array([1.0 if obs[1] >= 0 else -1.0], dtype=np.float32)


_CONTROLLERS = {
    "hfrl/CartPole-v0": (_cartpole, "push the cart under the falling pole, staying near centre"),
    "hfrl/Pendulum-v0": (_pendulum, "pump energy to swing up, then a PD controller holds it"),
    "hfrl/MountainCarContinuous-v0": (_mountain_car, "push in the direction of motion"),
}


def heuristic_controller(env_id: str) -> tuple[Policy, str]:
    """A simple scripted controller of a suite env, and one line saying what it does.

    Args:
        env_id: ``hfrl/CartPole-v0``, ``hfrl/Pendulum-v0`` or ``hfrl/MountainCarContinuous-v0``.

    Returns:
        ``(policy(obs, rng) -> action, description)``; the policy ignores ``rng``.

    Example:
        >>> policy, _ = heuristic_controller("hfrl/CartPole-v0")
        >>> policy(np.array([0.0, 0.0, 0.1, 0.0]), np.random.default_rng(0))
        1
    """
    if env_id not in _CONTROLLERS:
        raise ConfigError(
            f"no scripted demonstrator for {env_id}; choose one of {', '.join(_CONTROLLERS)}, "
            "or record your own demonstrations with `hfrl play`"
        )
    controller, description = _CONTROLLERS[env_id]
    return (lambda obs, rng: controller(obs)), description


def record_demonstrations(
    env_id: str,
    *,
    num_clips: int,
    clip_num_steps: int,
    seed: int,
    random_action_prob: float = 0.0,
) -> list[Clip]:
    """Clips of :func:`heuristic_controller`, which sometimes acts at random.

    Args:
        env_id: a suite env with a heuristic controller.
        num_clips: clips to record.
        clip_num_steps: steps per clip.
        seed: seeds the env resets and the random actions.
        random_action_prob: chance in [0, 1] of a uniformly random action at each step (an
            imperfect demonstrator; the clone then keeps some randomness to explore with).

    Returns:
        ``num_clips`` clips with ``policy == "heuristic"``.

    Example:
        >>> clips = record_demonstrations("hfrl/CartPole-v0", num_clips=2, clip_num_steps=50,
        ...                               seed=0)
        >>> [clip.true_return for clip in clips]
        [50.0, 50.0]
    """
    if not 0 <= random_action_prob <= 1:
        raise ConfigError(f"random_action_prob must be in [0, 1], got {random_action_prob}")
    controller, _ = heuristic_controller(env_id)
    env = make_env(env_id)
    action_space = env.action_space
    env.close()

    def act(obs: np.ndarray, rng: np.random.Generator) -> np.ndarray | int:
        if rng.random() < random_action_prob:
            if isinstance(action_space, spaces.Discrete):
                return int(rng.integers(action_space.n))
            return rng.uniform(action_space.low, action_space.high).astype(np.float32)
        return controller(obs, rng)

    return record_clips(
        env_id,
        num_clips=num_clips,
        clip_num_steps=clip_num_steps,
        seed=seed,
        policy=act,
        policy_name="heuristic",
    )

"""PPO per suite env: tuned settings, the training VecEnv, and the device.

Functions:
    ppo_settings: the PPO hyperparameters of a suite env, with where they come from.
    make_training_venv: sub-envs of ``Monitor(RecordClips(TruncateAbsorbed(suite env)))``.
    make_ppo: an SB3 PPO on a VecEnv with a suite env's settings.
    untrained_ppo: a PPO of a suite env's settings that is not trained (a policy container).

Classes:
    RoundsPPO: PPO whose schedules run over the whole run when ``learn`` is called per round.

The settings are RL Baselines3 Zoo's tuned PPO hyperparameters (``hyperparams/ppo.yml``) for
the Gymnasium env the suite env is built on, with two changes that apply everywhere: no
``VecNormalize`` (the learned reward is already normalised and observations stay raw for the
reward model), and the fixed horizon of the suite (the zoo tuned on terminating envs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import gymnasium as gym
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from agents.sb3_models import RunProgress
from hfrl_gym.envs import get_spec, make_env
from hfrl_gym.errors import ConfigError
from hfrl_gym.wrappers.end_absorbed import TruncateAbsorbed
from hfrl_gym.wrappers.record_clips import RecordClips


class RoundsPPO(RunProgress, PPO):
    """PPO whose learning-rate and clip-range schedules span the whole run, not one round
    (``agents.sb3_models.RunProgress``: ``total_env_steps``, ``hold_schedules``)."""


def linear_schedule(initial: float) -> Callable[[float], float]:
    """A value falling linearly from ``initial`` to 0 over training (SB3 progress 1 -> 0)."""

    def schedule(progress_remaining: float) -> float:
        return progress_remaining * initial

    return schedule


Schedule = Callable[[float], float]
"""An SB3 schedule: progress remaining (1 -> 0) to a value."""


@dataclass(frozen=True)
class PolicyNet:
    """The policy network of an SB3 ``MlpPolicy`` (``policy_kwargs``).

    Attributes:
        pi: hidden layer sizes of the actor (``None``: SB3's default, 64 x 64).
        vf: hidden layer sizes of the critic (``None``: SB3's default, 64 x 64).
        activation: ``"tanh"`` (SB3's default) or ``"relu"``.
        log_std_init: initial log standard deviation of a Gaussian policy.
        ortho_init: orthogonal initialisation of the layers.
    """

    pi: tuple[int, ...] | None = None
    vf: tuple[int, ...] | None = None
    activation: str = "tanh"
    log_std_init: float = 0.0
    ortho_init: bool = True

    def to_sb3(self) -> dict[str, Any]:
        """SB3's ``policy_kwargs``."""
        kwargs: dict[str, Any] = {
            "log_std_init": self.log_std_init,
            "ortho_init": self.ortho_init,
            "activation_fn": {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[self.activation],
        }
        if self.pi is not None or self.vf is not None:
            kwargs["net_arch"] = {"pi": list(self.pi or (64, 64)), "vf": list(self.vf or (64, 64))}
        return kwargs


@dataclass(frozen=True)
class PPOHyperparameters:
    """PPO's hyperparameters (SB3's names and defaults; see ``stable_baselines3.PPO``).

    Example:
        >>> PPOHyperparameters(n_steps=64, batch_size=256).rollout_env_steps(num_envs=8)
        512
    """

    n_steps: int = 2048
    batch_size: int = 64
    n_epochs: int = 10
    gamma: float = 0.99
    gae_lambda: float = 0.95
    learning_rate: float | Schedule = 3e-4
    clip_range: float | Schedule = 0.2
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    use_sde: bool = False
    sde_sample_freq: int = -1
    policy: PolicyNet = field(default_factory=PolicyNet)

    def rollout_env_steps(self, num_envs: int) -> int:
        """Env steps of one rollout: ``n_steps`` on each of ``num_envs`` sub-envs."""
        return self.n_steps * num_envs

    def to_sb3(self) -> dict[str, Any]:
        """Keyword arguments of ``stable_baselines3.PPO``."""
        kwargs = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "policy"}
        kwargs["policy_kwargs"] = self.policy.to_sb3()
        return kwargs


@dataclass(frozen=True)
class PPOSettings:
    """PPO hyperparameters of one env.

    Attributes:
        num_envs: parallel sub-envs.
        ppo: PPO's hyperparameters.
        source: where the numbers come from.
    """

    num_envs: int
    ppo: PPOHyperparameters = field(default_factory=PPOHyperparameters)
    source: str = "stable-baselines3 defaults"


_ZOO = "RL Baselines3 Zoo hyperparams/ppo.yml"
_MUJOCO = PPOSettings(
    num_envs=1,
    ppo=PPOHyperparameters(
        n_steps=512,
        batch_size=64,
        gamma=0.98,
        learning_rate=2.0633e-05,
        ent_coef=0.000401762,
        clip_range=0.1,
        n_epochs=20,
        gae_lambda=0.92,
        max_grad_norm=0.8,
        vf_coef=0.58096,
        policy=PolicyNet(
            pi=(256, 256), vf=(256, 256), activation="relu", log_std_init=-2.0, ortho_init=False
        ),
    ),
    source=f"{_ZOO}, HalfCheetah-v3 (used for every MuJoCo env of the suite)",
)

SETTINGS: dict[str, PPOSettings] = {
    "hfrl/CartPole-v0": PPOSettings(
        num_envs=8,
        ppo=PPOHyperparameters(
            n_steps=64,
            batch_size=256,
            gae_lambda=0.8,
            gamma=0.99,
            n_epochs=20,
            ent_coef=0.01,
            learning_rate=linear_schedule(0.001),
            clip_range=linear_schedule(0.2),
        ),
        source=(
            f"{_ZOO}, CartPole-v1, with n_steps 32 -> 64, gamma 0.98 -> 0.99 and ent_coef "
            "0 -> 0.01 for the fixed horizon: on the true reward the zoo's settings collapsed "
            "to a one-sided policy (return ~10 of 500 after 60k steps) on 1 of 2 seeds; these "
            "reached 500 on both by 60k (see docs/BENCHMARKS.md)"
        ),
    ),
    "hfrl/Pendulum-v0": PPOSettings(
        num_envs=4,
        ppo=PPOHyperparameters(
            n_steps=1024,
            gae_lambda=0.95,
            gamma=0.9,
            n_epochs=10,
            ent_coef=0.0,
            learning_rate=1e-3,
            clip_range=0.2,
            use_sde=True,
            sde_sample_freq=4,
        ),
        source=f"{_ZOO}, Pendulum-v1",
    ),
    "hfrl/MountainCarContinuous-v0": PPOSettings(
        num_envs=1,
        ppo=PPOHyperparameters(
            n_steps=8,
            batch_size=256 // 32,
            gamma=0.9999,
            learning_rate=7.77e-05,
            ent_coef=0.00429,
            clip_range=0.1,
            n_epochs=10,
            gae_lambda=0.9,
            max_grad_norm=5,
            vf_coef=0.19,
            use_sde=True,
            policy=PolicyNet(log_std_init=-3.29, ortho_init=False),
        ),
        source=f"{_ZOO}, MountainCarContinuous-v0 (batch size cut to the rollout size)",
    ),
    "hfrl/InvertedPendulum-v0": PPOSettings(
        num_envs=1,
        ppo=PPOHyperparameters(),
        source=(
            "stable-baselines3 defaults: on the true reward they reach 1000 of 1000 within "
            "200k steps, where HalfCheetah's tuned settings (used before) reached 157 and RL "
            "Zoo's InvertedPendulum-v3 settings, tuned on the terminating env, 15 (with "
            "observation normalisation 4); see docs/BENCHMARKS.md"
        ),
    ),
    "hfrl/Acrobot-v0": PPOSettings(
        num_envs=16,
        ppo=PPOHyperparameters(n_steps=256, gae_lambda=0.94, gamma=0.99, n_epochs=4, ent_coef=0.0),
        source=f"{_ZOO}, Acrobot-v1",
    ),
}


def ppo_settings(env_id: str) -> PPOSettings:
    """The PPO settings of a suite env (MuJoCo envs share HalfCheetah's tuned settings)."""
    spec = get_spec(env_id)
    if env_id in SETTINGS:
        return SETTINGS[env_id]
    if spec.mujoco:
        return _MUJOCO
    return PPOSettings(num_envs=4)


def make_training_venv(
    env_id: str,
    *,
    num_envs: int,
    seed: int,
    clip_num_steps: int,
    absorbing_steps: int = 0,
    subprocess: bool = False,
    env_factory: Callable[[], gym.Env] | None = None,
) -> VecEnv:
    """A VecEnv of ``Monitor(RecordClips(make_env(env_id)))`` sub-envs, seeded.

    Finished clips come back in each step's ``infos[i]["clip"]``; ``Monitor`` sits inside any
    reward replacement, so its episode returns are true returns. With ``absorbing_steps`` > 0
    an episode is truncated that many steps into an absorbing state (``TruncateAbsorbed``):
    PPO bootstraps there, and sees many more episode starts for its budget. ``env_factory``
    makes each sub-env in place of ``make_env(env_id)`` (a suite env under a wrapper of a
    lesson's, say); what it makes must capture its state, as suite envs do (``RecordClips``).
    """

    def factory() -> gym.Env:
        env = make_env(env_id) if env_factory is None else env_factory()
        if absorbing_steps > 0:
            env = TruncateAbsorbed(env, absorbing_steps)
        return Monitor(RecordClips(env, clip_num_steps, keep=False))

    vec_cls = SubprocVecEnv if subprocess else DummyVecEnv
    venv = vec_cls([factory] * num_envs)
    venv.seed(seed)
    venv.action_space.seed(seed)
    return venv


def make_ppo(
    venv: VecEnv,
    env_id: str,
    *,
    seed: int,
    device: str,
    tensorboard_log: str | None = None,
    total_env_steps: int | None = None,
    hyperparameters: PPOHyperparameters | None = None,
) -> RoundsPPO:
    """SB3 PPO with the env's settings, or with ``hyperparameters`` in their place.

    ``device`` is a resolved torch device name (``hfrl_gym.reward_model.net.resolve_device``);
    ``total_env_steps`` is PPO's env steps over the whole run (see :class:`RoundsPPO`).

    Raises:
        ConfigError: a minibatch larger than one rollout (with the arithmetic).
    """
    params = hyperparameters or ppo_settings(env_id).ppo
    rollout = params.rollout_env_steps(venv.num_envs)
    if params.batch_size > rollout:
        raise ConfigError(
            f"PPO's batch_size {params.batch_size} is larger than one rollout of {env_id}: "
            f"n_steps {params.n_steps} x {venv.num_envs} envs = {rollout} env steps; lower "
            f"batch_size to at most {rollout} or raise n_steps"
        )
    model = RoundsPPO(
        "MlpPolicy",
        venv,
        seed=seed,
        device=device,
        tensorboard_log=tensorboard_log,
        verbose=0,
        **params.to_sb3(),
    )
    model.total_env_steps = total_env_steps
    return model


def untrained_ppo(env_id: str, *, seed: int, device: str = "cpu") -> RoundsPPO:
    """A new PPO of the env's settings on its own plain sub-envs, not for training.

    A policy to clone demonstrations into, load weights into, or compare with: its rollout
    settings are the env's, so it could also be trained as is.

    Example:
        >>> untrained_ppo("hfrl/CartPole-v0", seed=0).n_envs
        8
    """
    num_envs = ppo_settings(env_id).num_envs
    venv = DummyVecEnv([lambda: make_env(env_id)] * num_envs)
    return make_ppo(venv, env_id, seed=seed, device=device)

"""SAC per suite env (``hfrl train --algo sac``): tuned settings and the SB3 model.

Functions:
    sac_settings: the SAC hyperparameters of a continuous-action suite env, with their source.
    make_sac: an SB3 SAC on a VecEnv with a suite env's settings.
    untrained_sac: a SAC of a suite env's settings that is not trained (a policy container).

Classes:
    SACHyperparameters: SAC's hyperparameters (SB3's names and defaults).
    SACSettings: one env's SAC settings and where they come from.

The settings are RL Baselines3 Zoo's tuned SAC hyperparameters (``hyperparams/sac.yml``) for
the Gymnasium env the suite env is built on, with the changes that apply to PPO too (no
``VecNormalize``, the suite's fixed horizon). The replay buffer never holds more transitions
than the run has env steps (``make_sac``'s ``total_env_steps``), so a short run does not
reserve the zoo's million rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stable_baselines3 import SAC
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

from agents.sb3_models import OffPolicySettings, build_off_policy
from hfrl_gym.envs import get_spec, make_env
from hfrl_gym.errors import ConfigError


@dataclass(frozen=True)
class SACHyperparameters:
    """SAC's hyperparameters (SB3's names and defaults; see ``stable_baselines3.SAC``).

    Attributes:
        net_arch: hidden layer sizes of the actor and of each critic.
        log_std_init: initial log standard deviation (used with ``use_sde``).

    Example:
        >>> SACHyperparameters(train_freq=32).to_sb3(buffer_size=1_000)["buffer_size"]
        1000
    """

    learning_rate: float = 3e-4
    buffer_size: int = 1_000_000
    batch_size: int = 256
    learning_starts: int = 100
    tau: float = 0.005
    gamma: float = 0.99
    train_freq: int = 1
    gradient_steps: int = 1
    ent_coef: float | str = "auto"
    use_sde: bool = False
    net_arch: tuple[int, ...] = (256, 256)
    log_std_init: float = -3.0

    def to_sb3(self, *, buffer_size: int) -> dict[str, Any]:
        """Keyword arguments of ``stable_baselines3.SAC`` with a replay buffer of that size."""
        return {
            "learning_rate": self.learning_rate,
            "buffer_size": buffer_size,
            "batch_size": self.batch_size,
            "learning_starts": self.learning_starts,
            "tau": self.tau,
            "gamma": self.gamma,
            "train_freq": self.train_freq,
            "gradient_steps": self.gradient_steps,
            "ent_coef": self.ent_coef,
            "use_sde": self.use_sde,
            "policy_kwargs": {"net_arch": list(self.net_arch), "log_std_init": self.log_std_init},
        }


@dataclass(frozen=True)
class SACSettings(OffPolicySettings):
    """SAC hyperparameters of one env (``num_envs`` and ``source``: ``OffPolicySettings``).

    Attributes:
        sac: SAC's hyperparameters.
    """

    sac: SACHyperparameters = field(default_factory=SACHyperparameters)

    @property
    def hyperparameters(self) -> SACHyperparameters:
        """SAC's hyperparameters (:attr:`sac`)."""
        return self.sac


_ZOO = "RL Baselines3 Zoo hyperparams/sac.yml"
_MUJOCO = SACSettings(
    sac=SACHyperparameters(learning_starts=10_000),
    source=f"{_ZOO}, HalfCheetah/Hopper/Walker2d-v3 (SB3 defaults, learning_starts 10000)",
)

SETTINGS: dict[str, SACSettings] = {
    "hfrl/Pendulum-v0": SACSettings(
        sac=SACHyperparameters(learning_rate=1e-3), source=f"{_ZOO}, Pendulum-v1"
    ),
    "hfrl/MountainCarContinuous-v0": SACSettings(
        sac=SACHyperparameters(
            learning_rate=3e-4,
            buffer_size=50_000,
            batch_size=512,
            ent_coef=0.1,
            train_freq=32,
            gradient_steps=32,
            gamma=0.9999,
            tau=0.01,
            learning_starts=0,
            use_sde=True,
            net_arch=(64, 64),
            log_std_init=-3.67,
        ),
        source=f"{_ZOO}, MountainCarContinuous-v0",
    ),
    "hfrl/HalfCheetah-v0": _MUJOCO,
    "hfrl/Hopper-v0": _MUJOCO,
    "hfrl/Walker2d-v0": _MUJOCO,
    "hfrl/InvertedPendulum-v0": SACSettings(
        sac=_MUJOCO.sac,
        source=f"{_ZOO} has no InvertedPendulum; its MuJoCo settings (SB3 defaults, "
        "learning_starts 10000)",
    ),
    "hfrl/Reacher-v0": SACSettings(
        sac=_MUJOCO.sac,
        source=f"{_ZOO} tunes only the Bullet Reacher; its MuJoCo settings (SB3 defaults, "
        "learning_starts 10000)",
    ),
}


def sac_settings(env_id: str) -> SACSettings:
    """The SAC settings of a continuous-action suite env.

    Raises:
        ConfigError: the env's actions are discrete (SAC needs continuous ones).

    Example:
        >>> sac_settings("hfrl/Pendulum-v0").sac.learning_rate
        0.001
    """
    spec = get_spec(env_id)
    if spec.action.startswith("Discrete"):
        raise ConfigError(
            f"--algo sac needs continuous actions, and {env_id} has {spec.action}; use "
            "--algo ppo or dqn for it, or pick a continuous env (`hfrl envs`)"
        )
    return SETTINGS.get(env_id, _MUJOCO if spec.mujoco else SACSettings())


def make_sac(
    venv: VecEnv,
    env_id: str,
    *,
    seed: int,
    device: str,
    tensorboard_log: str | None = None,
    total_env_steps: int | None = None,
    hyperparameters: SACHyperparameters | None = None,
) -> SAC:
    """SB3 SAC with the env's settings, or with ``hyperparameters`` in their place.

    ``device`` is a resolved torch device name: the actor, the critics and the sampled
    batches live there. The replay buffer holds ``min(buffer_size, total_env_steps)``
    transitions (``None``: ``buffer_size``).
    """
    return build_off_policy(
        SAC,
        venv,
        hyperparameters or sac_settings(env_id).sac,
        seed=seed,
        device=device,
        tensorboard_log=tensorboard_log,
        total_env_steps=total_env_steps,
    )


def untrained_sac(env_id: str, *, seed: int, device: str = "cpu") -> SAC:
    """A new SAC of the env's settings on its own plain sub-env, not for training.

    Example:
        >>> untrained_sac("hfrl/Pendulum-v0", seed=0).replay_buffer.buffer_size
        1
    """
    venv = DummyVecEnv([lambda: make_env(env_id)] * sac_settings(env_id).num_envs)
    return make_sac(venv, env_id, seed=seed, device=device, total_env_steps=1)

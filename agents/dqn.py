"""DQN per suite env (``hfrl train --algo dqn``): tuned settings and the SB3 model.

Functions:
    dqn_settings: the DQN hyperparameters of a discrete-action suite env, with their source.
    make_dqn: an SB3 DQN on a VecEnv with a suite env's settings.
    untrained_dqn: a DQN of a suite env's settings that is not trained (a policy container).

Classes:
    DQNHyperparameters: DQN's hyperparameters (SB3's names and defaults).
    DQNSettings: one env's DQN settings and where they come from.
    RoundsDQN: DQN whose exploration rate falls over the whole run, not over each round.

The settings are RL Baselines3 Zoo's tuned DQN hyperparameters (``hyperparams/dqn.yml``) for
the Gymnasium env the suite env is built on, with the changes that apply to PPO and SAC too
(no ``VecNormalize``, the suite's fixed horizon). DQN is the off-policy learner of the
discrete-action tasks, as SAC is of the continuous ones: its replay buffer is relabelled by
each new reward model (``agents.offpolicy_agent``). The buffer never holds more transitions
than the run has env steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stable_baselines3 import DQN
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

from agents.sb3_models import OffPolicySettings, RunProgress, build_off_policy
from hfrl_gym.envs import get_spec, make_env
from hfrl_gym.errors import ConfigError


class RoundsDQN(RunProgress, DQN):
    """DQN whose exploration rate (epsilon) falls over the whole run, not every round anew
    (``agents.sb3_models.RunProgress``): the loop calls ``learn`` once per round."""


@dataclass(frozen=True)
class DQNHyperparameters:
    """DQN's hyperparameters (SB3's names and defaults; see ``stable_baselines3.DQN``).

    Attributes:
        gradient_steps: gradient steps after each rollout; -1: as many as env steps taken.
        net_arch: hidden layer sizes of the Q-network.

    Example:
        >>> DQNHyperparameters(batch_size=64).to_sb3(buffer_size=1_000)["buffer_size"]
        1000
    """

    learning_rate: float = 1e-4
    buffer_size: int = 1_000_000
    batch_size: int = 32
    learning_starts: int = 100
    gamma: float = 0.99
    target_update_interval: int = 10_000
    train_freq: int = 4
    gradient_steps: int = 1
    exploration_fraction: float = 0.1
    exploration_final_eps: float = 0.05
    net_arch: tuple[int, ...] = (64, 64)

    def to_sb3(self, *, buffer_size: int) -> dict[str, Any]:
        """Keyword arguments of ``stable_baselines3.DQN`` with a replay buffer of that size."""
        return {
            "learning_rate": self.learning_rate,
            "buffer_size": buffer_size,
            "batch_size": self.batch_size,
            "learning_starts": self.learning_starts,
            "gamma": self.gamma,
            "target_update_interval": self.target_update_interval,
            "train_freq": self.train_freq,
            "gradient_steps": self.gradient_steps,
            "exploration_fraction": self.exploration_fraction,
            "exploration_final_eps": self.exploration_final_eps,
            "policy_kwargs": {"net_arch": list(self.net_arch)},
        }


@dataclass(frozen=True)
class DQNSettings(OffPolicySettings):
    """DQN hyperparameters of one env (``num_envs`` and ``source``: ``OffPolicySettings``).

    Attributes:
        dqn: DQN's hyperparameters.
    """

    dqn: DQNHyperparameters = field(default_factory=DQNHyperparameters)

    @property
    def hyperparameters(self) -> DQNHyperparameters:
        """DQN's hyperparameters (:attr:`dqn`)."""
        return self.dqn


_ZOO = "RL Baselines3 Zoo hyperparams/dqn.yml"
SETTINGS: dict[str, DQNSettings] = {
    "hfrl/CartPole-v0": DQNSettings(
        dqn=DQNHyperparameters(
            learning_rate=2.3e-3,
            batch_size=64,
            buffer_size=100_000,
            learning_starts=1_000,
            target_update_interval=10,
            train_freq=256,
            gradient_steps=128,
            exploration_fraction=0.16,
            exploration_final_eps=0.04,
            net_arch=(256, 256),
        ),
        source=f"{_ZOO}, CartPole-v1",
    ),
    "hfrl/Acrobot-v0": DQNSettings(
        dqn=DQNHyperparameters(
            learning_rate=6.3e-4,
            batch_size=128,
            buffer_size=50_000,
            learning_starts=0,
            target_update_interval=250,
            train_freq=4,
            gradient_steps=-1,
            exploration_fraction=0.12,
            exploration_final_eps=0.1,
            net_arch=(256, 256),
        ),
        source=f"{_ZOO}, Acrobot-v1",
    ),
}


def dqn_settings(env_id: str) -> DQNSettings:
    """The DQN settings of a discrete-action suite env.

    Raises:
        ConfigError: the env's actions are continuous (DQN needs discrete ones).

    Example:
        >>> dqn_settings("hfrl/Acrobot-v0").dqn.target_update_interval
        250
    """
    spec = get_spec(env_id)
    if not spec.action.startswith("Discrete"):
        raise ConfigError(
            f"--algo dqn needs discrete actions, and {env_id} has {spec.action}; use "
            "--algo sac or ppo for it, or pick a discrete env (`hfrl envs`)"
        )
    return SETTINGS.get(env_id, DQNSettings())


def make_dqn(
    venv: VecEnv,
    env_id: str,
    *,
    seed: int,
    device: str,
    tensorboard_log: str | None = None,
    total_env_steps: int | None = None,
    hyperparameters: DQNHyperparameters | None = None,
) -> RoundsDQN:
    """SB3 DQN with the env's settings, or with ``hyperparameters`` in their place.

    ``device`` is a resolved torch device name. The replay buffer holds
    ``min(buffer_size, total_env_steps)`` transitions (``None``: ``buffer_size``), and the
    exploration rate falls over ``exploration_fraction`` of ``total_env_steps``.
    """
    return build_off_policy(
        RoundsDQN,
        venv,
        hyperparameters or dqn_settings(env_id).dqn,
        seed=seed,
        device=device,
        tensorboard_log=tensorboard_log,
        total_env_steps=total_env_steps,
    )


def untrained_dqn(env_id: str, *, seed: int, device: str = "cpu") -> RoundsDQN:
    """A new DQN of the env's settings on its own plain sub-env, not for training.

    Example:
        >>> untrained_dqn("hfrl/Acrobot-v0", seed=0).replay_buffer.buffer_size
        1
    """
    venv = DummyVecEnv([lambda: make_env(env_id)] * dqn_settings(env_id).num_envs)
    return make_dqn(venv, env_id, seed=seed, device=device, total_env_steps=1)

"""The RL algorithms of ``hfrl train --algo``: what each can run, and its rollout shape.

PPO runs on every suite env; the off-policy learners each on one kind of action space, their
replay buffers relabelled after every refit (``agents.offpolicy_agent``): SAC on continuous
actions, DQN on discrete ones.

Functions:
    check_algo_config: refuse a training config its algorithm cannot run.
    rollout_shape: sub-envs and env steps per rollout of an env under an algorithm.
    off_policy_settings: an off-policy algorithm's settings of an env.
"""

from __future__ import annotations

from agents.config import ALGORITHMS, TrainConfig
from agents.dqn import DQNSettings, dqn_settings
from agents.ppo import ppo_settings
from agents.sac import SACSettings, sac_settings
from hfrl_gym.errors import ConfigError


def off_policy_settings(env_id: str, algo: str) -> SACSettings | DQNSettings:
    """``algo``'s (``sac`` or ``dqn``) settings of ``env_id``.

    Raises:
        ConfigError: the env's action space is not the algorithm's kind.
    """
    return sac_settings(env_id) if algo == "sac" else dqn_settings(env_id)


def check_algo_config(config: TrainConfig) -> None:
    """Refuse an algorithm that cannot run the config: an unknown one, SAC on discrete or DQN
    on continuous actions, or an off-policy one with what only PPO has (``--async``, a KL
    penalty or reference, held PPO schedules): one ``ConfigError``."""
    if config.algo not in ALGORITHMS:
        raise ConfigError(f"--algo must be one of {', '.join(ALGORITHMS)}, got {config.algo!r}")
    if config.algo == "ppo":
        return
    off_policy_settings(config.env, config.algo)  # the wrong kind of action space is refused
    ppo_only = {
        "--async": config.asynchronous,
        "--kl-coef": config.kl_coef > 0,
        "--reference": config.reference is not None,
        "--ppo-schedule hold": config.ppo_schedule != "run",
    }
    for flag, given in ppo_only.items():
        if given:
            raise ConfigError(f"{flag} is for PPO; leave it out with --algo {config.algo}")


def rollout_shape(env_id: str, algo: str) -> tuple[int, int]:
    """``(num_envs, rollout_env_steps)`` of ``env_id``'s settings under ``algo``.

    Example:
        >>> rollout_shape("hfrl/Pendulum-v0", "ppo"), rollout_shape("hfrl/Pendulum-v0", "sac")
        ((4, 4096), (1, 1))
        >>> rollout_shape("hfrl/Acrobot-v0", "dqn")
        (1, 4)
    """
    if algo == "ppo":
        ppo = ppo_settings(env_id)
        return ppo.num_envs, ppo.ppo.rollout_env_steps(ppo.num_envs)
    settings = off_policy_settings(env_id, algo)
    return settings.num_envs, settings.rollout_env_steps

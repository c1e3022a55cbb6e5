"""SB3 algorithms as the loop builds them: schedules over the whole run, replay buffers no
larger than the run, and the settings record the off-policy algorithms share.

Classes:
    RunProgress: a mixin for an SB3 algorithm (``RoundsPPO``, ``RoundsDQN``): its schedules'
        progress is the run's, not one ``learn`` call's.
    OffPolicySettings: one env's settings of an off-policy algorithm (``SACSettings``,
        ``DQNSettings``) and where they come from.

Functions:
    build_off_policy: an SB3 off-policy algorithm whose replay buffer fits the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.vec_env import VecEnv


class RunProgress:
    """Progress of the whole run for an SB3 algorithm whose ``learn`` is called per round.

    The RLHF loop calls ``learn`` once per round (``reset_num_timesteps=False``). SB3 computes
    a schedule's progress per call, so a linear schedule (PPO's learning rate and clip range,
    DQN's exploration rate) would restart at every round; here progress is
    ``num_timesteps / total_env_steps`` of the run. Put it before the SB3 class in the bases.

    Attributes:
        total_env_steps: the algorithm's env steps of the whole run (``None``: SB3's per-call
            progress).
        hold_schedules: keep the schedules at their initial values (progress stays at its
            start), for a reward that keeps changing: decaying schedules would spend their
            large steps on the first, poorest learned reward.

    Example:
        >>> class Algo(RunProgress):
        ...     pass
        >>> algo = Algo()
        >>> algo.total_env_steps = 1000
        >>> algo._update_current_progress_remaining(250, 100)
        >>> algo._current_progress_remaining
        0.75
    """

    total_env_steps: int | None = None
    hold_schedules: bool = False
    _current_progress_remaining: float

    def _update_current_progress_remaining(self, num_timesteps: int, total_timesteps: int) -> None:
        if self.hold_schedules:
            self._current_progress_remaining = 1.0
            return
        total = total_timesteps if self.total_env_steps is None else self.total_env_steps
        self._current_progress_remaining = max(0.0, 1.0 - num_timesteps / total)


class OffPolicyHyperparameters(Protocol):
    """What the off-policy hyperparameters (``SACHyperparameters``, ``DQNHyperparameters``)
    have in common."""

    buffer_size: int
    train_freq: int

    def to_sb3(self, *, buffer_size: int) -> dict[str, Any]: ...


@dataclass(frozen=True)
class OffPolicySettings:
    """One env's settings of an off-policy algorithm (subclasses add the hyperparameters).

    Attributes:
        num_envs: parallel sub-envs.
        source: where the numbers come from.
    """

    num_envs: int = 1
    source: str = "stable-baselines3 defaults"

    @property
    def hyperparameters(self) -> OffPolicyHyperparameters:
        """The algorithm's hyperparameters (the subclass's field)."""
        raise NotImplementedError

    @property
    def rollout_env_steps(self) -> int:
        """Env steps between two rounds of gradient steps (``train_freq * num_envs``)."""
        return self.hyperparameters.train_freq * self.num_envs


Algorithm = TypeVar("Algorithm", bound=OffPolicyAlgorithm)


def build_off_policy(
    algorithm: type[Algorithm],
    venv: VecEnv,
    params: OffPolicyHyperparameters,
    *,
    seed: int,
    device: str,
    tensorboard_log: str | None = None,
    total_env_steps: int | None = None,
) -> Algorithm:
    """``algorithm`` (an SB3 off-policy class) with ``params`` on ``venv``, its replay buffer
    holding ``min(buffer_size, total_env_steps)`` transitions (``None``: ``buffer_size``).

    ``device`` is a resolved torch device name. A ``RunProgress`` algorithm's schedules span
    ``total_env_steps``.
    """
    size = params.buffer_size
    if total_env_steps is not None:
        size = min(size, total_env_steps)
    model = algorithm(
        "MlpPolicy",
        venv,
        seed=seed,
        device=device,
        tensorboard_log=tensorboard_log,
        verbose=0,
        **params.to_sb3(buffer_size=max(1, size)),
    )
    if isinstance(model, RunProgress):
        model.total_env_steps = total_env_steps
    return model

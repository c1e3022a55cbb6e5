"""Schedules that span the whole run when an SB3 algorithm learns round by round.

Classes:
    RunProgress: a mixin for an SB3 algorithm (``RoundsPPO``, ``RoundsDQN``): its schedules'
        progress is the run's, not one ``learn`` call's.
"""

from __future__ import annotations


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

"""SB3 callbacks of a training run: harvest clips and episodes, show progress.

Classes:
    ClipHarvester: keeps the clips ``RecordClips`` returns in ``info`` and the Monitor's episodes.
    Progress: one progress bar of env steps, with labels, accuracy and true return beside it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback
from tqdm import tqdm

from hfrl_gym.clips import Clip


class ClipHarvester(BaseCallback):
    """Collect finished clips (newest ``max_clips``) and episode true returns while PPO runs.

    Example:
        >>> harvester = ClipHarvester(max_clips=2)
        >>> harvester.take({"clip": "a"}, env_steps=1); harvester.take({"clip": "b"}, env_steps=2)
        >>> harvester.take({"clip": "c", "episode": {"r": 5.0}}, env_steps=3)
        >>> list(harvester.clips), harvester.pop_episodes()
        (['b', 'c'], [(3, 5.0)])
    """

    def __init__(self, max_clips: int = 2_000) -> None:
        super().__init__()
        self.clips: deque[Clip] = deque(maxlen=max_clips)
        self._episodes: list[tuple[int, float]] = []
        self.step_offset = 0

    def take(self, info: dict[str, Any], *, env_steps: int) -> None:
        """Keep the clip and the episode return found in one sub-env's ``info``."""
        if "clip" in info:
            self.clips.append(info["clip"])
        if "episode" in info:
            self._episodes.append((env_steps, float(info["episode"]["r"])))

    def pop_clips(self) -> list[Clip]:
        """The clips harvested since the last call, oldest first."""
        clips = list(self.clips)
        self.clips.clear()
        return clips

    def pop_episodes(self) -> list[tuple[int, float]]:
        """``(env_steps, true_return)`` of the episodes finished since the last call."""
        episodes, self._episodes = self._episodes, []
        return episodes

    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            self.take(info, env_steps=self.step_offset + self.num_timesteps)
        return True


class Progress(BaseCallback):
    """A tqdm bar of env steps; :meth:`note` puts labels, accuracy, return beside it.

    ``on_env_steps(n)`` is told the run's env steps as the bar moves (the run's status file).
    """

    def __init__(
        self,
        total_env_steps: int,
        *,
        initial: int = 0,
        enabled: bool = True,
        on_env_steps: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__()
        self.env_steps = initial  # the run's, also when the bar is hidden
        self.on_env_steps = on_env_steps
        self.bar = tqdm(
            total=total_env_steps,
            initial=initial,
            unit="step",
            dynamic_ncols=True,
            disable=not enabled,
            desc="hfrl train",
        )
        self._last = 0
        self.status: dict[str, str] = {}

    def note(self, **values: Any) -> None:
        """Show ``key=value`` pairs beside the bar (a value of None hides the key)."""
        for key, value in values.items():
            if value is None:
                self.status.pop(key, None)
            else:
                self.status[key] = f"{value:.3g}" if isinstance(value, float) else str(value)
        self.bar.set_postfix(self.status, refresh=True)

    def advance(self, env_steps: int) -> None:
        """Move the bar on by ``env_steps``."""
        self._move(env_steps)

    def _move(self, env_steps: int) -> None:
        self.bar.update(env_steps)
        self.env_steps += env_steps
        if self.on_env_steps is not None:
            self.on_env_steps(self.env_steps)

    def _on_training_start(self) -> None:
        self._last = self.num_timesteps

    def _on_step(self) -> bool:
        if self.num_timesteps - self._last >= 256:
            self._move(self.num_timesteps - self._last)
            self._last = self.num_timesteps
        return True

    def _on_training_end(self) -> None:
        self._move(self.num_timesteps - self._last)
        self._last = self.num_timesteps

    def close(self) -> None:
        """Close the bar."""
        self.bar.close()

"""Refit the reward model in a background thread while PPO trains (``hfrl train --async``).

Classes:
    FittedModel: one background refit, handed over whole: the model, its version, its report.
    BackgroundRefitter: a thread that refits a copy of the reward model whenever new answers
        have arrived in the store, and publishes each result for PPO to take up.

The thread opens its own connection to the store (an SQLite connection must not cross
threads) and draws from its own random source. It never touches the model PPO is scoring
with: each refit starts from a deep copy of the last published model, and a published model
is never changed again, so PPO can keep using it while the next one is fit. PPO adopts a new
model between rollouts (``agents.async_loop``); nothing here decides when.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agents.diagnostics import RewardProbe
from agents.reward_fitter import RewardFitter
from hfrl_gym.clips import Clip
from hfrl_gym.errors import HfrlError
from hfrl_gym.reward_model import FitConfig, RewardModel
from hfrl_gym.reward_model.trainer import FitReport
from hfrl_gym.store import LabelStore


@dataclass(frozen=True)
class FittedModel:
    """One refit, as the background thread publishes it.

    Attributes:
        version: refits of the run so far, this one included.
        model: the refit reward model (never changed after it is published).
        report: the fit's report (validation accuracy, loss, seconds).
        probe: the refit reward measured on the newest clips (``agents.diagnostics``).
        num_answers: answers in the store when the fit read them.
        finished_at: ``time.monotonic()`` when the fit ended.
    """

    version: int
    model: RewardModel
    report: FitReport
    probe: RewardProbe | None
    num_answers: int
    finished_at: float


class BackgroundRefitter:
    """Refits the reward model in its own thread each time new answers are in the store.

    Args:
        store_path: the run's label store (opened again in the thread).
        model: the fitted model PPO uses now; refits start from copies of it.
        rng: the background fits' own random source.
        version: refits of the run so far (the first published one is ``version + 1``).
        probe_clips: the newest clips, to measure each refit on (called in the thread; it
            must return a list that is not changed afterwards).
        fitted_answers: answers the current model was fit on; ``None``: refit at once when
            there are any (a resumed run, whose last answers may be newer than its model).
        poll_s: seconds between looks at the store.
        fit_config: the refits' settings (the run's ``--refit``); ``FitConfig()`` if ``None``.

    Use: ``start()`` once the first fit is done; between rollouts ``take()`` gives the newest
    refit not taken yet (or ``None``); ``stop()`` at the end. ``tests/agents/test_async_loop.py``
    runs it on a real store.
    """

    def __init__(
        self,
        store_path: Path,
        model: RewardModel,
        *,
        rng: np.random.Generator,
        version: int,
        probe_clips: Callable[[], Sequence[Clip]],
        fitted_answers: int | None,
        poll_s: float = 0.25,
        fit_config: FitConfig | None = None,
    ) -> None:
        self.store_path, self.rng, self.poll_s = store_path, rng, poll_s
        self.fit_config = fit_config
        self.probe_clips = probe_clips
        self._base, self._version, self._fitted_answers = model, version, fitted_answers
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._published: FittedModel | None = None
        self._taken_version = version
        self.error: BaseException | None = None
        self.num_fits = 0
        self._thread = threading.Thread(target=self._run, name="hfrl-refit", daemon=True)

    def start(self) -> None:
        """Start refitting in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the fit in progress (if any) and wait for the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def take(self) -> FittedModel | None:
        """The newest refit not taken yet, or ``None``; re-raises the thread's failure.

        Raises:
            HfrlError: the background fit failed (its message, and the cause chained).
        """
        if self.error is not None:
            raise HfrlError(f"the background reward fit failed: {self.error}") from self.error
        with self._lock:
            newest = self._published
        if newest is None or newest.version == self._taken_version:
            return None
        self._taken_version = newest.version
        return newest

    def _run(self) -> None:
        try:
            with LabelStore(self.store_path, create=False) as store:
                while not self._stop.is_set():
                    answers = int(store.counts()["answers"])
                    if self._fitted_answers is not None and answers <= self._fitted_answers:
                        self._stop.wait(self.poll_s)
                        continue
                    self._fit(store, answers)
        except BaseException as error:  # handed to PPO's thread by take()
            self.error = error

    def _fit(self, store: LabelStore, answers: int) -> None:
        candidate = copy.deepcopy(self._base)  # the published model stays as it is
        fitter = RewardFitter(candidate, self.rng, fitted=True, config=self.fit_config)
        report = fitter.fit(store, probe=list(self.probe_clips()))
        self._version += 1
        self.num_fits += 1
        self._base, self._fitted_answers = candidate, answers
        with self._lock:
            self._published = FittedModel(
                version=self._version,
                model=candidate,
                report=report,
                probe=fitter.last_probe,
                num_answers=answers,
                finished_at=time.monotonic(),
            )

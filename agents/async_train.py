"""``hfrl train --async``: build a run's parts, run the asynchronous schedule, finish the run.

Functions:
    train_async: run (or resume) an asynchronous run to the end of its env steps and return
        its summary; with the comparison window, the window runs in this thread and the
        training in another.

The parts are the synchronous loop's (``agents.rlhf_loop.build_parts``); the schedule is
``agents.async_loop.AsyncLoop``. The run folder is the same as a synchronous run's, plus
``status.json`` (``hfrl_gym.run_status``, mode ``async``) and, in ``summary.json``, an
``asynchronous`` section: refits, handovers, labels posted and answered, PPO's wait for the
first answers and its longest pause between rollouts after them, and which budget ran out
first.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from agents.answerers import Answerer
from agents.async_loop import AsyncLog, AsyncLoop, AsyncPlan
from agents.config import TrainConfig
from agents.ppo_agent import PPOAgent
from agents.rlhf_loop import build_parts, closing, plan_run, summarise
from agents.run_folder import RunFolder
from hfrl_gym.errors import ConfigError, HfrlError
from hfrl_gym.store import LabelStore

Say = Callable[[str], None]


def _say_on_stderr(line: str) -> None:
    from tqdm import tqdm  # written above the progress bar, not through it

    tqdm.write(f"hfrl train --async: {line}", file=sys.stderr)


def train_async(
    config: TrainConfig,
    *,
    resume: bool = False,
    show_progress: bool = True,
    answerer: Answerer | None = None,
    say: Say = _say_on_stderr,
) -> dict[str, Any]:
    """Run ``config`` asynchronously (or resume it from ``config.out``); return its summary.

    Args:
        config: the run's settings (validated; ``config.asynchronous``).
        resume: continue the run in ``config.out`` from its last checkpoint.
        show_progress: draw the progress bar.
        answerer: the comparison window (``--teacher human``): it shows the pending queries
            in this thread while the run trains in another; ``None``: other processes answer
            the store (``--teacher store``: ``hfrl label`` windows).
        say: prints a line for the person running the command.

    Raises:
        ConfigError: ``config`` is not asynchronous, or no answer came within
            ``--wait-timeout`` before the first fit (with how to resume).
    """
    if not config.asynchronous:
        raise ConfigError("train_async runs --async configs; use agents.rlhf_loop.train")
    if answerer is None:
        return _train(config, resume=resume, show_progress=show_progress, answerer=None, say=say)
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["summary"] = _train(
                config, resume=resume, show_progress=show_progress, answerer=answerer, say=say
            )
        except BaseException as error:  # re-raised in this thread
            result["error"] = error

    worker = threading.Thread(target=work, name="hfrl-train", daemon=True)
    worker.start()
    _show_pending(answerer, RunFolder(config.out).store_path, worker, say)
    worker.join()
    if "error" in result:
        raise result["error"]
    return result["summary"]


def _show_pending(answerer: Answerer, store_path: Path, worker: threading.Thread, say: Say) -> None:
    """The window answers whatever is pending, batch by batch, while the training runs."""
    while worker.is_alive() and not store_path.exists():
        worker.join(0.1)
    if not worker.is_alive():
        return
    with LabelStore(store_path, create=False) as store:  # this thread's own connection
        while worker.is_alive():
            pending = store.pending_queries()
            if not pending:
                worker.join(0.2)
                continue
            try:
                answerer.answer(store, pending)
            except HfrlError:  # the person closed the window
                say(
                    f"the window was closed; PPO goes on with the answers so far (answer more "
                    f"with `hfrl label {store_path}`)"
                )
                return


def _train(
    config: TrainConfig,
    *,
    resume: bool,
    show_progress: bool,
    answerer: Answerer | None,
    say: Say,
) -> dict[str, Any]:
    plan = plan_run(config)
    built = build_parts(config, plan, resume=resume, show_progress=show_progress, answerer=answerer)
    run = built.checkpoint.run
    _one_tensorboard_log(built.agent)
    assert built.fitter is not None  # --async is refused without a learned reward
    loop = AsyncLoop(
        built.parts,
        built.fitter,
        AsyncPlan.create(
            plan,
            num_labels=config.labels,
            queue_low=config.queue_low,
            num_checkpoints=config.rounds,
        ),
        rng=np.random.default_rng([config.seed, 23]),
        status=built.status,
        round_index=built.state.next_round,
        wait_timeout_s=config.wait_timeout,
        resume_command=f"hfrl train --resume {run.root}",
        say=say,
    )
    with closing(built, built.agent.ppo.logger.close):
        log = loop.run()
        summary = summarise(config, built)
        summary["asynchronous"] = _async_summary(log)
        run.write_json(run.summary_path, summary)
        built.status.finish()
        return summary


def _one_tensorboard_log(agent: PPOAgent) -> None:
    """One TensorBoard writer for the run's many short ``learn`` calls (one per rollout).

    SB3 makes a new logger, and so a new event file with an open writer, at each ``learn``
    unless it was given one: thousands of rollouts would open thousands of files.
    """
    folder = agent.ppo.tensorboard_log
    if folder:
        from stable_baselines3.common.logger import configure

        agent.ppo.set_logger(configure(str(Path(folder) / "ppo_async"), ["tensorboard"]))


def _async_summary(log: AsyncLog) -> dict[str, Any]:
    """The ``asynchronous`` section of ``summary.json`` (this session's figures)."""
    return {
        "refits": log.refits,
        "handovers": len(log.handovers),
        "labels_posted": log.posted,
        "labels_answered": log.answered,
        "queries_unanswered": log.pending,
        "labels_done_at_env_step": log.labels_done_at,
        "largest_queue": log.largest_queue,
        "queue_looks_during_rollouts": log.rollout_top_ups,
        "first_answers_wait_s": round(log.first_wait_s, 3),
        "longest_pause_between_rollouts_s": round(max(log.rollout_gaps_s, default=0.0), 3),
        "ending": log.ending(),
    }

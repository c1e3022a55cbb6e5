"""Where a sweep's runs run: fresh processes on this machine, or tasks on a Ray cluster.

Both backends call one function per item, each call in a fresh process, and hand back what it
returned as it finishes, or why nothing came back (the process died; the task's worker or node
was lost), while the other items go on. Ray is an optional extra, imported only by
:func:`run_on_ray`.

Functions:
    usable_cores: the cores this process may run on.
    run_in_processes: up to ``jobs`` fresh processes at a time on this machine.
    run_on_ray: one Ray task per item, on a new local instance or an existing cluster.
    one_line: an error's type and the first line of its message.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from hfrl_gym.errors import ConfigError

RAY_INSTALL = 'pip install -c constraints.txt -e ".[ray]"'
"""How to install the optional extra :func:`run_on_ray` needs."""

Done = Callable[[int, Any, "str | None"], None]
"""Called as ``done(index, value, error)``: ``value`` returned, or ``None`` and why."""


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity where the OS has one.

    Example:
        >>> 1 <= usable_cores() <= (os.cpu_count() or 1)
        True
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity on this OS
        return os.cpu_count() or 1


def one_line(error: BaseException) -> str:
    """The error's type and the first line of its message (a worker's crash report is long).

    Example:
        >>> one_line(ValueError("bad value\\n  more detail"))
        'ValueError: bad value'
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return (type(error).__name__ + (f": {lines[0]}" if lines else ""))[:400]


def _child(work: Callable[[Any], Any], item: Any, sender: Connection) -> None:
    sender.send(work(item))
    sender.close()


def run_in_processes(
    items: Sequence[tuple[int, Any]], work: Callable[[Any], Any], *, jobs: int, done: Done
) -> None:
    """``work(item)`` in a fresh process per item, ``jobs`` at a time, in the given order.

    Processes are spawned (a clean interpreter, as a Ray worker), so a script that calls this
    runs its work under ``if __name__ == "__main__":``. ``work`` is a module-level function.
    Stopped (Ctrl-C), the processes in flight are ended.
    """
    context = multiprocessing.get_context("spawn")
    waiting = list(items)
    running: dict[Connection, tuple[int, Any]] = {}
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                index, item = waiting.pop(0)
                receiver, sender = context.Pipe(duplex=False)
                process = context.Process(target=_child, args=(work, item, sender))
                process.start()
                sender.close()  # the child's end: the receiver sees EOF when the child dies
                running[receiver] = (index, process)
            for receiver in wait(list(running)):
                index, process = running.pop(receiver)
                try:
                    value, error = receiver.recv(), None
                except EOFError:
                    process.join()
                    value = None
                    error = f"its process died (exit code {process.exitcode})"
                receiver.close()
                process.join()
                done(index, value, error)
    finally:
        for _, process in running.values():
            process.terminate()
            process.join()


def import_ray() -> Any:
    """The ``ray`` module, or ``ConfigError`` saying how to install the extra."""
    try:
        import ray
    except ImportError:
        raise ConfigError(f"--backend ray needs Ray, an optional extra: {RAY_INSTALL}") from None
    return ray


def run_on_ray(
    items: Sequence[tuple[int, Any]],
    work: Callable[[Any], Any],
    *,
    jobs: int | None,
    address: str | None,
    gpus_per_run: float,
    env_vars: dict[str, str],
    done: Done,
) -> None:
    """``work(item)`` as one Ray task per item (1 CPU, ``gpus_per_run`` GPUs), gathered as
    they finish.

    Runs on the instance this process is connected to, else the cluster at ``address``, else a
    new local instance of ``jobs`` cores (default all), shut down at the end. Each task gets a
    fresh worker process with ``env_vars`` set. A task whose worker or node is lost is not
    retried but reported; stopped (Ctrl-C), the tasks not yet finished are cancelled.
    """
    ray = import_ray()
    started = not ray.is_initialized()
    if started:  # "local": an instance of our own, even beside one that `ray start` made
        ray.init(address=address or "local", num_cpus=jobs if address is None else None)
    task = ray.remote(
        num_cpus=1,
        num_gpus=gpus_per_run,
        max_calls=1,  # a fresh process per task, as the process backend (GPU memory freed)
        max_retries=0,  # a lost task is reported; what it left behind is the caller's
        runtime_env={"env_vars": env_vars},
    )(work)
    refs = {task.remote(item): index for index, item in items}
    pending = list(refs)
    try:
        while pending:
            finished, pending = ray.wait(pending, num_returns=1)
            for ref in finished:
                try:
                    value, error = ray.get(ref), None
                except Exception as lost:  # its worker or node was lost, or it was cancelled
                    value, error = None, one_line(lost)
                done(refs[ref], value, error)
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
        if started:
            ray.shutdown()

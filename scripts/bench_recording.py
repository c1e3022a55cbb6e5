"""Benchmark the foundation: RecordClips overhead, store throughput, clip rendering.

Measures, in one run (compare ratios, not absolute numbers, on shared machines):
- per-step cost of ``RecordClips`` against the same suite env without it (target <= 1.5x on
  ``hfrl/CartPole-v0``), and against Gymnasium's raw ``CartPole-v1``;
- clip write and read rate of the ``LabelStore`` (50-step CartPole clips);
- render time per frame of a clip re-rendered from snapshots, classic control and MuJoCo.

Usage: ``MUJOCO_GL=egl python scripts/bench_recording.py [--steps 20000]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

import gymnasium as gym
import numpy as np
from _bench import add_write_option, best_seconds, header, publish, table

import hfrl_gym  # noqa: F401  (registers the suite)
from hfrl_gym.clips import Clip
from hfrl_gym.envs import make_env
from hfrl_gym.recording import record_random_clips
from hfrl_gym.render import ClipRenderer
from hfrl_gym.store import LabelStore
from hfrl_gym.wrappers import RecordClips


def step_costs_us(envs: dict[str, gym.Env], num_steps: int, repeat: int = 7) -> dict[str, float]:
    """Microseconds per step of each env, timed in turns (interleaved, best of ``repeat``).

    Interleaving makes the ratios robust to other load on a shared machine: every env sees the
    same background in each turn.
    """
    actions = {name: [env.action_space.sample() for _ in range(1000)] for name, env in envs.items()}
    best = dict.fromkeys(envs, float("inf"))
    for _ in range(repeat):
        for name, env in envs.items():
            env.reset(seed=0)
            start = time.perf_counter()
            for i in range(num_steps):
                _, _, terminated, truncated, _ = env.step(actions[name][i % 1000])
                if terminated or truncated:
                    env.reset()
                    if isinstance(env, RecordClips):
                        env.pop_clips()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: seconds / num_steps * 1e6 for name, seconds in best.items()}


def measure_clip_rates(folder: str | os.PathLike[str], clips: Sequence[Clip]) -> dict[str, float]:
    """Clip write and read rates of the ``LabelStore``, in clips per second.

    ``write_single``: ``add_clip`` of each clip into a new store (one fsynced commit each);
    ``write_batch``: one ``add_clips`` call of them all into another new store, from which
    ``read_single`` reads each with ``get_clip`` and ``read_batch`` all with one ``get_clips``;
    ``bytes_per_clip``: that store's file size per clip. Both stores are made in ``folder``
    and deleted afterwards.
    """
    single, batch = (Path(folder) / f"bench-{name}.sqlite" for name in ("single", "batch"))
    rates: dict[str, float] = {}
    try:
        with LabelStore(single) as store:
            start = time.perf_counter()
            for clip in clips:  # one transaction per clip: the slow, crash-safe path
                store.add_clip(clip)
            rates["write_single"] = len(clips) / (time.perf_counter() - start)
        with LabelStore(batch) as store:
            start = time.perf_counter()
            store.add_clips(clips)
            rates["write_batch"] = len(clips) / (time.perf_counter() - start)
            uids = store.clip_uids()
            start = time.perf_counter()
            for uid in uids:
                store.get_clip(uid)
            rates["read_single"] = len(uids) / (time.perf_counter() - start)
            start = time.perf_counter()
            store.get_clips(uids)
            rates["read_batch"] = len(uids) / (time.perf_counter() - start)
        rates["bytes_per_clip"] = batch.stat().st_size / len(clips)
    finally:
        for path in (single, batch):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=20_000, help="env steps per timing")
    parser.add_argument("--clips", type=int, default=500, help="clips written to the store")
    add_write_option(parser, "recording")
    args = parser.parse_args()

    costs = step_costs_us(
        {
            "raw": gym.make("CartPole-v1"),
            "suite": make_env("hfrl/CartPole-v0"),
            "recorded": RecordClips(make_env("hfrl/CartPole-v0"), 50),
        },
        args.steps,
    )
    raw, suite, recorded = costs["raw"], costs["suite"], costs["recorded"]
    step_rows = [
        {"env": "gymnasium CartPole-v1 (raw)", "us/step": f"{raw:.1f}", "ratio": "-"},
        {"env": "hfrl/CartPole-v0", "us/step": f"{suite:.1f}", "ratio": "1.00"},
        {
            "env": "RecordClips(hfrl/CartPole-v0), 50-step clips",
            "us/step": f"{recorded:.1f}",
            "ratio": f"{recorded / suite:.2f} (vs suite env), {recorded / raw:.2f} (vs raw)",
        },
    ]

    clips = record_random_clips("hfrl/CartPole-v0", num_clips=args.clips, clip_num_steps=50, seed=0)
    with tempfile.TemporaryDirectory() as folder:
        rates = measure_clip_rates(folder, clips)
    store_rows = [
        {"operation": name, "result": f"{rates[key]:.0f} clips/s"}
        for name, key in (
            ("add_clip (one commit each)", "write_single"),
            ("add_clips (one commit)", "write_batch"),
            ("get_clip (one read each)", "read_single"),
            ("get_clips", "read_batch"),
        )
    ]
    store_rows.append({"operation": "file size", "result": f"{rates['bytes_per_clip']:.0f} B/clip"})

    render_rows = []
    for env_id, size in (("hfrl/CartPole-v0", (300, 200)), ("hfrl/HalfCheetah-v0", (300, 200))):
        (clip,) = record_random_clips(env_id, num_clips=1, clip_num_steps=30, seed=0)
        with ClipRenderer() as renderer:
            renderer.render_frames(clip, width=size[0], height=size[1])  # warm up the context
            seconds = best_seconds(
                lambda c=clip, s=size, r=renderer: r.render_frames(c, width=s[0], height=s[1]),
                repeat=3,
            )
        render_rows.append(
            {
                "env": env_id,
                "size": f"{size[0]}x{size[1]}",
                "ms/frame": f"{seconds / (clip.num_steps + 1) * 1e3:.1f}",
                "MUJOCO_GL": os.environ.get("MUJOCO_GL", ""),
            }
        )

    title = header("Recording, store and rendering (scripts/bench_recording.py)")
    tables = "\n\n".join(table(rows) for rows in (step_rows, store_rows, render_rows))
    publish(f"{title}\n{tables}", args)


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()

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
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

import gymnasium as gym
import numpy as np
from _bench import best_seconds, header, table

import hfrl_gym  # noqa: F401  (registers the suite)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=20_000, help="env steps per timing")
    parser.add_argument("--clips", type=int, default=500, help="clips written to the store")
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
        path = Path(folder) / "bench.sqlite"
        with LabelStore(path) as store:
            start = time.perf_counter()
            for clip in clips:  # one transaction per clip: the slow, crash-safe path
                store.add_clip(clip)
            write_one = len(clips) / (time.perf_counter() - start)
        with LabelStore(Path(folder) / "batch.sqlite") as store:
            start = time.perf_counter()
            store.add_clips(clips)
            write_batch = len(clips) / (time.perf_counter() - start)
            uids = store.clip_uids()
            start = time.perf_counter()
            store.get_clips(uids)
            read = len(uids) / (time.perf_counter() - start)
    store_rows = [
        {"operation": "add_clip (one commit each)", "clips/s": f"{write_one:.0f}"},
        {"operation": "add_clips (one commit)", "clips/s": f"{write_batch:.0f}"},
        {"operation": "get_clips", "clips/s": f"{read:.0f}"},
    ]

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

    print(header("Recording, store and rendering (scripts/bench_recording.py)"))
    print(table(step_rows), end="\n\n")
    print(table(store_rows), end="\n\n")
    print(table(render_rows))


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()

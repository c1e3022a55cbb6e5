"""Benchmark the torso-tracking camera: render time per frame of -v1 against -v0.

For HalfCheetah, Hopper and Walker2d, the snapshots of one random 30-step clip are rendered
by the -v0 env (fixed camera) and the -v1 env (camera and lights follow the torso, floor
drawn to 2 km) in turns, best of ``--repeat``, so the ratio is robust to other load.

Usage: ``MUJOCO_GL=egl python scripts/bench_camera.py [--size 300 200] [--repeat 5]``
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import gymnasium as gym
import numpy as np
from _bench import add_write_option, header, publish, table

from hfrl_gym.envs import make_env, set_state
from hfrl_gym.recording import record_random_clips

ENVS = ("HalfCheetah", "Hopper", "Walker2d")


def render_states(env: gym.Env, states: np.ndarray) -> None:
    """Restore and render each snapshot."""
    for state in states:
        set_state(env, state)
        env.render()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, nargs=2, default=[300, 200], metavar=("W", "H"))
    parser.add_argument("--repeat", type=int, default=5)
    add_write_option(parser, "camera")
    args = parser.parse_args()
    width, height = args.size
    rows = []
    for name in ENVS:
        old_id, new_id = f"hfrl/{name}-v0", f"hfrl/{name}-v1"
        (clip,) = record_random_clips(old_id, num_clips=1, clip_num_steps=30, seed=0)
        envs = {}
        for env_id in (old_id, new_id):
            env = make_env(env_id, render_mode="rgb_array", width=width, height=height)
            env.reset(seed=0)
            env.render()  # make the GL context outside the timing
            envs[env_id] = env

        seconds = {env_id: float("inf") for env_id in envs}
        for _ in range(args.repeat):  # in turns: both see the same background load
            for env_id, env in envs.items():
                started = time.perf_counter()
                render_states(env, clip.states)
                seconds[env_id] = min(seconds[env_id], time.perf_counter() - started)
        frames = len(clip.states)
        rows.append(
            {
                "env": name,
                "size": f"{width}x{height}",
                "-v0 ms/frame": f"{seconds[old_id] / frames * 1e3:.1f}",
                "-v1 ms/frame": f"{seconds[new_id] / frames * 1e3:.1f}",
                "-v1 / -v0": f"{seconds[new_id] / seconds[old_id]:.2f}",
                "MUJOCO_GL": os.environ["MUJOCO_GL"],
            }
        )
        for env in envs.values():
            env.close()
    publish(header("Torso-tracking camera (scripts/bench_camera.py)") + "\n" + table(rows), args)


if __name__ == "__main__":
    main()

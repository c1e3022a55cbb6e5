"""CPU against CUDA, end to end: env steps per second of an RLHF run, and reward-fit time.

For a classic-control env (``hfrl/CartPole-v0``) and a MuJoCo env (``hfrl/HalfCheetah-v0``),
on each device available (``cpu``, and ``cuda`` when torch sees a GPU): a short RLHF run with
the oracle teacher (``--steps`` env steps, ``--labels`` labels) and one reward-model fit on 500
oracle-labelled pairs of that env's clips. PPO, the reward model and reward inference all
follow the device. Where there is no GPU the table says so; everything runs on the CPU.

Usage: ``MUJOCO_GL=egl python scripts/bench_device.py [--steps 20000] [--labels 40]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np
import torch
from _bench import add_write_option, header, publish, table

from agents.config import TrainConfig
from agents.rlhf_loop import train
from hfrl_gym.clips import ClipPair
from hfrl_gym.envs import make_env
from hfrl_gym.queries import uniform_pairs
from hfrl_gym.recording import record_random_clips
from hfrl_gym.reward_model import RewardModel
from hfrl_gym.teachers import make_teacher

ENVS = ("hfrl/CartPole-v0", "hfrl/HalfCheetah-v0")


def fit_seconds(env_id: str, device: str, num_pairs: int = 500) -> float:
    """Seconds of one reward-model fit on ``num_pairs`` oracle pairs of random-policy clips."""
    clips = record_random_clips(env_id, num_clips=300, clip_num_steps=50, seed=0)
    rng = np.random.default_rng(0)
    pairs = [ClipPair(clips[i], clips[j]) for i, j in uniform_pairs(clips, num_pairs, rng)]
    labelled = list(zip(pairs, make_teacher("oracle", rng=rng).label(pairs), strict=True))
    env = make_env(env_id)
    model = RewardModel(
        env.observation_space, env.action_space, env_id=env_id, seed=0, device=device
    )
    start = time.perf_counter()
    model.fit(labelled, rng)
    return time.perf_counter() - start


def run_seconds(env_id: str, device: str, steps: int, labels: int) -> tuple[float, float]:
    """Wall seconds and true return of a short RLHF run."""
    with tempfile.TemporaryDirectory() as folder:
        config = TrainConfig(
            env=env_id,
            labels=labels,
            steps=steps,
            rounds=2,
            initial_steps=min(2000, steps // 4),
            device=device,
            out=str(Path(folder) / "run"),
            video=False,
            eval_episodes=2,
        ).validate()
        start = time.perf_counter()
        summary = train(config, show_progress=False)
        return time.perf_counter() - start, summary["true_return_mean"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--labels", type=int, default=40)
    add_write_option(parser, "device")
    args = parser.parse_args()
    torch.set_num_threads(1)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    for env_id in ENVS:
        for device in devices:
            seconds, true_return = run_seconds(env_id, device, args.steps, args.labels)
            rows.append(
                {
                    "env": env_id,
                    "device": device,
                    "env steps/s (RLHF run)": f"{args.steps / seconds:.0f}",
                    "run s": f"{seconds:.1f}",
                    "reward fit s (500 pairs)": f"{fit_seconds(env_id, device):.2f}",
                    "true return": f"{true_return:.1f}",
                }
            )
    text = header("CPU against CUDA (scripts/bench_device.py)") + "\n"
    if "cuda" not in devices:
        text += "torch sees no CUDA GPU on this machine: CPU figures only.\n\n"
    publish(text + table(rows), args)


if __name__ == "__main__":
    main()

"""SAC in the loop (``hfrl train --algo sac``): true reward against RLHF, and relabelling cost.

1. ``hfrl/Pendulum-v0`` (by default) with SAC on the true reward, SAC-RLHF from the oracle
   (``--labels``) and SAC on the constant reward (the control), ``--steps`` env steps each,
   per seed: the final true return (10 evaluation
   episodes) and wall time. Each run has its own folder under ``--out``: a finished run is
   read back, an interrupted one resumed, so the script can be run again until it is done.
2. (First) one relabelling pass over a replay buffer of 100k transitions (random transitions of the
   env's shapes; a 3-member reward model, the default), best of 3, for Pendulum and
   HalfCheetah.

Usage: ``python scripts/bench_sac.py [--steps 20000] [--labels 200] [--seeds 0 1]``
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np
import torch
from _bench import add_write_option, best_seconds, header, publish, table
from stable_baselines3.common.buffers import ReplayBuffer

from agents.config import TrainConfig
from agents.offpolicy_agent import relabel_buffer
from agents.rlhf_loop import train
from hfrl_gym.envs import make_env
from hfrl_gym.reward_model import RewardModel

RELABEL_ENVS = ("hfrl/Pendulum-v0", "hfrl/HalfCheetah-v0")
RELABEL_TRANSITIONS = 100_000


def run(config: TrainConfig) -> dict:
    """The run's summary: read back when it finished, resumed when it was interrupted."""
    out = Path(config.out)
    if (out / "summary.json").is_file():
        return json.loads((out / "summary.json").read_text())
    return train(config, resume=(out / "state.json").is_file(), show_progress=False)


def relabel_seconds(env_id: str) -> float:
    """Seconds of one relabelling pass over ``RELABEL_TRANSITIONS`` stored transitions."""
    env = make_env(env_id)
    buffer = ReplayBuffer(
        RELABEL_TRANSITIONS, env.observation_space, env.action_space, device="cpu"
    )
    rng = np.random.default_rng(0)
    for name in ("observations", "next_observations", "actions"):
        array = getattr(buffer, name)
        array[:] = rng.uniform(-1, 1, size=array.shape).astype(array.dtype)
    buffer.full = True
    model = RewardModel(
        env.observation_space, env.action_space, env_id=env_id, seed=0, device="cpu"
    )
    low, high = env.action_space.low, env.action_space.high

    def env_actions(scaled: np.ndarray) -> np.ndarray:
        return low + 0.5 * (scaled + 1.0) * (high - low)

    return best_seconds(lambda: relabel_buffer(buffer, model, env_actions=env_actions), repeat=3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="hfrl/Pendulum-v0")
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--labels", type=int, default=200)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--out", type=Path, default=Path("runs/bench_sac"))
    add_write_option(parser, "sac")
    args = parser.parse_args()
    torch.set_num_threads(1)
    relabel = [
        {
            "env": env_id,
            "transitions": f"{RELABEL_TRANSITIONS:,}",
            "relabel s": f"{relabel_seconds(env_id):.2f}",
        }
        for env_id in RELABEL_ENVS
    ]
    print(table(relabel), flush=True)
    rows = []
    for seed in args.seeds:
        for name, extra in (
            ("SAC, true reward", {"reward": "true", "labels": 0}),
            (f"SAC-RLHF, oracle, {args.labels} labels", {"labels": args.labels}),
            ("SAC, constant reward (control)", {"reward": "constant", "labels": 0}),
        ):
            reward = extra.get("reward", "learned")
            config = TrainConfig(
                env=args.env,
                algo="sac",
                steps=args.steps,
                seed=seed,
                out=str(args.out / f"{reward}-seed{seed}"),
                device="cpu",
                video=False,
                **extra,  # type: ignore[arg-type]
            ).validate()
            summary = run(config)
            rows.append(
                {
                    "run": name,
                    "seed": seed,
                    "env steps": summary["env_steps"],
                    "labels": summary["labels_used"],
                    "true return": f"{summary['true_return_mean']:.1f}",
                    "wall s": f"{summary['wall_seconds']:.0f}",
                }
            )
            print(rows[-1], flush=True)
    title = header(f"SAC on {args.env}: true reward and RLHF (scripts/bench_sac.py)")
    publish(f"{title}\n{table(rows)}\n\nOne relabelling pass, best of 3:\n\n{table(relabel)}", args)


if __name__ == "__main__":
    main()

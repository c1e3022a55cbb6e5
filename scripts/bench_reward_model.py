"""Benchmark the reward model: fit time, batched inference, VecLearnedReward overhead.

Measures, in one run, on ``--device`` (cpu, cuda or auto):
- fit seconds for 100 / 500 / 2000 oracle-labelled pairs of 50-step ``hfrl/CartPole-v0`` clips
  (one fresh model each, default ``FitConfig``);
- inference throughput (transitions/s) of ``RewardModel.predict_rewards`` for batches of 1, 8
  and 64 transitions, i.e. one call per step of 1, 8 and 64 sub-envs;
- per-step cost of ``VecLearnedReward`` over a bare ``DummyVecEnv`` of 1, 8 and 64 CartPoles,
  timed in turns (interleaved) so the ratio is robust to other load.

Usage: ``python scripts/bench_reward_model.py [--device auto] [--pairs 100 500 2000]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _bench import add_write_option, header, publish, table
from stable_baselines3.common.vec_env import DummyVecEnv

from agents.vec_learned_reward import VecLearnedReward
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.envs import make_env
from hfrl_gym.queries import uniform_pairs
from hfrl_gym.recording import record_clips
from hfrl_gym.reward_model import RewardModel
from hfrl_gym.teachers import make_teacher

ENV_ID = "hfrl/CartPole-v0"


def varied_clips(num_clips: int, seed: int) -> list[Clip]:
    """CartPole clips whose returns vary: a balancing controller that turns random at a step."""

    def policy(obs: np.ndarray, rng: np.random.Generator) -> int:
        if rng.random() < 0.3:
            return int(rng.integers(2))
        return int(obs[2] + 0.5 * obs[3] > 0)

    return record_clips(ENV_ID, num_clips=num_clips, clip_num_steps=50, seed=seed, policy=policy)


def new_model(device: str, seed: int = 0) -> RewardModel:
    env = make_env(ENV_ID)
    return RewardModel(
        env.observation_space, env.action_space, env_id=ENV_ID, seed=seed, device=device
    )


def fit_seconds(clips: list[Clip], num_pairs: int, device: str) -> tuple[float, int, float]:
    """Seconds, epochs and validation accuracy of one fresh fit on ``num_pairs`` pairs."""
    rng = np.random.default_rng(0)
    pairs = [ClipPair(clips[i], clips[j]) for i, j in uniform_pairs(clips, num_pairs, rng)]
    answers = make_teacher("oracle", rng=rng).label(pairs)
    report = new_model(device).fit(list(zip(pairs, answers, strict=True)), rng)
    return report.seconds, report.epochs_run, report.val_accuracy


def inference_rate(model: RewardModel, clips: list[Clip], batch: int, seconds: float) -> float:
    """Transitions per second of ``predict_rewards`` at one batch size."""
    obs = np.concatenate([c.observations[:-1] for c in clips])
    actions = np.concatenate([c.actions for c in clips])
    next_obs = np.concatenate([c.observations[1:] for c in clips])
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        k = (count * 7) % (len(obs) - batch)
        model.predict_rewards(obs[k : k + batch], actions[k : k + batch], next_obs[k : k + batch])
        count += batch
    return count / (time.perf_counter() - start)


def vec_step_costs(model: RewardModel, num_envs: int, num_steps: int) -> tuple[float, float]:
    """Microseconds per vec step, bare and with VecLearnedReward (interleaved, best of 5)."""

    def make() -> DummyVecEnv:
        venv = DummyVecEnv([lambda: make_env(ENV_ID)] * num_envs)
        venv.seed(0)
        return venv

    bare, learned = make(), VecLearnedReward(make(), model)
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 2, size=(num_steps, num_envs))
    best = {"bare": float("inf"), "learned": float("inf")}
    for _ in range(5):
        for name, venv in (("bare", bare), ("learned", learned)):
            venv.reset()
            start = time.perf_counter()
            for step in range(num_steps):
                venv.step(actions[step])
            best[name] = min(best[name], time.perf_counter() - start)
    return best["bare"] / num_steps * 1e6, best["learned"] / num_steps * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--pairs", type=int, nargs="+", default=[100, 500, 2000])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    add_write_option(parser, "reward-model")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = new_model(args.device)
    device = str(model.device)
    clips = varied_clips(600, seed=0)

    fit_rows = []
    for num_pairs in args.pairs:
        seconds, epochs, accuracy = fit_seconds(clips, num_pairs, device)
        fit_rows.append(
            {
                "labelled pairs": num_pairs,
                "fit seconds": f"{seconds:.2f}",
                "epochs": epochs,
                "ms/epoch": f"{seconds / epochs * 1e3:.0f}",
                "val accuracy": f"{accuracy:.3f}",
            }
        )
    infer_rows = [
        {
            "batch (sub-envs)": batch,
            "transitions/s": f"{inference_rate(model, clips, batch, 2.0):,.0f}",
        }
        for batch in (1, 8, 64)
    ]
    vec_rows = []
    for num_envs in (1, 8, 64):
        bare, learned = vec_step_costs(model, num_envs, num_steps=max(50, 4000 // num_envs))
        vec_rows.append(
            {
                "sub-envs": num_envs,
                "bare us/vec-step": f"{bare:.0f}",
                "VecLearnedReward us/vec-step": f"{learned:.0f}",
                "ratio": f"{learned / bare:.2f}",
                "overhead us/env-step": f"{(learned - bare) / num_envs:.1f}",
            }
        )
    title = header(f"Reward model on {device} (scripts/bench_reward_model.py)")
    tables = "\n\n".join(table(rows) for rows in (fit_rows, infer_rows, vec_rows))
    publish(f"{title}\n{tables}", args)


if __name__ == "__main__":
    main()

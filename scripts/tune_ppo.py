"""PPO on the true reward of a suite env with changed settings: is an env's PPO strong first?

The robust-learning benchmark scores RLHF against PPO on the true reward, so an env's PPO
settings must solve the fixed-horizon task on the true reward before its normalised scores
mean anything. This trains PPO (the env's settings from ``agents.ppo``, with ``--set``'s
changes) on the true reward through the same training VecEnv as ``hfrl train`` and prints one
JSON line: the deterministic true return after each fifth of the steps (3 episodes; the last
10).

Usage:
    python scripts/tune_ppo.py hfrl/InvertedPendulum-v0 --seed 0 --steps 200000 \\
        --set n_steps=2048 --set learning_rate=0.0003 --normalize

``--set KEY=VALUE`` changes a ``PPOHyperparameters`` field (a number or ``policy.KEY`` of
``PolicyNet``); ``--normalize`` puts SB3's ``VecNormalize`` (observations only) in front of
the policy, as RL Zoo's ``normalize: true`` does; ``--num-envs`` overrides the sub-envs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stable_baselines3.common.vec_env import VecNormalize

from agents.ppo import make_ppo, make_training_venv, ppo_settings
from hfrl_gym.envs import make_env


def _value(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def changed_settings(env_id: str, changes: list[str]) -> object:
    """The env's PPO hyperparameters with ``KEY=VALUE`` changes (``policy.KEY`` for the net)."""
    params = ppo_settings(env_id).ppo
    top: dict[str, object] = {}
    net: dict[str, object] = {}
    for change in changes:
        key, _, value = change.partition("=")
        if key.startswith("policy."):
            net[key.removeprefix("policy.")] = _value(value)
        else:
            top[key] = _value(value)
    if net:
        top["policy"] = dataclasses.replace(params.policy, **net)
    return dataclasses.replace(params, **top)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("env")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--normalize", action="store_true")
    parser.add_argument("--num-envs", type=int, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    params = changed_settings(args.env, args.set)
    num_envs = args.num_envs or ppo_settings(args.env).num_envs
    venv = make_training_venv(
        args.env, num_envs=num_envs, seed=args.seed, clip_num_steps=25, absorbing_steps=25
    )
    if args.normalize:
        venv = VecNormalize(venv, norm_obs=True, norm_reward=False)
    model = make_ppo(
        venv,
        args.env,
        seed=args.seed,
        device="cpu",
        total_env_steps=args.steps,
        hyperparameters=params,
    )

    start, curve = time.monotonic(), []
    for fifth in range(5):
        model.learn(args.steps // 5, reset_num_timesteps=False)
        curve.append(round(_evaluate(model, venv, args, 10 if fifth == 4 else 3), 1))
    print(
        json.dumps(
            {
                "env": args.env,
                "seed": args.seed,
                "steps": args.steps,
                "set": args.set,
                "normalize": args.normalize,
                "curve": curve,
                "final": curve[-1],
                "wall_s": round(time.monotonic() - start, 1),
            }
        )
    )


def _evaluate(model: object, venv: object, args: argparse.Namespace, episodes: int) -> float:
    """Mean true return of the deterministic policy over ``episodes`` fixed-seed episodes."""
    env = make_env(args.env)
    returns = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=10_000 + episode)
        total, done = 0.0, False
        while not done:
            seen = venv.normalize_obs(obs) if args.normalize else obs
            action, _ = model.predict(seen, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    env.close()
    return float(np.mean(returns))


if __name__ == "__main__":
    main()

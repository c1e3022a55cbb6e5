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

``--runs FILE`` runs a list of (settings, seed) in turn, from a JSON file (:func:`read_runs`;
scripts/tune_ppo_inverted_pendulum.json is docs/BENCHMARKS.md's), prints each run's line and
then their table: the true return after each fifth of the steps, a row per run; ``--write``
puts it between the ``bench:tune-ppo`` markers of docs/BENCHMARKS.md (or ``--section``'s).

Functions:
    changed_settings: an env's PPO hyperparameters with ``KEY=VALUE`` changes.
    train_curve: one PPO run on the true reward and its true return after each fifth.
    read_runs: the (settings, seed) runs of a ``--runs`` file.
    curve_table: the markdown table of ``--runs``.
    main: the command line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import add_write_option, header, publish, table
from stable_baselines3.common.vec_env import VecNormalize

from agents.ppo import make_ppo, make_training_venv, ppo_settings
from hfrl_gym.envs import make_env
from hfrl_gym.errors import ConfigError


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


def train_curve(
    env_id: str,
    *,
    seed: int,
    steps: int,
    changes: list[str],
    normalize: bool = False,
    num_envs: int | None = None,
) -> dict[str, object]:
    """Train PPO on the true reward; the record of one run, its true return after each fifth."""
    torch.set_num_threads(1)
    params = changed_settings(env_id, changes)
    venv = make_training_venv(
        env_id,
        num_envs=num_envs or ppo_settings(env_id).num_envs,
        seed=seed,
        clip_num_steps=25,
        absorbing_steps=25,
    )
    if normalize:
        venv = VecNormalize(venv, norm_obs=True, norm_reward=False)
    model = make_ppo(
        venv, env_id, seed=seed, device="cpu", total_env_steps=steps, hyperparameters=params
    )
    start, curve = time.monotonic(), []
    for fifth in range(5):
        model.learn(steps // 5, reset_num_timesteps=False)
        episodes = 10 if fifth == 4 else 3
        curve.append(round(_evaluate(model, venv, env_id, normalize, episodes), 1))
    return {
        "env": env_id,
        "seed": seed,
        "steps": steps,
        "set": changes,
        "normalize": normalize,
        "curve": curve,
        "final": curve[-1],
        "wall_s": round(time.monotonic() - start, 1),
    }


def read_runs(path: Path) -> list[tuple[str, int, list[str], bool]]:
    """The runs of a ``--runs`` file: ``(settings, seed, changes, normalize)`` per seed.

    The file is a JSON list of ``{"settings": "label", "seeds": [0, 1], "set": ["KEY=VALUE"],
    "normalize": false}`` (``set`` and ``normalize`` optional), one table row per seed.
    """
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        return [
            (str(e["settings"]), int(seed), list(e.get("set", [])), bool(e.get("normalize")))
            for e in entries
            for seed in e["seeds"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigError(
            f"--runs {path}: {error!r}; give a JSON list of "
            '{"settings": LABEL, "seeds": [SEED, ...], "set": ["KEY=VALUE", ...], '
            '"normalize": false}'
        ) from error


def curve_table(records: list[tuple[str, dict[str, object]]], steps: int) -> str:
    """The markdown table of ``--runs``: settings, seed, the true return after each fifth.

    >>> print(curve_table([("defaults", {"seed": 0, "curve": [1, 2, 3, 4, 5.5]})], 200_000))
    | settings | seed | return after 40k, 80k, 120k, 160k, 200k steps |
    |---|---|---|
    | defaults | 0 | 1, 2, 3, 4, 6 |
    """
    fifths = ", ".join(f"{steps * k // 5 / 1000:g}k" for k in range(1, 6))
    rows = [
        {
            "settings": label,
            "seed": record["seed"],
            f"return after {fifths} steps": ", ".join(f"{v:.0f}" for v in record["curve"]),
        }
        for label, record in records
    ]
    return table(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("env")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--normalize", action="store_true")
    parser.add_argument("--num-envs", type=int, default=None)
    parser.add_argument(
        "--runs", type=Path, metavar="FILE", help="run every (settings, seed) of FILE in turn "
        "(--seed, --set, --normalize ignored) and print their table"
    )  # fmt: skip
    add_write_option(parser, "tune-ppo")
    args = parser.parse_args(argv)
    if args.runs is None:
        record = train_curve(
            args.env,
            seed=args.seed,
            steps=args.steps,
            changes=args.set,
            normalize=args.normalize,
            num_envs=args.num_envs,
        )
        print(json.dumps(record))
        return
    try:
        runs = read_runs(args.runs)
    except ConfigError as error:
        parser.error(str(error))
    records = []
    for label, seed, changes, normalize in runs:
        record = train_curve(
            args.env,
            seed=seed,
            steps=args.steps,
            changes=changes,
            normalize=normalize,
            num_envs=args.num_envs,
        )
        print(json.dumps(record), flush=True)
        records.append((label, record))
    title = f"PPO on the true reward of {args.env} (scripts/tune_ppo.py)"
    publish(f"{header(title)}\n{curve_table(records, args.steps)}", args)


def _evaluate(model: Any, venv: Any, env_id: str, normalize: bool, episodes: int) -> float:
    """Mean true return of the deterministic policy over ``episodes`` fixed-seed episodes."""
    env = make_env(env_id)
    returns = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=10_000 + episode)
        total, done = 0.0, False
        while not done:
            seen = venv.normalize_obs(obs) if normalize else obs
            action, _ = model.predict(seen, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    env.close()
    return float(np.mean(returns))


if __name__ == "__main__":
    main()

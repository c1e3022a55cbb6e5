"""How much of hfrl/Acrobot-v0's true return is there to learn? Two policies that need no training.

PPO on the true reward settles near -400 (docs/BENCHMARKS.md). This measures two policies
on the same fixed-horizon task:

* an energy pump: torque +1 while the elbow turns one way, -1 while it turns the other;
* a random-shooting planner on the env's own simulator (its snapshots): at every step it
  scores ``--candidates`` action sequences of ``--depth`` steps by the task reward plus the
  tip's height (a shaping term the planner alone uses) and takes the best first action.

The planner reads the true dynamics, so it is a ceiling estimate, not a learner.

Usage: ``python scripts/bench_acrobot_ceiling.py --episodes 2``
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from _bench import add_write_option, header, publish, table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hfrl_gym.envs import make_env

ENV = "hfrl/Acrobot-v0"
POLICIES = {
    "pump": "a hand-written energy pump (torque = sign of the elbow's velocity)",
    "planner": "a random-shooting planner on the env's own simulator ({candidates} action "
    "sequences of {depth} steps per step, scored by the task reward plus tip height)",
}


def tip_height(obs: np.ndarray) -> float:
    """``-cos t1 - cos(t1 + t2)`` from the observation ``[cos t1, sin t1, cos t2, sin t2, ...]``."""
    return float(-obs[0] - (obs[0] * obs[2] - obs[1] * obs[3]))


def pump(obs: np.ndarray) -> int:
    """Torque +1 while the elbow's velocity is positive, else -1 (actions 2 and 0)."""
    return 2 if obs[5] > 0 else 0


class Planner:
    """Random shooting with a warm start: the best sequence so far, shifted, and mutations."""

    def __init__(self, candidates: int, depth: int, seed: int) -> None:
        self.sim = make_env(ENV)
        self.sim.reset(seed=seed)
        self.rng = np.random.default_rng(seed)
        self.candidates, self.depth = candidates, depth
        self.plan = self.rng.integers(0, 3, depth)

    def _score(self, state: np.ndarray, actions: np.ndarray) -> float:
        self.sim.unwrapped.set_state(state)
        total = 0.0
        for action in actions:
            obs, reward, *_ = self.sim.step(int(action))
            total += float(reward) + 0.5 * tip_height(obs)
        return total

    def act(self, state: np.ndarray) -> int:
        best, best_score = self.plan, self._score(state, self.plan)
        for k in range(self.candidates - 1):
            if k % 3 == 0:
                sequence = self.rng.integers(0, 3, self.depth)
            else:
                sequence = best.copy()
                change = self.rng.random(self.depth) < 0.3
                sequence[change] = self.rng.integers(0, 3, int(change.sum()))
            score = self._score(state, sequence)
            if score > best_score:
                best, best_score = sequence, score
        self.plan = np.append(best[1:], self.rng.integers(0, 3))
        return int(best[0])


def episode_return(policy: str, episode: int, args: argparse.Namespace) -> float:
    env = make_env(ENV)
    obs, _ = env.reset(seed=10_000 + episode)
    planner = Planner(args.candidates, args.depth, seed=episode) if policy == "planner" else None
    total = 0.0
    for _ in range(500):
        action = pump(obs) if planner is None else planner.act(env.unwrapped.get_state())
        obs, reward, *_ = env.step(action)
        total += float(reward)
    return total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=2)
    parser.add_argument("--candidates", type=int, default=25)
    parser.add_argument("--depth", type=int, default=40)
    add_write_option(parser, "acrobot-ceiling")
    args = parser.parse_args(argv)
    rows = []
    for policy, name in POLICIES.items():
        returns = [episode_return(policy, e, args) for e in range(args.episodes)]
        print(json.dumps({"env": ENV, "policy": policy, "returns": returns}), flush=True)
        rows.append(
            {
                "policy": name.format(candidates=args.candidates, depth=args.depth),
                "episodes": args.episodes,
                "true return per episode": ", ".join(f"{value:.0f}" for value in returns),
            }
        )
    title = f"{ENV}: two policies without training (scripts/bench_acrobot_ceiling.py)"
    publish(header(title) + "\n" + table(rows), args)


if __name__ == "__main__":
    main()

"""What every agent of the loop does, whatever it learns with: an SB3 algorithm, round by round.

Classes:
    RoundsAgent: an SB3 algorithm on the training envs, on whatever reward it is given: it
        records clips, explores, trains, and is evaluated on the true return. ``PPOAgent``
        (``agents.ppo_agent``), ``SACAgent`` and ``DQNAgent`` (``agents.offpolicy_agent``)
        add how their algorithm is built (``RoundsAgent.build``), saved and restored.

Functions:
    with_random_actions: a batch policy with random actions mixed in (perturbed recordings).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv

from agents.callbacks import ClipHarvester, Progress
from agents.evaluate import Evaluation, evaluate_policy_returns
from agents.exploration import StateEntropyReward
from agents.vec_learned_reward import VecLearnedReward
from hfrl_gym.clips import Clip
from hfrl_gym.errors import ConfigError
from hfrl_gym.recording import rollout_clips
from hfrl_gym.wrappers.learned_reward import BatchRewardFunction


class RoundsAgent:
    """An SB3 algorithm (:attr:`model`, made by the subclass's :meth:`build`) trained on
    ``reward`` in ``venv``.

    ``venv``'s sub-envs are ``Monitor(RecordClips(...))`` (``agents.ppo.make_training_venv``):
    the clips and true-return episodes of the experience are harvested as it learns, and
    each clip is stamped with the policy that acted (:meth:`policy_name`).

    Args:
        env_id: the suite env (where the policy is evaluated).
        venv: the training envs.
        reward: the reward the agent sees in place of the env's; ``None`` keeps the env's.
        seed: seeds the algorithm and evaluation.
        device: a resolved torch device name.
        env_step_budget: the algorithm's env steps over the whole run (its schedules span
            them; an off-policy replay buffer holds no more), or ``None``.
        tensorboard_log: SB3's TensorBoard folder, or ``None``.
        hyperparameters: the algorithm's settings (default: the env's).
        eval_episodes: episodes per true-return evaluation.
        goal: the goal evaluated beside the task (``task``: the task itself).
        progress: the run's progress bar (an SB3 callback), or ``None``.

    Attributes:
        name: the algorithm's name in policy names and TensorBoard (``ppo``, ``sac``).
        model: the SB3 algorithm.
    """

    name = "agent"
    model: BaseAlgorithm

    def __init__(
        self,
        env_id: str,
        venv: VecEnv,
        reward: BatchRewardFunction | None,
        *,
        seed: int,
        device: str,
        env_step_budget: int | None,
        tensorboard_log: Path | None = None,
        hyperparameters: Any = None,
        eval_episodes: int = 10,
        goal: str = "task",
        progress: Progress | None = None,
    ) -> None:
        self.env_id, self.seed, self.device = env_id, seed, device
        self.eval_episodes, self.goal, self.progress = eval_episodes, goal, progress
        self.venv = venv
        self.train_venv = venv if reward is None else VecLearnedReward(venv, reward)
        self.harvester = ClipHarvester()
        self.env_steps = 0
        self.extra_callbacks: list[BaseCallback] = []
        self._round = 0
        self.model = self.build(
            self.train_venv,
            env_id,
            seed=seed,
            device=device,
            tensorboard_log=None if tensorboard_log is None else str(tensorboard_log),
            total_env_steps=env_step_budget,
            hyperparameters=hyperparameters,
        )

    @staticmethod
    def build(
        venv: VecEnv,
        env_id: str,
        *,
        seed: int,
        device: str,
        tensorboard_log: str | None,
        total_env_steps: int | None,
        hyperparameters: Any,
    ) -> BaseAlgorithm:
        """The SB3 algorithm with the env's settings (a subclass's ``make_ppo``, ``make_sac``,
        ``make_dqn``)."""
        raise NotImplementedError

    def policy_name(self, *, learning: bool = False) -> str:
        """The acting policy's provenance: seed, round and the algorithm's env steps so far.

        ``ppo/seed0/round3/step12288`` is the policy after 12,288 PPO steps, acting without
        learning; ``ppo/seed0/round3/learning-from-step12288`` is PPO's experience while it
        learns in round 3 from there.
        """
        steps = self.model.num_timesteps
        step = f"learning-from-step{steps}" if learning else f"step{steps}"
        return f"{self.name}/seed{self.seed}/round{self._round}/{step}"

    def _stamp(self, round_index: int, *, learning: bool) -> None:
        self._round = round_index
        self.venv.env_method("set_policy_name", self.policy_name(learning=learning))

    def record(
        self,
        num_env_steps: int,
        *,
        round_index: int,
        clip_num_steps: int,
        random_actions: Sequence[float] = (),
    ) -> list[Clip]:
        """Clips of the current policy acting for about ``num_env_steps``, without learning.

        The envs are reset every two clips, so the clips show the start of many episodes: a
        poor policy's later clips in a fixed-horizon env all look alike (CartPole's crashed
        pole), and comparing them teaches little. Resetting on a fixed schedule reveals
        nothing of the reward. The next ``learn`` starts from freshly reset envs.

        With ``random_actions``, sub-env ``i`` replaces each of the policy's actions by a
        uniformly random one with probability ``random_actions[i % len(random_actions)]``
        (drawn from a generator seeded by the run's seed and the round): clips near the
        policy's behaviour, for queries that compare it with small departures from it.
        """
        self._stamp(round_index, learning=False)
        num_steps = max(1, num_env_steps // self.venv.num_envs)
        policy = lambda obs: self.model.predict(obs, deterministic=False)[0]  # noqa: E731
        if random_actions:
            policy = with_random_actions(
                policy,
                self.venv.action_space,
                [random_actions[i % len(random_actions)] for i in range(self.venv.num_envs)],
                np.random.default_rng([self.seed, round_index, 7]),
            )
        clips = rollout_clips(
            self.venv, policy, num_steps=num_steps, reset_every=2 * clip_num_steps
        )
        used = num_steps * self.venv.num_envs
        self.env_steps += used
        if self.progress is not None:
            self.progress.advance(used)
        self.model.set_env(self.train_venv)  # public reset: the next learn() resets the envs
        return clips

    def explore(self, num_env_steps: int, *, round_index: int) -> list[Clip]:
        """Learn on the state-entropy reward (``agents.exploration``) for ``num_env_steps``.

        The agent's own reward is put back afterwards; returns the clips of the exploration,
        which the first queries compare.

        Raises:
            ConfigError: the agent trains on the env's own reward (nothing to swap).
        """
        if not isinstance(self.train_venv, VecLearnedReward):
            raise ConfigError("exploration replaces a learned reward; this agent has none")
        reward = self.train_venv.reward_fn
        self.train_venv.set_reward_fn(StateEntropyReward())
        try:
            self.train(num_env_steps, round_index=round_index)
        finally:
            self.train_venv.set_reward_fn(reward)
        return self.harvested_clips()

    def _before_learning(self) -> None:
        """Called before each ``learn`` (SAC relabels its replay buffer here)."""

    def train(self, num_env_steps: int, *, round_index: int) -> None:
        """Continue learning for ``num_env_steps`` on the current reward."""
        if num_env_steps <= 0:
            return
        reward = getattr(self.train_venv, "reward_fn", None)
        if hasattr(reward, "set_env_steps"):  # a reward that changes over the run
            reward.set_env_steps(self.env_steps)
        self._before_learning()
        self._stamp(round_index, learning=True)
        self.harvester.step_offset = self.env_steps - self.model.num_timesteps
        callbacks: list[BaseCallback] = [self.harvester, *self.extra_callbacks]
        if self.progress is not None:
            callbacks.insert(1, self.progress)
        self.model.learn(
            num_env_steps, callback=callbacks, reset_num_timesteps=False, tb_log_name=self.name
        )
        self.env_steps = self.harvester.step_offset + self.model.num_timesteps

    def harvested_clips(self) -> list[Clip]:
        """The clips of the experience since the last call, oldest first."""
        return self.harvester.pop_clips()

    def pop_episodes(self) -> list[tuple[int, float]]:
        """``(env_steps, true_return)`` of the training episodes finished since the last call."""
        return self.harvester.pop_episodes()

    def evaluate(self) -> Evaluation:
        """True (and goal) return of the current policy over ``eval_episodes`` episodes."""
        result = evaluate_policy_returns(
            self.model,
            self.env_id,
            num_episodes=self.eval_episodes,
            seed=10_000 + self.seed,
            goal=self.goal,
        )
        if self.progress is not None:
            self.progress.note(true_return=result.true_mean)
        return result

    def close(self) -> None:
        """Close the training envs."""
        self.train_venv.close()


def with_random_actions(
    policy: Callable[[np.ndarray], np.ndarray],
    space: gym.Space,
    chances: Sequence[float],
    rng: np.random.Generator,
) -> Callable[[np.ndarray], np.ndarray]:
    """``policy`` with each sub-env's action replaced by a uniformly random one of ``space``
    (Discrete or Box) with that sub-env's chance in ``chances``.

    Example:
        >>> always_zero = lambda obs: np.zeros(len(obs), dtype=np.int64)
        >>> noisy = with_random_actions(
        ...     always_zero, gym.spaces.Discrete(5), [0.0, 1.0], np.random.default_rng(0))
        >>> actions = np.stack([noisy(np.zeros((2, 3))) for _ in range(200)])
        >>> int(actions[:, 0].max()), bool((actions[:, 1] != 0).mean() > 0.7)
        (0, True)
    """
    chance = np.asarray(chances, dtype=np.float64)

    def act(observations: np.ndarray) -> np.ndarray:
        actions = np.array(policy(observations))
        swap = rng.random(len(chance)) < chance
        if not swap.any():
            return actions
        if isinstance(space, gym.spaces.Discrete):
            random = space.start + rng.integers(0, int(space.n), size=len(chance))
        elif isinstance(space, gym.spaces.Box):
            low = np.broadcast_to(space.low, (len(chance), *space.shape))
            high = np.broadcast_to(space.high, (len(chance), *space.shape))
            random = rng.uniform(low, high).astype(actions.dtype)
        else:
            raise ConfigError(f"random actions need a Discrete or Box action space, got {space}")
        actions[swap] = random.reshape(actions.shape)[swap]
        return actions

    return act

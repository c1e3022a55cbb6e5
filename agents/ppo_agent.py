"""The learning part of the loop: PPO on the training envs, on whatever reward it is given.

Classes:
    PPOAgent: PPO, its training envs, the clips and episodes its experience yields, and its
        true-return evaluation.
"""

from __future__ import annotations

from pathlib import Path

from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv

from agents.callbacks import ClipHarvester, Progress
from agents.evaluate import Evaluation, evaluate_policy_returns
from agents.exploration import StateEntropyReward
from agents.policy_file import load_policy, save_policy
from agents.ppo import PPOHyperparameters, RoundsPPO, make_ppo
from agents.vec_learned_reward import VecLearnedReward
from hfrl_gym.clips import Clip
from hfrl_gym.errors import ConfigError
from hfrl_gym.recording import rollout_clips
from hfrl_gym.wrappers.learned_reward import BatchRewardFunction


class PPOAgent:
    """PPO training on ``reward`` (``None``: the env's own reward) in ``venv``.

    ``venv``'s sub-envs are ``Monitor(RecordClips(...))`` (``agents.ppo.make_training_venv``):
    the clips and true-return episodes of PPO's experience are harvested as it learns, and
    each clip is stamped with the policy that acted (:meth:`policy_name`).

    Args:
        env_id: the suite env (its PPO settings, and where the policy is evaluated).
        venv: the training envs.
        reward: the reward PPO sees in place of the env's; ``None`` keeps the env's.
        seed: seeds PPO and evaluation.
        device: a resolved torch device name.
        ppo_budget: PPO's env steps over the whole run (its schedules span them).
        tensorboard_log: SB3's TensorBoard folder, or ``None``.
        hyperparameters: PPO's settings (default: the env's, ``agents.ppo``).
        eval_episodes: episodes per true-return evaluation.
        goal: the goal evaluated beside the task (``task``: the task itself).
        progress: the run's progress bar (an SB3 callback), or ``None``.
    """

    def __init__(
        self,
        env_id: str,
        venv: VecEnv,
        reward: BatchRewardFunction | None,
        *,
        seed: int,
        device: str,
        ppo_budget: int | None,
        tensorboard_log: Path | None = None,
        hyperparameters: PPOHyperparameters | None = None,
        eval_episodes: int = 10,
        goal: str = "task",
        progress: Progress | None = None,
    ) -> None:
        self.env_id, self.seed, self.device = env_id, seed, device
        self.eval_episodes, self.goal, self.progress = eval_episodes, goal, progress
        self.venv = venv
        self.train_venv = venv if reward is None else VecLearnedReward(venv, reward)
        self.ppo: RoundsPPO = make_ppo(
            self.train_venv,
            env_id,
            seed=seed,
            device=device,
            tensorboard_log=None if tensorboard_log is None else str(tensorboard_log),
            total_env_steps=ppo_budget,
            hyperparameters=hyperparameters,
        )
        self.harvester = ClipHarvester()
        self.env_steps = 0
        self.extra_callbacks: list[BaseCallback] = []
        self._round = 0

    def restore(self, policy_path: Path | None, *, ppo_steps: int, env_steps: int) -> None:
        """Load a checkpoint's policy (``None``: none saved yet) and step counts (resume).

        The file's tensors are loaded into this agent's PPO (``agents.policy_file``): never
        through SB3's loader, which unpickles.
        """
        if policy_path is not None:
            load_policy(self.ppo, policy_path, env_id=self.env_id)
            self.ppo.num_timesteps = ppo_steps
        self.env_steps = env_steps

    @property
    def rollout_env_steps(self) -> int:
        """Env steps PPO collects per update (``n_steps * num_envs``)."""
        return int(self.ppo.n_steps * self.train_venv.num_envs)

    def policy_name(self, *, learning: bool = False) -> str:
        """The acting policy's provenance: seed, round and PPO env steps so far.

        ``ppo/seed0/round3/step12288`` is the policy after 12,288 PPO steps, acting without
        learning; ``ppo/seed0/round3/learning-from-step12288`` is PPO's experience while it
        learns in round 3 from there.
        """
        step = f"learning-from-step{self.ppo.num_timesteps}" if learning else (
            f"step{self.ppo.num_timesteps}"
        )  # fmt: skip
        return f"ppo/seed{self.seed}/round{self._round}/{step}"

    def _stamp(self, round_index: int, *, learning: bool) -> None:
        self._round = round_index
        self.venv.env_method("set_policy_name", self.policy_name(learning=learning))

    def record(self, num_env_steps: int, *, round_index: int, clip_num_steps: int) -> list[Clip]:
        """Clips of the current policy acting for about ``num_env_steps``, without learning.

        The envs are reset every two clips, so the clips show the start of many episodes: a
        poor policy's later clips in a fixed-horizon env all look alike (CartPole's crashed
        pole), and comparing them teaches little. Resetting on a fixed schedule reveals
        nothing of the reward. PPO's next ``learn`` starts from freshly reset envs.
        """
        self._stamp(round_index, learning=False)
        num_steps = max(1, num_env_steps // self.venv.num_envs)
        clips = rollout_clips(
            self.venv,
            lambda obs: self.ppo.predict(obs, deterministic=False)[0],
            num_steps=num_steps,
            reset_every=2 * clip_num_steps,
        )
        used = num_steps * self.venv.num_envs
        self.env_steps += used
        if self.progress is not None:
            self.progress.advance(used)
        self.ppo.set_env(self.train_venv)  # public reset: the next learn() resets the envs
        return clips

    def explore(self, num_env_steps: int, *, round_index: int) -> list[Clip]:
        """PPO on the state-entropy reward (``agents.exploration``) for ``num_env_steps``.

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

    def train(self, num_env_steps: int, *, round_index: int) -> None:
        """Continue PPO for ``num_env_steps`` on the current reward."""
        if num_env_steps <= 0:
            return
        self._stamp(round_index, learning=True)
        self.harvester.step_offset = self.env_steps - self.ppo.num_timesteps
        callbacks: list[BaseCallback] = [self.harvester, *self.extra_callbacks]
        if self.progress is not None:
            callbacks.insert(1, self.progress)
        self.ppo.learn(
            num_env_steps, callback=callbacks, reset_num_timesteps=False, tb_log_name="ppo"
        )
        self.env_steps = self.harvester.step_offset + self.ppo.num_timesteps

    def harvested_clips(self) -> list[Clip]:
        """The clips of PPO's experience since the last call, oldest first."""
        return self.harvester.pop_clips()

    def pop_episodes(self) -> list[tuple[int, float]]:
        """``(env_steps, true_return)`` of the training episodes finished since the last call."""
        return self.harvester.pop_episodes()

    def evaluate(self) -> Evaluation:
        """True (and goal) return of the current policy over ``eval_episodes`` episodes."""
        result = evaluate_policy_returns(
            self.ppo,
            self.env_id,
            num_episodes=self.eval_episodes,
            seed=10_000 + self.seed,
            goal=self.goal,
        )
        if self.progress is not None:
            self.progress.note(true_return=result.true_mean)
        return result

    def save(self, policy_path: Path) -> None:
        """Save the policy as tensors plus JSON (``agents.policy_file``)."""
        save_policy(self.ppo, policy_path, env_id=self.env_id)

    def close(self) -> None:
        """Close the training envs."""
        self.train_venv.close()

"""The PPO agent of the loop: PPO on the training envs, on whatever reward it is given.

Classes:
    PPOAgent: PPO, its training envs, the clips and episodes its experience yields, and its
        true-return evaluation (what is not PPO's own: ``agents.rounds_agent.RoundsAgent``).
"""

from __future__ import annotations

from pathlib import Path

from stable_baselines3.common.vec_env import VecEnv

from agents.callbacks import Progress
from agents.policy_file import load_policy, save_policy
from agents.ppo import PPOHyperparameters, RoundsPPO, make_ppo
from agents.rounds_agent import RoundsAgent
from hfrl_gym.wrappers.learned_reward import BatchRewardFunction


class PPOAgent(RoundsAgent):
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

    name = "ppo"
    model: RoundsPPO

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
        super().__init__(
            env_id,
            venv,
            reward,
            seed=seed,
            device=device,
            eval_episodes=eval_episodes,
            goal=goal,
            progress=progress,
        )
        self.model = make_ppo(
            self.train_venv,
            env_id,
            seed=seed,
            device=device,
            tensorboard_log=None if tensorboard_log is None else str(tensorboard_log),
            total_env_steps=ppo_budget,
            hyperparameters=hyperparameters,
        )

    @property
    def ppo(self) -> RoundsPPO:
        """The SB3 PPO (:attr:`model`)."""
        return self.model

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

    def save(self, policy_path: Path) -> None:
        """Save the policy as tensors plus JSON (``agents.policy_file``)."""
        save_policy(self.ppo, policy_path, env_id=self.env_id)

"""The PPO agent of the loop: PPO on the training envs, on whatever reward it is given.

Classes:
    PPOAgent: PPO, its training envs, the clips and episodes its experience yields, and its
        true-return evaluation (what is not PPO's own: ``agents.rounds_agent.RoundsAgent``).
"""

from __future__ import annotations

from pathlib import Path

from agents.policy_file import load_policy, save_policy
from agents.ppo import RoundsPPO, make_ppo
from agents.rounds_agent import RoundsAgent


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
        env_step_budget: PPO's env steps over the whole run (its schedules span them).
        tensorboard_log: SB3's TensorBoard folder, or ``None``.
        hyperparameters: PPO's settings (default: the env's, ``agents.ppo``).
        eval_episodes: episodes per true-return evaluation.
        goal: the goal evaluated beside the task (``task``: the task itself).
        progress: the run's progress bar (an SB3 callback), or ``None``.
    """

    name = "ppo"
    model: RoundsPPO
    build = staticmethod(make_ppo)

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

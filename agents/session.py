"""The pieces of one training run, set up (or restored) from its folder.

Classes:
    TrainingSession: the store, the VecEnv, PPO, the reward model and the teacher of a run,
        with one method per step of an RLHF round. ``agents.rlhf_loop`` calls them in order.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from agents.callbacks import ClipHarvester, Progress
from agents.config import TrainConfig, ensure_writable
from agents.evaluate import Evaluation, evaluate_policy_returns
from agents.kl_penalty import kl_penalty_for_run
from agents.ppo import make_ppo, make_training_venv, ppo_settings
from agents.rewards import ConstantReward
from agents.run_folder import RunFolder
from agents.vec_learned_reward import VecLearnedReward
from hfrl_gym.answers import Answer
from hfrl_gym.clips import Clip
from hfrl_gym.envs import get_goal, get_spec
from hfrl_gym.errors import ConfigError
from hfrl_gym.queries import diverse_subset, select_pairs
from hfrl_gym.reward_model import RewardModel
from hfrl_gym.reward_model.net import resolve_device
from hfrl_gym.store import LabelStore, Query
from hfrl_gym.teachers import estimate_mean_episode_return, make_teacher


class TrainingSession:
    """Everything a run holds between rounds.

    Args:
        config: the run's settings (validated).
        resume: continue the run in ``config.out`` from its last finished round.
        show_progress: draw the progress bar (off in tests).
    """

    def __init__(self, config: TrainConfig, *, resume: bool = False, show_progress: bool = True):
        self.config = config
        self.run = RunFolder(config.out)
        ensure_writable(self.run.root)
        self.started = time.monotonic()
        self.device = str(resolve_device(config.device))
        self.spec = get_spec(config.env)
        self.rng = np.random.default_rng(config.seed)
        state = self.run.read_json(self.run.state_path) if resume else {}
        self.next_round: int = state.get("next_round", 0)
        self.env_steps: int = state.get("env_steps", 0)
        self.wall_before = float(state.get("wall_seconds", 0.0))
        if not resume:
            self.run.write_json(self.run.config_path, {**vars(config)})
        self.store = LabelStore(self.run.store_path)
        settings = ppo_settings(config.env)
        self.venv = make_training_venv(
            config.env,
            num_envs=settings.num_envs,
            seed=config.seed + 1000 * self.next_round,
            clip_num_steps=config.clip_steps,
            absorbing_steps=config.absorbing_steps,
        )
        self.reward_model: RewardModel | None = None
        self.reward_model_fitted = resume and self.run.reward_model_dir.exists()
        if config.reward in ("learned", "random"):
            self.reward_model = self._load_or_make_reward_model(resume)
        reward_fn = ConstantReward() if config.reward == "constant" else self.reward_model
        self.train_venv = self.venv if reward_fn is None else VecLearnedReward(self.venv, reward_fn)
        self.ppo = make_ppo(
            self.train_venv,
            config.env,
            seed=config.seed,
            device=self.device,
            tensorboard_log=str(self.run.tensorboard_dir),
            total_env_steps=config.steps
            - (config.initial_steps if config.reward == "learned" else 0),
        )
        if resume and self.run.policy_path.exists():
            self.ppo.set_parameters(str(self.run.policy_path), device=self.device)
            self.ppo.num_timesteps = state.get("ppo_steps", 0)
        self.kl_penalty = kl_penalty_for_run(
            self.ppo,
            kl_coef=config.kl_coef,
            reference=config.reference or None,
            run_root=self.run.root,
            resume=resume,
        )
        self.harvester = ClipHarvester()
        self.harvester.step_offset = self.env_steps - self.ppo.num_timesteps
        self.progress = Progress(config.steps, initial=self.env_steps, enabled=show_progress)
        self.teacher: Any = None
        self.last_fit: Any = None

    # -- setup ---------------------------------------------------------------------------

    def _load_or_make_reward_model(self, resume: bool) -> RewardModel:
        obs_space, act_space = self.venv.observation_space, self.venv.action_space
        if resume and self.run.reward_model_dir.exists():
            return RewardModel.load(
                self.run.reward_model_dir,
                env_id=self.config.env,
                observation_space=obs_space,
                action_space=act_space,
                device=self.device,
            )
        return RewardModel(
            obs_space,
            act_space,
            env_id=self.config.env,
            num_members=self.config.ensemble,
            device=self.device,
            seed=self.config.seed,
        )

    def _scripted_teacher(self, clips: Sequence[Clip]) -> Any:
        goal = get_goal(self.config.env, self.config.goal)
        mean_return = estimate_mean_episode_return(clips, horizon=self.spec.horizon, goal=goal)
        return make_teacher(
            self.config.teacher,
            goal=goal,
            rng=np.random.default_rng(self.config.seed + 7),
            mean_episode_return=mean_return,
            clip_num_steps=self.config.clip_steps,
            horizon=self.spec.horizon,
        )

    # -- the steps of a round --------------------------------------------------------------

    def collect_clips(self, num_env_steps: int) -> list[Clip]:
        """Run the current policy (no learning) for about ``num_env_steps``; return its clips.

        The envs are reset every two clips, so the clips show the start of many episodes: a
        poor policy's later clips in a fixed-horizon env all look alike (CartPole's crashed
        pole), and comparing them teaches little. Resetting on a fixed schedule reveals
        nothing of the reward.
        """
        obs = self.venv.reset()
        num_vec_steps = max(1, num_env_steps // self.venv.num_envs)
        for step in range(num_vec_steps):
            if step > 0 and step % (2 * self.config.clip_steps) == 0:
                obs = self.venv.reset()
            actions, _ = self.ppo.predict(obs, deterministic=False)
            obs, _, _, infos = self.venv.step(actions)
            for info in infos:
                self.harvester.take(info, env_steps=self.env_steps)
        used = num_vec_steps * self.venv.num_envs
        self.env_steps += used
        self.progress.advance(used)
        self.ppo._last_obs = None  # the next learn() resets the envs
        self.harvester.pop_episodes()  # episodes of the collection pass are not training's
        return self.harvester.pop_clips()

    def post_queries(self, round_index: int, clips: list[Clip], num_labels: int) -> list[Query]:
        """Choose ``num_labels`` pairs of ``clips`` and post them (reusing a resumed round's)."""
        posted = self.store.queries(round=round_index)
        if posted or num_labels == 0:
            return posted
        if not clips:  # the first round, or a resumed run: record the current policy
            clips = self.collect_clips(self.config.initial_steps)
        if len(clips) < 2:
            raise ConfigError(
                f"round {round_index} has {len(clips)} clip(s) to compare; raise --steps or "
                "lower --clip-steps so each round records clips"
            )
        # Candidates: a spread-out subset of the clips, so near-identical clips (a fallen
        # CartPole pole, say) are not compared with each other; then the chosen method.
        keep = diverse_subset(clips, 4 * num_labels + 8, self.rng)
        clips = [clips[i] for i in keep]
        fitted = self.reward_model is not None and self.reward_model_fitted
        index_pairs = select_pairs(
            self.config.query if fitted else "uniform",
            clips,
            num_labels,
            self.rng,
            model=self.reward_model if fitted else None,
        )
        chosen = sorted({i for pair in index_pairs for i in pair})
        self.store.add_clips([clips[i] for i in chosen])
        ids = self.store.add_queries(
            [(clips[i].uid, clips[j].uid) for i, j in index_pairs], round=round_index
        )
        return [self.store.get_query(query_id) for query_id in ids]

    def answer(self, queries: list[Query]) -> None:
        """Have the teacher answer the queries not yet answered; every answer is committed."""
        pending = self.store.pending_queries(query_ids=[q.id for q in queries])
        if not pending:
            return
        if self.config.teacher == "store":
            self._wait_for_store(pending)
        elif self.config.teacher == "human":
            from human_ui.app import label_queries  # the window, only when a person labels

            label_queries(self.store.path, [q.id for q in pending], annotator=self.config.annotator)
        else:
            pairs = [self.store.pair(q) for q in pending]
            if self.teacher is None:  # thresholds scaled by the first queried clips' returns
                self.teacher = self._scripted_teacher([c for p in pairs for c in (p.left, p.right)])
            answers: list[Answer] = self.teacher.label(pairs)
            for query, answer in zip(pending, answers, strict=True):
                self.store.add_answer(query.id, answer)

    def _wait_for_store(self, pending: list[Query]) -> None:
        self.progress.note(waiting=f"0/{len(pending)} answers")

        def show(answered: int, total: int) -> None:
            self.progress.note(waiting=f"{answered}/{total} answers")

        timeout = self.config.wait_timeout or None
        got = self.store.wait_for_answers([q.id for q in pending], timeout_s=timeout, progress=show)
        self.progress.note(waiting=None)
        if len(got) < len(pending):
            raise ConfigError(
                f"{len(pending) - len(got)} queries got no answer within --wait-timeout "
                f"{self.config.wait_timeout} s; answer them with `hfrl label "
                f"{self.run.store_path}` and resume with `hfrl train --resume {self.run.root}`"
            )

    def refit_reward_model(self) -> Any:
        """Fit the reward model on every answer in the store; return the fit report."""
        assert self.reward_model is not None
        self.last_fit = self.reward_model.fit(self.store.labelled_pairs(), self.rng)
        self.reward_model_fitted = True
        self.progress.note(labels=self.labels_used(), val_acc=self.last_fit.val_accuracy)
        return self.last_fit

    @property
    def rollout_steps(self) -> int:
        """Env steps PPO collects per update (``n_steps * num_envs``)."""
        return int(self.ppo.n_steps * self.train_venv.num_envs)

    def train_ppo(self, num_env_steps: int) -> None:
        """Continue PPO for ``num_env_steps`` on the current reward."""
        if num_env_steps <= 0:
            return
        self.harvester.step_offset = self.env_steps - self.ppo.num_timesteps
        self.ppo.learn(
            num_env_steps,
            callback=[self.harvester, self.progress]
            + ([self.kl_penalty] if self.kl_penalty is not None else []),
            reset_num_timesteps=False,
            tb_log_name="ppo",
        )
        self.env_steps = self.harvester.step_offset + self.ppo.num_timesteps
        self.run.append_episodes(self.harvester.pop_episodes())

    def evaluate(self) -> Evaluation:
        """True (and goal) return of the current policy over ``eval_episodes`` episodes."""
        result = evaluate_policy_returns(
            self.ppo,
            self.config.env,
            num_episodes=self.config.eval_episodes,
            seed=10_000 + self.config.seed,
            goal=self.config.goal,
        )
        self.progress.note(true_return=result.true_mean)
        return result

    def labels_used(self) -> int:
        """Queries answered so far (skips included: they cost the teacher's time)."""
        return int(self.store.counts()["answered"])

    def checkpoint(self, round_index: int, evaluation: Evaluation, labels_round: int) -> None:
        """Save the policy, the reward model, the round's metrics and the resume state."""
        self.ppo.save(str(self.run.policy_path))
        if self.reward_model is not None:
            self.reward_model.save(self.run.reward_model_dir)
        fit = self.last_fit
        self.run.append_metrics(
            {
                "round": round_index,
                "env_steps": self.env_steps,
                "labels_used": self.labels_used(),
                "labels_round": labels_round,
                "val_accuracy": getattr(fit, "val_accuracy", ""),
                "val_loss": getattr(fit, "val_loss", ""),
                "true_return_mean": evaluation.true_mean,
                "true_return_std": evaluation.true_std,
                "goal_return_mean": evaluation.goal_mean,
                "fit_seconds": getattr(fit, "seconds", ""),
                "wall_seconds": self.wall_seconds(),
            }
        )
        self.next_round = round_index + 1
        self.run.write_json(
            self.run.state_path,
            {
                "next_round": self.next_round,
                "env_steps": self.env_steps,
                "ppo_steps": self.ppo.num_timesteps,
                "wall_seconds": self.wall_seconds(),
            },
        )

    def wall_seconds(self) -> float:
        """Wall time of the run, earlier sessions of a resumed run included."""
        return self.wall_before + time.monotonic() - self.started

    def close(self) -> None:
        """Close the envs, the store and the progress bar."""
        self.progress.close()
        self.train_venv.close()
        self.store.close()

"""What the lessons share: their options, explanations, PPO runs that are tracked, figures.

Classes:
    LessonArgs: the options every lesson takes (``--out``, ``--quick``, ``--seed``).
    Episodes: whole evaluation episodes of a policy, batched.
    ReturnTracker: an SB3 callback that evaluates the policy every so many env steps.

Functions:
    explain: print a lesson's plain-language explanation, wrapped.
    run_episodes: run a policy for whole episodes side by side (sampled actions).
    tracked_ppo: PPO on a reward (learned, constant or the env's), evaluated as it learns.
    cloned_policy: a PPO whose policy is cloned from demonstrations.
    fit_reward_model: a reward model fit on labelled pairs.
    label_pairs: post pairs of clips to a store and have a scripted teacher answer them.
    lesson_labels: the answered pairs of a lesson's store, filled on first use.
    save_figure: write a matplotlib figure and close it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

from agents.bc import behaviour_clone
from agents.evaluate import Episodes, run_episodes
from agents.ppo import make_ppo, ppo_settings
from agents.vec_learned_reward import VecLearnedReward
from hfrl_gym.answers import Answer
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.envs import make_env
from hfrl_gym.errors import ConfigError
from hfrl_gym.queries import uniform_pairs
from hfrl_gym.reward_model import RewardModel
from hfrl_gym.store import LabelStore
from hfrl_gym.wrappers.learned_reward import BatchRewardFunction


@dataclass(frozen=True)
class LessonArgs:
    """Options every lesson takes.

    Attributes:
        out: folder for the lesson's figures and files.
        quick: a tiny budget (for tests and a first try): the figures are drawn, the
            learning is not meant to succeed.
        seed: seeds everything random in the lesson.
        extra: the lesson's own options, by name.

    Example:
        >>> args = LessonArgs(Path("lessons/x"), quick=True)
        >>> args.budget(12_000, 512), args.ppo_overrides["n_steps"]
        (512, 32)
    """

    out: Path
    quick: bool = False
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def budget(self, full: int, quick: int) -> int:
        """``quick`` with ``--quick``, else ``full``."""
        return quick if self.quick else full

    @property
    def ppo_overrides(self) -> dict[str, Any] | None:
        """With ``--quick``, short rollouts and few epochs (PPO's tuned rollouts of 4,096
        steps would alone take longer than the whole quick run); else ``None``."""
        return {"n_steps": 32, "batch_size": 64, "n_epochs": 2} if self.quick else None


def explain(title: str, text: str) -> None:
    """Print a lesson's title and its explanation, wrapped to 88 columns."""
    print(f"\n== {title} ==\n")
    for paragraph in textwrap.dedent(text).strip().split("\n\n"):
        print(textwrap.fill(" ".join(paragraph.split()), width=88))
        print()


def note(text: str) -> None:
    """Print one progress line at once (lessons take a minute or two)."""
    print(f"  .. {text}", flush=True)


class ReturnTracker(BaseCallback):
    """Evaluate the policy at the start and every ``every`` env steps of ``learn``.

    Each evaluation appends ``(env_steps, episodes)`` to :attr:`points`; what to read from
    the episodes (true, goal or learned return) is up to the lesson.

    Args:
        env_id: the suite env to evaluate in.
        every: env steps between evaluations.
        num_episodes: evaluation episodes (seeds ``seed, seed + 1, ...``, the same each time).
        seed: the first evaluation episode's seed.
        deterministic: evaluate the most likely actions instead of sampled ones.

    Example:
        >>> from agents.ppo import make_ppo
        >>> from stable_baselines3.common.vec_env import DummyVecEnv
        >>> ppo = make_ppo(DummyVecEnv([lambda: make_env("hfrl/CartPole-v0")]), "hfrl/CartPole-v0",
        ...                seed=0, device="cpu", overrides={"n_steps": 32, "n_epochs": 1})
        >>> tracker = ReturnTracker("hfrl/CartPole-v0", every=32, num_episodes=1, seed=0)
        >>> _ = ppo.learn(64, callback=tracker)
        >>> [step for step, _ in tracker.points]
        [0, 32, 64]
    """

    def __init__(
        self, env_id: str, *, every: int, num_episodes: int, seed: int, deterministic: bool = False
    ) -> None:
        super().__init__()
        self.env_id, self.every = env_id, every
        self.num_episodes, self.seed, self.deterministic = num_episodes, seed, deterministic
        self.points: list[tuple[int, Episodes]] = []
        self._next = 0

    def evaluate(self) -> None:
        """Evaluate now."""
        episodes = run_episodes(
            self.model,
            self.env_id,
            num_episodes=self.num_episodes,
            seed=self.seed,
            deterministic=self.deterministic,
        )
        self.points.append((int(self.num_timesteps), episodes))
        self._next = self.num_timesteps + self.every

    def _on_training_start(self) -> None:
        if not self.points:
            self.evaluate()

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self.evaluate()
        return True

    def _on_training_end(self) -> None:
        if self.points[-1][0] != self.num_timesteps:
            self.evaluate()


def _train_critic_only(ppo: PPO, num_env_steps: int) -> None:
    """PPO updates with every actor parameter frozen: only the value network learns."""
    policy = ppo.policy
    actor = [*policy.mlp_extractor.policy_net.parameters(), *policy.action_net.parameters()]
    if isinstance(getattr(policy, "log_std", None), torch.nn.Parameter):
        actor.append(policy.log_std)
    for parameter in actor:
        parameter.requires_grad_(False)
    try:
        ppo.learn(num_env_steps)
    finally:
        for parameter in actor:
            parameter.requires_grad_(True)


def tracked_ppo(
    env_id: str,
    reward: BatchRewardFunction | None,
    *,
    num_env_steps: int,
    seed: int,
    num_evaluations: int = 8,
    num_episodes: int = 5,
    callbacks: Sequence[BaseCallback] = (),
    start_from: PPO | None = None,
    critic_warmup_steps: int = 0,
    train_env: Callable[[], gym.Env] | None = None,
    overrides: dict[str, Any] | None = None,
    deterministic: bool = False,
) -> tuple[PPO, ReturnTracker]:
    """Train PPO on ``reward`` (``None``: the env's own reward) and evaluate as it learns.

    Args:
        env_id: a suite env; PPO uses its tuned settings (``agents.ppo``).
        reward: the reward PPO sees (a reward model, ``ConstantReward``), or ``None``.
        num_env_steps: PPO's env steps.
        seed: seeds the envs and PPO.
        num_evaluations: evaluations after the first one, evenly spread.
        num_episodes: episodes per evaluation.
        callbacks: more SB3 callbacks (a KL penalty, say).
        start_from: copy this PPO's policy weights before training (a pretrained policy).
        critic_warmup_steps: first train only the value network for this many env steps
            (a cloned policy comes with an untrained critic, whose noisy advantages would
            wreck the policy in PPO's first updates).
        train_env: makes each training sub-env (default: the suite env); evaluation is
            always in the suite env.
        overrides: PPO keyword arguments that replace the env's tuned ones.
        deterministic: evaluate the most likely actions (for Pendulum, whose exploration
            noise alone makes it spin) instead of sampled ones.

    Returns:
        The trained PPO and the tracker holding the evaluations.
    """
    factory = train_env or (lambda: make_env(env_id))
    venv = DummyVecEnv([lambda: Monitor(factory())] * ppo_settings(env_id).num_envs)
    venv.seed(seed)
    train_venv = venv if reward is None else VecLearnedReward(venv, reward)
    ppo = make_ppo(train_venv, env_id, seed=seed, device="cpu", overrides=overrides)
    if start_from is not None:
        ppo.policy.load_state_dict(start_from.policy.state_dict())
    if critic_warmup_steps > 0:
        _train_critic_only(ppo, critic_warmup_steps)
    tracker = ReturnTracker(
        env_id,
        every=max(1, num_env_steps // num_evaluations),
        num_episodes=num_episodes,
        seed=10_000 + seed,
        deterministic=deterministic,
    )
    try:
        ppo.learn(num_env_steps, callback=[tracker, *callbacks])
    finally:
        train_venv.close()
    return ppo, tracker


def cloned_policy(env_id: str, demos: Sequence[Clip], *, seed: int) -> tuple[PPO, float]:
    """A PPO (the env's tuned architecture) whose policy is cloned from ``demos``.

    Returns:
        The PPO and the clone's agreement with the demonstrator on held-out clips (on the
        training clips when there are too few to hold some out).
    """
    env = make_env(env_id)
    ppo = make_ppo(DummyVecEnv([lambda: env]), env_id, seed=seed, device="cpu")
    report = behaviour_clone(ppo.policy, demos, rng=np.random.default_rng(seed))
    agreement = report.val_agreement if report.val_agreement is not None else report.train_agreement
    return ppo, agreement


def fit_reward_model(
    env_id: str, labelled: Sequence[tuple[ClipPair, Answer]], *, seed: int
) -> RewardModel:
    """A 3-member reward model of ``env_id`` fit on answered pairs (on the CPU)."""
    env = make_env(env_id)
    model = RewardModel(
        env.observation_space, env.action_space, env_id=env_id, device="cpu", seed=seed
    )
    env.close()
    model.fit(labelled, np.random.default_rng(seed))
    return model


def label_pairs(
    store: LabelStore,
    clips: Sequence[Clip],
    num_pairs: int,
    teacher: Any,
    rng: np.random.Generator,
) -> list[int]:
    """Store clips, post ``num_pairs`` uniform pairs of them, let ``teacher`` answer.

    Returns:
        The query ids posted.
    """
    store.add_clips(clips)
    index_pairs = uniform_pairs(clips, num_pairs, rng)
    ids = store.add_queries([(clips[i].uid, clips[j].uid) for i, j in index_pairs])
    if teacher is not None:
        answers = teacher.label([store.pair(qid) for qid in ids])
        for qid, answer in zip(ids, answers, strict=True):
            store.add_answer(qid, answer)
    return ids


def lesson_labels(
    out: Path, fill: Callable[[LabelStore], None], *, goal: str | None = None
) -> list[tuple[ClipPair, Answer]]:
    """The answered pairs of the lesson's store ``out/labels.sqlite``, filled on first use.

    A store that already holds queries (an earlier run, or a person's answers) is used as
    it is, never overwritten: pass another ``--out`` (or delete the file) to start afresh.

    Args:
        out: the lesson's folder (created).
        fill: posts and answers queries in a new, empty store.
        goal: when given, it is recorded in a new store, and a store of another goal is
            refused (``ConfigError``).
    """
    out.mkdir(parents=True, exist_ok=True)
    path = out / "labels.sqlite"
    with LabelStore(path) as store:
        if store.counts()["queries"] == 0:
            if goal is not None:
                store.set_meta("goal", goal)
            fill(store)
        else:
            stored_goal = store.get_meta("goal")
            if goal is not None and stored_goal not in (None, goal):
                raise ConfigError(
                    f"{path} holds answers about the goal {stored_goal!r}, not {goal!r}; "
                    "pass another --out"
                )
            note(f"using the labels already in {path} (another --out starts afresh)")
        return store.labelled_pairs()


def save_figure(fig: Figure, path: Path) -> Path:
    """Save ``fig`` as a PNG at ``path`` (its folder created) and close it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

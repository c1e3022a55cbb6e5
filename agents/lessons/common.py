"""What the lessons share: their options and explanations, the loop's parts set up for a
lesson, and figures.

The lessons run on the parts of ``hfrl train``'s loop (``agents.rlhf_loop``), not on a copy of
them: pairs are chosen by ``PairSelector`` and posted by ``post_pairs``, a teacher answers
through ``TeacherAnswerer``, a reward model is made by ``new_reward_model`` and fit by
``RewardFitter``, and PPO is a ``PPOAgent`` on ``make_training_venv``'s envs with
``PPOHyperparameters``. A lesson's own are the evaluations as PPO learns (a
``ReturnTracker``, one of the agent's ``extra_callbacks``), the start from a cloned policy,
and the figures.

Classes:
    LessonArgs: the options every lesson takes (``--out``, ``--quick``, ``--seed``).
    Episodes: whole evaluation episodes of a policy, batched.
    ReturnTracker: an SB3 callback that evaluates the policy every so many env steps.

Functions:
    explain: print a lesson's plain-language explanation, wrapped.
    note: print one progress line.
    run_episodes: run a policy for whole episodes side by side (sampled actions).
    lesson_agent: the loop's PPO agent on a reward (learned, constant or the env's), on the CPU.
    start_from: start an agent from a pretrained policy, its critic warmed up first.
    train_tracked: train an agent once, evaluated as it learns.
    cloned_policy: a PPO whose policy is cloned from demonstrations.
    uniform_queries: post pairs drawn uniformly from all of the clips.
    post_swapped: post queries again with their clips swapped.
    ask_teacher: post uniform pairs of the clips and have a teacher answer them.
    fit_reward_model: a reward model fit on labelled pairs by the loop's ``RewardFitter``.
    lesson_labels: the answered pairs of a lesson's store, filled on first use.
    save_figure: write a matplotlib figure and close it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import textwrap
from collections.abc import Callable, Mapping, Sequence
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

from agents.answerers import TeacherAnswerer, WindowFactory
from agents.bc import behaviour_clone
from agents.evaluate import Episodes, run_episodes
from agents.pair_selector import PairSelector, post_pairs
from agents.ppo import PPOHyperparameters, make_training_venv, ppo_settings, untrained_ppo
from agents.ppo_agent import PPOAgent
from agents.reward_fitter import RewardFitter, new_reward_model
from hfrl_gym.answers import Answer
from hfrl_gym.clips import Clip, ClipPair
from hfrl_gym.envs import make_env
from hfrl_gym.errors import ConfigError
from hfrl_gym.reward_model import RewardModel
from hfrl_gym.store import LabelStore, Query
from hfrl_gym.teachers import Teacher
from hfrl_gym.wrappers.learned_reward import BatchRewardFunction

CLIP_STEPS = 50
"""Steps per clip that a lesson agent's envs record (as in a run; no lesson reads them)."""


@dataclass(frozen=True)
class LessonArgs:
    """Options every lesson takes.

    Attributes:
        out: folder for the lesson's figures and files.
        quick: a tiny budget (for tests and a first try): the figures are drawn, the
            learning is not meant to succeed.
        seed: seeds everything random in the lesson.
        extra: the lesson's own options, by name.
        window_answerer: makes the comparison window's answerer when a person labels
            (handed in by the ``hfrl`` command; ``None``: no window can be opened).

    Example:
        >>> args = LessonArgs(Path("lessons/x"), quick=True)
        >>> args.budget(12_000, 512), args.quick_ppo("hfrl/CartPole-v0").n_steps
        (512, 32)
    """

    out: Path
    quick: bool = False
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    window_answerer: WindowFactory | None = None

    def budget(self, full: int, quick: int) -> int:
        """``quick`` with ``--quick``, else ``full``."""
        return quick if self.quick else full

    def quick_ppo(self, env_id: str) -> PPOHyperparameters | None:
        """With ``--quick``, ``env_id``'s PPO settings with short rollouts and few epochs
        (PPO's tuned rollouts of 4,096 steps would alone take longer than the whole quick
        run); else ``None`` (the lesson's own settings, or the env's)."""
        if not self.quick:
            return None
        tuned = ppo_settings(env_id).ppo
        return dataclasses.replace(tuned, n_steps=32, batch_size=64, n_epochs=2)


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
        >>> from agents.ppo import PPOHyperparameters, make_ppo
        >>> from stable_baselines3.common.vec_env import DummyVecEnv
        >>> venv = DummyVecEnv([lambda: make_env("hfrl/CartPole-v0")])
        >>> quick = PPOHyperparameters(n_steps=32, batch_size=32, n_epochs=1)
        >>> ppo = make_ppo(venv, "hfrl/CartPole-v0", seed=0, device="cpu", hyperparameters=quick)
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


def lesson_agent(
    env_id: str,
    reward: BatchRewardFunction | None,
    *,
    seed: int,
    hyperparameters: PPOHyperparameters | None = None,
    env_factory: Callable[[], gym.Env] | None = None,
    absorbing_steps: int = 0,
) -> PPOAgent:
    """The loop's agent (``PPOAgent``) for a lesson: PPO on ``reward``, on the CPU.

    Its envs are the loop's (``make_training_venv``, seeded by ``seed``). A lesson trains an
    agent once (:func:`train_tracked`), so there is no run budget: PPO's schedules span that
    one ``train``.

    Args:
        env_id: a suite env; PPO uses its tuned settings (``agents.ppo``).
        reward: the reward PPO sees (a reward model, ``ConstantReward``), or ``None`` for
            the env's own.
        seed: seeds the envs, PPO and the evaluations.
        hyperparameters: PPO's settings (default: the env's); see :meth:`LessonArgs.quick_ppo`.
        env_factory: makes each training sub-env in place of the suite env (evaluation is
            always in the suite env).
        absorbing_steps: training episodes end this many steps into an absorbing state
            (``TruncateAbsorbed``, as ``hfrl train --absorbing-steps``); 0: never.
    """
    venv = make_training_venv(
        env_id,
        num_envs=ppo_settings(env_id).num_envs,
        seed=seed,
        clip_num_steps=CLIP_STEPS,
        env_factory=env_factory,
        absorbing_steps=absorbing_steps,
    )
    return PPOAgent(
        env_id,
        venv,
        reward,
        seed=seed,
        device="cpu",
        env_step_budget=None,
        hyperparameters=hyperparameters,
    )


def start_from(agent: PPOAgent, pretrained: PPO, *, critic_warmup_steps: int) -> None:
    """Copy ``pretrained``'s policy weights into ``agent``, then warm up its critic.

    A cloned policy comes with an untrained critic, whose noisy advantages would wreck the
    policy in PPO's first updates: for ``critic_warmup_steps`` env steps PPO updates only the
    value network (every actor parameter frozen). The warm-up is not counted: the agent's
    training then starts at step 0, its schedules from the start, in freshly reset envs.
    """
    ppo = agent.ppo
    ppo.policy.load_state_dict(pretrained.policy.state_dict())
    if critic_warmup_steps <= 0:
        return
    policy = ppo.policy
    actor = [*policy.mlp_extractor.policy_net.parameters(), *policy.action_net.parameters()]
    if isinstance(getattr(policy, "log_std", None), torch.nn.Parameter):
        actor.append(policy.log_std)
    for parameter in actor:
        parameter.requires_grad_(False)
    try:
        ppo.learn(critic_warmup_steps)
    finally:
        for parameter in actor:
            parameter.requires_grad_(True)
    ppo.num_timesteps = 0
    ppo.set_env(agent.train_venv)  # the next learn() resets the envs


def train_tracked(
    agent: PPOAgent,
    num_env_steps: int,
    *,
    num_evaluations: int,
    num_episodes: int,
    deterministic: bool = False,
) -> ReturnTracker:
    """Train ``agent`` for ``num_env_steps``, evaluated as it learns; then close its envs.

    Args:
        agent: the agent (:func:`lesson_agent`); its other ``extra_callbacks`` (a KL
            penalty, say) run after the evaluations.
        num_env_steps: PPO's env steps.
        num_evaluations: evaluations after the first one, evenly spread.
        num_episodes: episodes per evaluation (seeds from ``10_000 + agent.seed``).
        deterministic: evaluate the most likely actions (for Pendulum, whose exploration
            noise alone makes it spin) instead of sampled ones.

    Returns:
        The tracker holding the evaluations.

    Example:
        >>> from agents.rewards import ConstantReward
        >>> quick = PPOHyperparameters(n_steps=8, batch_size=64, n_epochs=1)
        >>> agent = lesson_agent(
        ...     "hfrl/CartPole-v0", ConstantReward(), seed=0, hyperparameters=quick)
        >>> tracker = train_tracked(agent, 128, num_evaluations=2, num_episodes=1)
        >>> [step for step, _ in tracker.points], tracker.points[0][1].true_rewards.shape
        ([0, 64, 128], (1, 500))
    """
    tracker = ReturnTracker(
        agent.env_id,
        every=max(1, num_env_steps // num_evaluations),
        num_episodes=num_episodes,
        seed=10_000 + agent.seed,
        deterministic=deterministic,
    )
    agent.extra_callbacks.insert(0, tracker)
    try:
        agent.train(num_env_steps, round_index=0)
    finally:
        agent.close()
    return tracker


def cloned_policy(env_id: str, demos: Sequence[Clip], *, seed: int) -> tuple[PPO, float]:
    """A PPO (the env's tuned architecture) whose policy is cloned from ``demos``.

    Returns:
        The PPO and the clone's agreement with the demonstrator on held-out clips (on the
        training clips when there are too few to hold some out).
    """
    ppo = untrained_ppo(env_id, seed=seed)
    report = behaviour_clone(ppo.policy, demos, rng=np.random.default_rng(seed))
    agreement = report.val_agreement if report.val_agreement is not None else report.train_agreement
    return ppo, agreement


def fit_reward_model(
    env_id: str, labelled: Sequence[tuple[ClipPair, Answer]], *, seed: int
) -> RewardModel:
    """A new 3-member reward model of ``env_id``, fit on answered pairs (on the CPU).

    The loop's parts: ``new_reward_model`` makes it, ``RewardFitter`` fits it.
    """
    env = make_env(env_id)
    model = new_reward_model(env_id, env, num_members=3, device="cpu", seed=seed)
    env.close()
    fitter = RewardFitter(model, np.random.default_rng(seed), fitted=False)
    fitter.fit_pairs(labelled)
    return fitter.model


def uniform_queries(
    store: LabelStore, clips: Sequence[Clip], num_pairs: int, rng: np.random.Generator
) -> list[Query]:
    """Post ``num_pairs`` pairs drawn uniformly from all of ``clips`` (the loop's
    ``PairSelector``, without its spread-out subset, and ``post_pairs``)."""
    pairs = PairSelector("uniform", rng, diverse=False).select(clips, num_pairs)
    return post_pairs(store, 0, pairs)


def post_swapped(store: LabelStore, queries: Sequence[Query]) -> list[Query]:
    """Post ``queries`` again with their clips swapped (does a person answer the same?)."""
    ids = store.add_queries([(q.right_uid, q.left_uid) for q in queries])
    return [store.get_query(query_id) for query_id in ids]


def ask_teacher(
    store: LabelStore,
    clips: Sequence[Clip],
    num_pairs: int,
    teacher: Teacher,
    rng: np.random.Generator,
) -> list[Query]:
    """Post ``num_pairs`` uniform pairs of ``clips`` and have ``teacher`` answer them (the
    loop's ``TeacherAnswerer``); return the queries."""
    queries = uniform_queries(store, clips, num_pairs, rng)
    TeacherAnswerer(teacher).answer(store, queries)
    return queries


def lesson_labels(
    out: Path,
    fill: Callable[[LabelStore], None],
    *,
    goal: str | None = None,
    settings: Mapping[str, object] | None = None,
) -> list[tuple[ClipPair, Answer]]:
    """The answered pairs of the lesson's store ``out/labels.sqlite``, filled on first use.

    A store that already holds queries (an earlier run, or a person's answers) is used as
    it is, never overwritten: pass another ``--out`` (or delete the file) to start afresh.
    With ``settings``, the store's labels are valid only for the settings that made them:
    a store the lesson made with other settings (another ``--seed``, ``--labels``) is made
    again, and a store without recorded settings (a person's, an older lesson's) is
    refused with one clear error, never overwritten.

    Args:
        out: the lesson's folder (created).
        fill: posts and answers queries in a new, empty store.
        goal: when given, it is recorded in a new store, and a store of another goal is
            refused (``ConfigError``).
        settings: what the scripted labels depend on (JSON values by name); recorded in a
            new store and compared with an existing one's.
    """
    out.mkdir(parents=True, exist_ok=True)
    path = out / "labels.sqlite"
    wanted = None if settings is None else json.loads(json.dumps(dict(settings), sort_keys=True))
    with LabelStore(path) as store:
        if store.counts()["queries"] == 0:
            _fill_new(store, fill, goal, wanted)
            return store.labelled_pairs()
        stored_goal = store.get_meta("goal")
        if goal is not None and stored_goal not in (None, goal):
            raise ConfigError(
                f"{path} holds answers about the goal {stored_goal!r}, not {goal!r}; "
                "pass another --out"
            )
        made_with = store.get_meta(SETTINGS_META)
        done = store.get_meta(DONE_META, False)
        if wanted is None or (made_with == wanted and done):
            note(f"using the labels already in {path} (another --out starts afresh)")
            return store.labelled_pairs()
        if made_with is None:
            raise ConfigError(
                f"{path} holds labels this lesson did not make (a person's, or an older "
                f"version's), so they may not match {_settings_text(wanted)}; "
                "pass another --out, or delete that file to make new ones"
            )
    why = "were cut short" if made_with == wanted else f"were made with {_settings_text(made_with)}"
    note(f"the labels in {path} {why}; making new ones for {_settings_text(wanted)}")
    temp = out / f".labels.{os.getpid()}.sqlite"
    temp.unlink(missing_ok=True)
    with LabelStore(temp) as store:
        _fill_new(store, fill, goal, wanted)
    os.replace(temp, path)
    with LabelStore(path, create=False) as store:
        return store.labelled_pairs()


SETTINGS_META = "lesson_settings"
"""Store meta: the settings a lesson made the store's labels with (recorded before filling)."""
DONE_META = "lesson_labels_done"
"""Store meta: ``True`` once the lesson has filled the store."""


def _fill_new(
    store: LabelStore,
    fill: Callable[[LabelStore], None],
    goal: str | None,
    settings: dict[str, object] | None,
) -> None:
    if goal is not None:
        store.set_meta("goal", goal)
    if settings is not None:
        store.set_meta(SETTINGS_META, settings)
    fill(store)
    if settings is not None:  # a store cut short is made again, never taken as made
        store.set_meta(DONE_META, True)


def _settings_text(settings: Mapping[str, object]) -> str:
    """``--labels 10 --seed 1`` for ``{"labels": 10, "seed": 1}``."""
    return " ".join(f"--{key.replace('_', '-')} {value}" for key, value in settings.items())


def save_figure(fig: Figure, path: Path) -> Path:
    """Save ``fig`` as a PNG at ``path`` (its folder created) and close it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

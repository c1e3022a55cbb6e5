"""The RLHF loop of Christiano et al. (2017), built from small parts.

Functions:
    run_rounds: the rounds, given the parts (the paper's loop).
    build_parts: the parts of a run from its config (new, or restored from its folder).
    train: run (or resume) a training run; RLHF, or a baseline with the same budget.

Classes:
    Learner, RewardFit, Checkpoint: what the loop needs of the agent, the reward fitter and
        the run checkpoint (``PPOAgent``, ``SACAgent`` or ``DQNAgent``; ``RewardFitter``;
        ``RunCheckpoint``).
    LoopParts: the parts one run's loop calls.

Each round: the clips of the latest experience (round 0: of the untrained policy) -> pairs
chosen -> posted to the store as queries -> an answerer answers them -> the reward model is
refit on every answer so far -> PPO continues on the new learned reward -> the policy is
evaluated on the true reward and everything is saved. A baseline (``reward`` = true, constant,
random) runs the same rounds with no labels, so its curves line up with RLHF's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from agents.algorithms import rollout_shape
from agents.answerers import Answerer, ScriptedAnswerer, StoreAnswerers
from agents.callbacks import Progress
from agents.checkpoint import RunCheckpoint, RunState, WallClock
from agents.config import TrainConfig, ensure_writable
from agents.disagreement_bonus import DisagreementBonus
from agents.evaluate import Evaluation
from agents.faults import phase_hook_from_env, with_phase_hook
from agents.kl_penalty import kl_penalty_for_run
from agents.offpolicy_agent import OFF_POLICY_AGENTS
from agents.pair_selector import PairSelector, asked_clips, post_pairs
from agents.plan import RunPlan
from agents.policy_file import read_policy
from agents.ppo import make_training_venv
from agents.ppo_agent import PPOAgent
from agents.reward_fitter import RewardFitter, Spaces, fit_config, new_reward_model
from agents.rewards import ConstantReward, GoalReward
from agents.rounds_agent import RoundsAgent
from agents.run_folder import RunFolder
from agents.status_hooks import StatusReporter, with_status
from agents.summary import finish_run
from hfrl_gym.clips import Clip
from hfrl_gym.envs import get_goal
from hfrl_gym.errors import ConfigError
from hfrl_gym.queries import MIN_DIFFERENCE
from hfrl_gym.reward_model import RewardModel
from hfrl_gym.reward_model.checkpoint import check_matches, read_checkpoint
from hfrl_gym.reward_model.net import resolve_device
from hfrl_gym.run_status import Phase, StatusWriter
from hfrl_gym.store import LabelStore

PERTURB_LEVELS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
"""Chances of a random action in the perturbed recordings, one per sub-env in turn
(``--perturb-fraction``): the current policy and five ever noisier versions of it."""


class Learner(Protocol):
    """The agent: learns on the current reward, records clips, is evaluated."""

    def record(
        self,
        num_env_steps: int,
        *,
        round_index: int,
        clip_num_steps: int,
        random_actions: Sequence[float] = (),
    ) -> list[Clip]:
        """Clips of the current policy, acting without learning (with ``random_actions``,
        sub-env ``i`` takes a random action with probability ``random_actions[i % len]``)."""
        ...

    def explore(self, num_env_steps: int, *, round_index: int) -> list[Clip]:
        """Learn to visit new states (no reward of the task); return the clips of it."""
        ...

    def train(self, num_env_steps: int, *, round_index: int) -> None:
        """Learn for ``num_env_steps`` on the current reward."""
        ...

    def harvested_clips(self) -> list[Clip]:
        """Clips of the experience since the last call."""
        ...

    def evaluate(self) -> Evaluation:
        """True return of the current policy."""
        ...


class RewardFit(Protocol):
    """The reward fitter: refits on every answer in the store."""

    def fit(self, store: LabelStore, *, probe: Sequence[Clip] = ()) -> Any:
        """Refit; return the fit's report (``probe``: the round's clips, to measure on)."""
        ...


class Checkpoint(Protocol):
    """Saves a finished round so the run can resume after it."""

    def save(self, round_index: int, evaluation: Evaluation, *, labels_round: int) -> Any:
        """Save the round's results."""
        ...


@dataclass(frozen=True)
class LoopParts:
    """What one run's loop calls; :func:`build_parts` makes them from a config."""

    store: LabelStore
    agent: Learner
    pairs: PairSelector
    answerer: Answerer | None
    reward: RewardFit | None
    checkpoint: Checkpoint
    clip_num_steps: int


def run_rounds(parts: LoopParts, plan: RunPlan, *, first_round: int = 0) -> None:
    """Run rounds ``first_round`` .. ``plan.num_rounds - 1`` (Christiano et al. 2017, sec. 2.2).

    A resumed round reuses the queries it had posted; answered ones are never asked again.
    """
    store, agent = parts.store, parts.agent
    clips: list[Clip] = []  # the first round of this process records its own
    for k in range(first_round, plan.num_rounds):
        ppo_steps = plan.ppo_env_steps[k]
        if plan.labels[k] > 0:
            assert parts.answerer is not None
            assert parts.reward is not None
            queries = store.queries(round=k)
            if not queries:
                if not clips:
                    clips, ppo_steps = _first_clips(parts, plan, k)
                queries = post_pairs(store, k, parts.pairs.select(clips, plan.labels[k]))
            parts.answerer.answer(store, queries)  # (1) people or teachers compare clips
            parts.reward.fit(store, probe=clips)  # (2) the reward model, on every answer
        agent.train(ppo_steps, round_index=k)  # (3) RL on the learned reward
        clips = agent.harvested_clips()
        if k in plan.perturb_rounds:  # and clips near the policy, for the next queries
            clips += agent.record(
                plan.perturb_env_steps,
                round_index=k,
                clip_num_steps=parts.clip_num_steps,
                random_actions=PERTURB_LEVELS,
            )
        parts.checkpoint.save(k, agent.evaluate(), labels_round=plan.labels[k])


def _first_clips(parts: LoopParts, plan: RunPlan, k: int) -> tuple[list[Clip], int]:
    """Clips for the first queries this process posts, and what is left of round ``k``'s PPO.

    Round 0 explores (PEBBLE) or records the untrained policy, as planned. A resumed process
    lost the clips of the round before: it records the current policy, and those env steps
    come out of the round's PPO steps, so the run stays within its budget.
    """
    if k == 0 and plan.explore_env_steps > 0:
        return parts.agent.explore(plan.explore_env_steps, round_index=k), plan.ppo_env_steps[k]
    steps = plan.record_env_steps
    clips = parts.agent.record(steps, round_index=k, clip_num_steps=parts.clip_num_steps)
    if k == 0:  # planned: round 0's recording is in the budget already
        return clips, plan.ppo_env_steps[k]
    return clips, plan.ppo_steps_after_recording(k, steps)


def plan_run(config: TrainConfig) -> RunPlan:
    """The budget of ``config``'s rounds (``ConfigError`` with the arithmetic if it cannot)."""
    num_envs, rollout_env_steps = rollout_shape(config.env, config.algo)
    return RunPlan.create(
        num_labels=config.labels if config.reward == "learned" else 0,
        num_env_steps=config.steps,
        num_rounds=config.rounds,
        label_decay=config.label_decay,
        initial_env_steps=config.initial_steps,
        rollout_env_steps=rollout_env_steps,
        explore_env_steps=int(config.explore_fraction * config.steps),
        round_growth=config.round_growth,
        perturb_env_steps=int(config.perturb_fraction * config.steps),
        num_envs=num_envs,
    )


def _answerer(
    config: TrainConfig, run: RunFolder, progress: Progress, given: Answerer | None
) -> Answerer:
    if given is not None:
        return given
    if config.teacher == "store":

        def show(answered: int | None, total: int) -> None:
            progress.note(waiting=None if answered is None else f"{answered}/{total} answers")

        return StoreAnswerers(
            timeout_s=config.wait_timeout,
            resume_command=f"hfrl train --resume {run.root}",
            on_progress=show,
        )
    if config.teacher == "human":
        raise ConfigError(
            "--teacher human opens the comparison window, which this entry point was not "
            "given; run it through the `hfrl train` command"
        )
    return ScriptedAnswerer(
        config.teacher,
        env_id=config.env,
        goal=config.goal,
        clip_num_steps=config.clip_steps,
        rng=np.random.default_rng(config.seed + 7),
    )


def _reward_model(
    config: TrainConfig, run: RunFolder, spaces: Spaces, device: str, *, resume: bool
) -> RewardModel:
    """The run's saved reward model when resuming one that has it, else a new one."""
    obs_space, act_space = spaces.observation_space, spaces.action_space
    if resume and run.has_reward_model():
        return RewardModel.load(
            run.reward_model_dir,
            env_id=config.env,
            observation_space=obs_space,
            action_space=act_space,
            device=device,
        )
    return new_reward_model(
        config.env, spaces, num_members=config.ensemble, device=device, seed=config.seed
    )


def _check_saved(run: RunFolder, env_id: str) -> None:
    """Read a resumed run's metrics, policy and reward model before anything is opened or built.

    A damaged, foreign or hostile file is refused here, naming it; nothing is unpickled.
    """
    run.read_metrics()
    policy = run.saved_policy()
    if policy is not None:
        read_policy(policy, env_id=env_id)
    if run.has_reward_model():
        _, meta = read_checkpoint(run.reward_model_dir)
        check_matches(meta, env_id=env_id, observation_space=None, action_space=None)


PEOPLE = ("store", "human")
"""Teachers that are people: they are never asked about two clips that look the same."""


@dataclass(frozen=True)
class _Run:
    parts: LoopParts
    agent: RoundsAgent
    fitter: RewardFitter | None
    checkpoint: RunCheckpoint
    progress: Progress
    state: RunState
    device: str
    status: StatusReporter


def build_parts(
    config: TrainConfig,
    plan: RunPlan,
    *,
    resume: bool,
    show_progress: bool,
    answerer: Answerer | None,
) -> _Run:
    """Make (or restore from ``config.out``) the store, agent, reward fitter and answerer."""
    run = RunFolder(config.out)
    if config.reference:  # a bad --reference is refused before any file is made
        read_policy(config.reference, env_id=config.env)
    ensure_writable(run.root)
    ensure_writable(run.tensorboard_dir)  # SB3's writer would fail only after round 0's labels
    clock = WallClock()
    device = str(resolve_device(config.device))
    rng = np.random.default_rng(config.seed)  # pair selection and fits share it, in order
    state = RunState()  # a run killed before its first checkpoint resumes from round 0
    if resume and run.state_path.exists():
        state = RunState.from_dict(run.read_json(run.state_path))
    clock.before_s = state.wall_seconds
    if resume and not run.store_path.exists():
        raise ConfigError(
            f"{run.store_path} is missing, so the run's labels are lost; put the store back "
            f"(or `hfrl store import` an export of it) before resuming, or start a new run"
        )
    if resume:
        _check_saved(run, config.env)
    venv = make_training_venv(
        config.env,
        num_envs=rollout_shape(config.env, config.algo)[0],
        seed=config.seed + 1000 * state.next_round,
        clip_num_steps=config.clip_steps,
        absorbing_steps=config.absorbing_steps,
    )
    fitter = None
    if config.reward in ("learned", "random"):
        model = _reward_model(config, run, venv, device, resume=resume)
        fitter = RewardFitter(
            model, rng, fitted=resume and run.has_reward_model(), config=fit_config(config.refit)
        )
    reward = fitter and fitter.model
    if config.reward == "learned" and config.disagreement_bonus > 0:
        assert fitter is not None
        reward = DisagreementBonus(
            fitter.model, weight=config.disagreement_bonus, total_env_steps=config.steps
        )
    if config.reward == "constant":
        reward = ConstantReward()
    elif config.reward == "goal":
        reward = GoalReward(get_goal(config.env, config.goal))
    # (``true``: no fitter, so PPO keeps the env's reward)
    writer = StatusWriter(  # status.json: what the run is doing, for windows and pages
        run.root,
        env_id=config.env,
        labels_budget=sum(plan.labels),
        env_steps_budget=config.steps,
        num_rounds=None if config.asynchronous else plan.num_rounds,
        mode="async" if config.asynchronous else "sync",  # agents.async_loop
    )
    progress = Progress(
        config.steps,
        initial=state.env_steps,
        enabled=show_progress,
        on_env_steps=lambda steps: writer.heartbeat(env_steps=steps),
    )
    common = {"seed": config.seed, "device": device, "tensorboard_log": run.tensorboard_dir}
    common |= {"eval_episodes": config.eval_episodes, "goal": config.goal, "progress": progress}
    agent: RoundsAgent
    common["env_step_budget"] = plan.ppo_budget
    if config.algo in OFF_POLICY_AGENTS:  # (validated: no PPO-only settings)
        off_policy = OFF_POLICY_AGENTS[config.algo]
        agent = off_policy(config.env, venv, reward, buffer_path=run.replay_buffer_path, **common)
    else:
        agent = PPOAgent(config.env, venv, reward, **common)
        agent.ppo.hold_schedules = config.ppo_schedule == "hold"
    if resume:
        agent.restore(run.saved_policy(), ppo_steps=state.ppo_steps, env_steps=state.env_steps)
    if isinstance(agent, PPOAgent):
        kl = kl_penalty_for_run(
            agent.ppo,
            kl_coef=config.kl_coef,
            reference=config.reference,
            run_root=run.root,
            resume=resume,
            env_id=config.env,
        )
        if kl is not None:
            agent.extra_callbacks.append(kl)
    # opened once the parts that may refuse the run are made, so a refusal leaves it closed
    store = LabelStore(run.store_path)  # made before config.json: a resumable run has one
    if not resume:
        run.write_json(run.config_path, config.to_dict())
    checkpoint = RunCheckpoint(
        run, agent=agent, fitter=fitter, store=store, clock=clock, progress=progress
    )
    parts = LoopParts(
        store=store,
        agent=agent,
        pairs=PairSelector(
            config.query,
            rng,
            fitter,
            history=store.labelled_pairs if config.avoid_uninformative else None,
            min_difference=MIN_DIFFERENCE if config.teacher in PEOPLE else None,
            earlier=asked_clips(store) if config.revisit else None,
        ),
        answerer=_answerer(config, run, progress, answerer) if fitter is not None else None,
        reward=fitter if config.reward == "learned" else None,
        checkpoint=checkpoint,
        clip_num_steps=config.clip_steps,
    )
    status = StatusReporter(
        writer,
        store=store,
        env_steps=lambda: agent.env_steps,
        refits=lambda: 0 if fitter is None else fitter.model.num_fits,
        resume_command=f"hfrl train --resume {run.root}",
    )
    parts = with_status(parts, status)
    status.report(Phase.STARTING, round_index=state.next_round)
    hook = phase_hook_from_env()  # resume tests kill the run at named phases
    if hook is not None:
        parts = with_phase_hook(parts, hook)
    return _Run(parts, agent, fitter, checkpoint, progress, state, device, status)


def train(
    config: TrainConfig,
    *,
    resume: bool = False,
    show_progress: bool = True,
    answerer: Answerer | None = None,
) -> dict[str, Any]:
    """Run ``config`` to the end (or resume it from ``config.out``) and return its summary.

    Args:
        config: the run's settings (validated).
        resume: continue the run in ``config.out`` from its last finished round.
        show_progress: draw the progress bar.
        answerer: who answers the queries, in place of the one ``config.teacher`` names
            (the command hands in the comparison window for ``--teacher human``).
    """
    plan = plan_run(config)
    built = build_parts(config, plan, resume=resume, show_progress=show_progress, answerer=answerer)
    with closing(built):
        run_rounds(built.parts, plan, first_round=built.state.next_round)
        summary = summarise(config, built)
        built.status.finish()
        return summary


def summarise(config: TrainConfig, built: _Run) -> dict[str, Any]:
    """Write the finished run's ``summary.json`` and return it."""
    return finish_run(
        config,
        built.checkpoint.run,
        labels_used=built.checkpoint.labels_used(),
        env_steps=built.agent.env_steps,
        wall_seconds=built.checkpoint.clock.seconds(),
        device=built.device,
        last_fit=None if built.fitter is None else built.fitter.last_fit,
    )


@contextmanager
def closing(built: _Run, *first: Callable[[], object]) -> Iterator[_Run]:
    """Say when the run stops on an error (the window and the label server show it), and
    close its parts however it ends (``first``: more to close before them)."""
    try:
        yield built
    except BaseException as error:
        built.status.stop(error)
        raise
    finally:
        for close in first:
            close()
        built.progress.close()
        built.agent.close()
        built.parts.store.close()

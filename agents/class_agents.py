"""The end of a live lesson: the class's agent against the oracle's and single students'.

Every agent but the run's own is made as the lessons make theirs (``agents.lessons.common``):
a reward model fit on one set of answers to the class's queries (``fit_reward_model``), then
PPO for the same env steps from the same seed on the run's training envs (``lesson_agent``,
episodes truncated in an absorbing state as the run's were). Each is evaluated on the
true return over the same episodes, those the run evaluates its agent on (seeds from
``10_000 + seed``, most likely actions). The sets of answers:

- the class: the run's own final policy (asynchronous RLHF on the class's answers), and the
  class's answers fit once (the others' procedure, so that those bars differ by labels only);
- the oracle: the oracle teacher's answers to the same queries the class answered;
- each chosen student: that student's answers alone;
- the control: a constant reward (no labels): what PPO gets for nothing.

Classes:
    ClassAnswers, OracleAnswers, StudentAnswers: where an agent's answers come from.
    AgentSpec: one agent to make.
    AgentResult: its labels and true return.

Functions:
    plan_agents: the agents of a lesson's comparison.
    train_agent: fit, train and evaluate one agent (in a worker process, or here).
    evaluate_run_agent: the true return of the run's own final policy.
    compare_agents: the run's agent and the planned ones, in worker processes.
    comparison_figure: the agents' true returns beside the class's agreement matrix.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from agents.run_folder import RunFolder
from hfrl_gym.answers import Answer
from hfrl_gym.clips import ClipPair
from hfrl_gym.envs import get_goal
from hfrl_gym.errors import ConfigError
from hfrl_gym.store import LabelStore
from hfrl_gym.teachers import make_teacher

Labelled = list[tuple[ClipPair, Answer]]
CLASS_RUN = "class (the run)"
CONSTANT = "constant reward"


class Answers(Protocol):
    """Where an agent's answers come from (a picklable value: it travels to a worker)."""

    def labelled(self, store: LabelStore, *, env_id: str, goal: str, seed: int) -> Labelled:
        """The answered pairs this agent's reward model is fit on."""
        ...


@dataclass(frozen=True)
class ClassAnswers:
    """Every answer of the class's students (each student's newest to each query)."""

    students: tuple[str, ...]

    def labelled(self, store: LabelStore, *, env_id: str, goal: str, seed: int) -> Labelled:
        """The students' answered pairs, as the run fit them."""
        names = set(self.students)
        return [
            (pair, answer) for pair, answer in store.labelled_pairs() if answer.annotator in names
        ]


@dataclass(frozen=True)
class OracleAnswers:
    """The oracle teacher's answers to the queries the class answered (held in memory: the
    class's store is not written)."""

    students: tuple[str, ...]

    def labelled(self, store: LabelStore, *, env_id: str, goal: str, seed: int) -> Labelled:
        """One oracle answer to each query a student answered."""
        pairs = {pair.query_id: pair for pair, _ in ClassAnswers(self.students).labelled(
            store, env_id=env_id, goal=goal, seed=seed)}  # fmt: skip
        teacher = make_teacher(
            "oracle", goal=get_goal(env_id, goal), rng=np.random.default_rng([seed, 41])
        )
        ordered = [pairs[qid] for qid in sorted(pairs)]
        return list(zip(ordered, teacher.label(ordered), strict=True))


@dataclass(frozen=True)
class StudentAnswers:
    """One student's answers alone."""

    name: str

    def labelled(self, store: LabelStore, *, env_id: str, goal: str, seed: int) -> Labelled:
        """The student's newest answer to each query they answered."""
        return [
            (pair, answer)
            for pair, answer in store.labelled_pairs()
            if answer.annotator == self.name
        ]


@dataclass(frozen=True)
class AgentSpec:
    """One agent of the comparison.

    Attributes:
        name: its label in the table and the figure.
        answers: its answers (``None``: the constant-reward control).
        store_path: the class's store.
        env_id, goal: the run's env and the goal it is evaluated on.
        seed: PPO's, the reward fit's and the evaluation's seed (the run's).
        num_env_steps: PPO's env steps.
        eval_episodes: evaluation episodes.
        absorbing_steps: training episodes end this many steps into an absorbing state, as
            the run's did (``--absorbing-steps``; 0: never).
    """

    name: str
    answers: Answers | None
    store_path: Path
    env_id: str
    goal: str
    seed: int
    num_env_steps: int
    eval_episodes: int
    absorbing_steps: int = 0


@dataclass(frozen=True)
class AgentResult:
    """One agent's labels and true return (``None`` when it could not be made: ``note``)."""

    name: str
    labels: int
    true_return_mean: float | None
    true_return_std: float | None
    note: str = ""


def plan_agents(
    run_dir: Path,
    *,
    students: Sequence[str],
    chosen: Sequence[str],
    num_env_steps: int,
    eval_episodes: int,
) -> list[AgentSpec]:
    """The agents to make after a lesson: the class's answers, the oracle's, each of ``chosen``
    (at most five, each one of ``students``) and the constant-reward control.

    Raises:
        ConfigError: a chosen student is not in the class, or more than five are chosen.
    """
    unknown = [name for name in chosen if name not in students]
    if unknown:
        raise ConfigError(
            f"no student {unknown[0]!r} in this class; --compare-students takes names of its "
            f"students: {', '.join(sorted(students)) or '(none yet)'}"
        )
    if len(chosen) > 5:
        raise ConfigError(f"--compare-students takes at most 5 students, got {len(chosen)}")
    run = RunFolder(run_dir).require()
    config = run.read_json(run.config_path)
    common = {
        "store_path": run.store_path,
        "env_id": str(config["env"]),
        "goal": str(config.get("goal") or "task"),
        "seed": int(config.get("seed", 0)),
        "num_env_steps": num_env_steps,
        "eval_episodes": eval_episodes,
        "absorbing_steps": int(config.get("absorbing_steps", 0)),
    }
    everyone = tuple(students)
    specs = [
        AgentSpec("class, refit", ClassAnswers(everyone), **common),
        AgentSpec("oracle", OracleAnswers(everyone), **common),
    ]
    specs += [AgentSpec(f"student {name}", StudentAnswers(name), **common) for name in chosen]
    return [*specs, AgentSpec(CONSTANT, None, **common)]


def train_agent(spec: AgentSpec) -> AgentResult:
    """Fit the spec's reward model, train PPO on it and evaluate the true return."""
    import torch

    from agents.evaluate import evaluate_policy_returns
    from agents.lessons.common import fit_reward_model, lesson_agent
    from agents.rewards import ConstantReward

    torch.set_num_threads(1)
    if spec.answers is None:
        labelled: Labelled = []
        reward: Any = ConstantReward()
    else:
        with LabelStore(spec.store_path, create=False) as store:
            labelled = spec.answers.labelled(
                store, env_id=spec.env_id, goal=spec.goal, seed=spec.seed
            )
        if not any(answer.target is not None for _, answer in labelled):
            return AgentResult(spec.name, len(labelled), None, None, "no verdicts to fit on")
        reward = fit_reward_model(spec.env_id, labelled, seed=spec.seed)
    agent = lesson_agent(  # the run's training episodes (TruncateAbsorbed)
        spec.env_id, reward, seed=spec.seed, absorbing_steps=spec.absorbing_steps
    )
    try:
        agent.train(spec.num_env_steps, round_index=0)
    finally:
        agent.close()
    result = evaluate_policy_returns(
        agent.ppo,
        spec.env_id,
        num_episodes=spec.eval_episodes,
        seed=10_000 + spec.seed,
        goal=spec.goal,
    )
    return AgentResult(spec.name, len(labelled), result.true_mean, result.true_std)


def evaluate_run_agent(
    run_dir: Path, *, students: Sequence[str], eval_episodes: int
) -> AgentResult:
    """The true return of the run's own final policy (the class's agent), on the same
    episodes as the others; its labels are the students' answers."""
    from agents.evaluate import evaluate_policy_returns
    from agents.policy_file import policy_ppo

    run = RunFolder(run_dir).require()
    config = run.read_json(run.config_path)
    policy = run.saved_policy()
    env_id, seed = str(config["env"]), int(config.get("seed", 0))
    goal = str(config.get("goal") or "task")
    with LabelStore(run.store_path, create=False) as store:
        labels = len(
            ClassAnswers(tuple(students)).labelled(store, env_id=env_id, goal=goal, seed=seed)
        )
    if policy is None:
        return AgentResult(CLASS_RUN, labels, None, None, "the run saved no policy")
    result = evaluate_policy_returns(
        policy_ppo(env_id, policy, seed=seed),
        env_id,
        num_episodes=eval_episodes,
        seed=10_000 + seed,
        goal=goal,
    )
    return AgentResult(CLASS_RUN, labels, result.true_mean, result.true_std)


def compare_agents(
    run_dir: Path,
    specs: Sequence[AgentSpec],
    *,
    students: Sequence[str],
    eval_episodes: int,
    jobs: int = 1,
    say: Callable[[str], None] = print,
) -> list[AgentResult]:
    """The run's agent, then each planned agent (``jobs`` at a time in worker processes;
    1: here, one after another), in the order planned."""
    results = [evaluate_run_agent(run_dir, students=students, eval_episodes=eval_episodes)]
    say(_line(results[0]))
    if jobs <= 1:
        for spec in specs:
            results.append(train_agent(spec))
            say(_line(results[-1]))
        return results
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context) as pool:
        futures = [pool.submit(train_agent, spec) for spec in specs]
        for future in futures:
            results.append(future.result())
            say(_line(results[-1]))
    return results


def _line(result: AgentResult) -> str:
    if result.true_return_mean is None:
        return f"{result.name}: {result.labels} labels, no agent ({result.note})"
    return (
        f"{result.name}: {result.labels} labels, true return {result.true_return_mean:.1f} "
        f"± {result.true_return_std:.1f}"
    )


def results_table(results: Sequence[AgentResult]) -> list[dict[str, Any]]:
    """The results as JSON rows."""
    return [asdict(result) for result in results]


def comparison_figure(
    results: Sequence[AgentResult], agreement: dict[str, Any], path: Path, *, title: str
) -> Path:
    """Bars of the agents' true returns (the control's as a dashed line) beside the
    students' pairwise agreement, each named with their agreement with the majority.

    Args:
        results: the agents, as :func:`compare_agents` returns them.
        agreement: ``fleiss_kappa``, ``shared_queries``, ``with_majority`` (name -> share)
            and ``pairwise`` (``names``, ``matrix``: shares, ``None`` where two students
            shared no query).
        path: the PNG to write.
        title: the figure's title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from agents.lessons.common import save_figure

    fig, (bars, grid) = plt.subplots(1, 2, figsize=(13, 5.2), width_ratios=(1.1, 1))
    made = [r for r in results if r.true_return_mean is not None and r.name != CONSTANT]
    names = [f"{r.name}\n({r.labels} labels)" for r in made]
    colours = ["tab:blue" if r.name.startswith("class") else "tab:green" if r.name == "oracle"
               else "tab:orange" for r in made]  # fmt: skip
    bars.barh(names, [r.true_return_mean for r in made], xerr=[r.true_return_std for r in made],
              color=colours)  # fmt: skip
    bars.invert_yaxis()
    control = next((r for r in results if r.name == CONSTANT), None)
    if control is not None and control.true_return_mean is not None:
        bars.axvline(
            control.true_return_mean, color="k", ls="--", label="constant reward (control)"
        )
        bars.legend(loc="lower right")
    bars.set_xlabel("true return (evaluation episodes)")
    bars.set_title("Whose labels make the better agent?")
    pairwise = agreement.get("pairwise") or {"names": [], "matrix": []}
    people = pairwise["names"]
    matrix = np.array([[np.nan if v is None else v for v in row] for row in pairwise["matrix"]])
    if people:
        image = grid.imshow(matrix, vmin=0, vmax=1, cmap="viridis")
        majority = agreement.get("with_majority") or {}
        labels = [f"{n} ({_percent(majority.get(n))})" for n in people]
        grid.set_xticks(range(len(people)), people, rotation=60, ha="right")
        grid.set_yticks(range(len(people)), labels)
        fig.colorbar(image, ax=grid, label="share of shared queries with the same verdict")
    kappa = agreement.get("fleiss_kappa")
    grid.set_title(
        f"Agreement: Fleiss' κ {'–' if kappa is None else f'{kappa:.2f}'} over "
        f"{agreement.get('shared_queries', 0)} shared queries\n(in brackets: with the majority)"
    )
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{round(100 * value)}%"

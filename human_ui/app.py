"""Entry points of the desktop windows: label a store, label a training round, set up a window.

Classes:
    LabelConfig: the options of ``hfrl label``.
    LabelOutcome: what a labelling session did.

Functions:
    open_window: initialise pygame and open a resizable window (``RenderError`` if impossible).
    run_label: the comparison window on a store, until the person quits (or it is done).
    label_queries: the window on a set of queries, in this process (the lessons).
    goal_describer: the header line of an env: its task, or the alternative goal being taught.
    describer_of: the same for a goal given by name.
    label_store_path: the store a path names (a store file, or a run folder holding one).
    run_folder_of: the run folder a store belongs to, or ``None``.
    goal_name: the goal being taught: the option, the store's, the run's, or ``"task"``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pygame

from hfrl_gym.envs import Goal, get_goal, get_spec, goals_for, suite_ids
from hfrl_gym.errors import ConfigError, RenderError
from hfrl_gym.run_status import status_path
from hfrl_gym.run_status_poll import StatusPoller
from hfrl_gym.store import LabelStore
from human_ui.annotator import ask_annotator, resolve_annotator
from human_ui.compare import CompareWindow
from human_ui.compare_state import CompareState
from human_ui.prefetch import store_prefetcher
from human_ui.script import ScriptPlayer, load_script
from human_ui.task_card import SeenCards, TaskCards
from human_ui.teaching import TeachingModel, find_reward_model


def open_window(size: tuple[int, int], title: str) -> pygame.Surface:
    """Initialise pygame and open a resizable window of ``size`` pixels.

    On Linux, MuJoCo is pointed at EGL unless ``MUJOCO_GL`` is set: clips are rendered in a
    background thread, where GLFW (MuJoCo's default with a display) cannot work.

    Raises:
        RenderError: no window can be opened (no display), saying what to do.
    """
    if sys.platform.startswith("linux"):
        os.environ.setdefault("MUJOCO_GL", "egl")
    pygame.init()
    try:
        surface = pygame.display.set_mode(size, pygame.RESIZABLE)
    except pygame.error as error:
        raise RenderError(
            f"cannot open a window ({error}); run it on a desktop, or set "
            "SDL_VIDEODRIVER=dummy for scripted runs without a display"
        ) from error
    pygame.display.set_caption(title)
    return surface


@dataclass
class LabelConfig:
    """Options of ``hfrl label``.

    Attributes:
        store: the label store to answer.
        annotator: the person's name (``None``: ``HFRL_ANNOTATOR``, the saved name, or ask).
        query_ids: answer only these queries (a training round); ``None``: all.
        each: show queries other annotators answered too (several answers per query);
            by default a query answered by anyone is done and windows share the work.
        goal: the goal shown in the header (``None``: the store's or run's goal, or task).
        reward_model: checkpoint folder for the teaching overlay (``None``: the run's).
        size: window size in pixels.
        fps: window frames per second.
        clip_fps: clip frames per second at 1x speed.
        prefetch: pairs rendered ahead of the shown one.
        script: scripted input file (see :mod:`human_ui.script`).
        max_frames: close after this many frames (tests).
        resume_command: what resumes the work if the window is closed early (default:
            ``hfrl train --resume`` of the store's run folder).
        exit_when_done: close when nothing is pending, instead of waiting for new queries.
        review: start in review mode.
        close_with_run: close when the run that owns the store finishes or stops (the
            window of ``hfrl train --teacher human``); the store must be in a run folder.

    Example:
        >>> LabelConfig(Path("labels.sqlite")).prefetch
        3
    """

    store: Path
    annotator: str | None = None
    query_ids: list[int] | None = None
    each: bool = False
    goal: str | None = None
    reward_model: Path | None = None
    size: tuple[int, int] = (1280, 800)
    fps: int = 60
    clip_fps: float = 30.0
    prefetch: int = 3
    script: Path | None = None
    max_frames: int | None = None
    exit_when_done: bool = False
    review: bool = False
    close_with_run: bool = False


@dataclass(frozen=True)
class LabelOutcome:
    """What a labelling session did.

    Attributes:
        annotator: who labelled.
        answers_given: answers committed in this session (changes in review included).
        pending: queries still pending in the session's scope when the window closed.
        quit_early: the person (or the frame limit) closed the window with queries pending.

    Example:
        >>> LabelOutcome("ana", answers_given=3, pending=0, quit_early=False).pending
        0
    """

    annotator: str
    answers_given: int
    pending: int
    quit_early: bool


def label_store_path(path: Path) -> Path:
    """The label store ``path`` names: a store file, or a run folder's ``store.sqlite``.

    Raises:
        ConfigError: a folder with no ``store.sqlite``.
    """
    path = Path(path)
    if not path.is_dir():
        return path
    if not (path / "store.sqlite").is_file():
        raise ConfigError(
            f"{path} is a folder without store.sqlite: give a label store file or a run folder"
        )
    return path / "store.sqlite"


def run_folder_of(store_path: Path) -> Path | None:
    """The run folder holding ``store_path`` (it has ``config.json`` or ``status.json``)."""
    folder = Path(store_path).parent
    if (folder / "config.json").is_file() or status_path(folder).is_file():
        return folder
    return None


def _run_poller(run_root: Path, store: LabelStore) -> StatusPoller:
    """The run's status, with the labels answered and pending counted in the store itself."""

    def live_counts() -> tuple[int, int]:
        counts = store.counts()
        return counts["answered"], counts["pending"]

    return StatusPoller(run_root, live_counts=live_counts)


def _run_goal(store_path: Path) -> str | None:
    config = store_path.parent / "config.json"  # a run folder's TrainConfig
    try:
        goal = json.loads(config.read_text(encoding="utf-8")).get("goal")
    except (OSError, ValueError, AttributeError):
        return None
    return goal if isinstance(goal, str) else None


def goal_name(store: LabelStore, goal: str | None) -> str:
    """``goal`` when given, else the store's ``goal`` metadata, else the run folder's
    ``config.json`` goal, else ``"task"``."""
    return goal or store.get_meta("goal") or _run_goal(store.path) or "task"


def goal_describer(store: LabelStore, goal: str | None) -> Callable[[str], str]:
    """The header line for each env of the store: its task, or the goal being taught.

    The goal is ``goal`` when given, else the store's ``goal`` metadata, else the run
    folder's ``config.json`` goal, else ``"task"``.

    Raises:
        ConfigError: ``goal`` is given and some env of the store has no such goal.
    """
    name = goal_name(store, goal)
    if goal is not None:
        for env_id in suite_ids():
            if store.clip_uids(env_id) and goal not in goals_for(env_id):
                raise ConfigError(
                    f"--goal {goal}: {env_id} has no such goal; choose one of "
                    f"{', '.join(goals_for(env_id))}"
                )
    return describer_of(name)


def describer_of(name: str) -> Callable[[str], str]:
    """The header line of each env for the goal called ``name`` (``"task"``: the env's task;
    an env without that goal shows its task)."""

    def describe(env_id: str) -> str:
        spec = get_spec(env_id)
        if name == "task" or name not in goals_for(env_id):
            return f"{env_id} · task: {spec.description}"
        return f"{env_id} · goal {name}: {get_goal(env_id, name).description}"

    return describe


def _task_cards(
    store: LabelStore, goal: str | None, describe: Callable[[str], str], *, scripted: bool
) -> TaskCards:
    """The session's task cards; they open by themselves on first use, unless a script (not
    a person) is at the keys."""
    name = goal_name(store, goal)

    def goal_for(env_id: str) -> Goal:
        return get_goal(env_id, name) if name in goals_for(env_id) else get_goal(env_id, "task")

    seen = None if scripted else SeenCards()
    return TaskCards(describe, goal_for=goal_for, store=store, seen=seen)


def run_label(config: LabelConfig) -> LabelOutcome:
    """Open the comparison window on a store and label until the person quits.

    Every answer is committed to the store when it is given.

    Raises:
        StoreError: the store does not exist or cannot be read.
        ConfigError: a bad option, script, or no annotator name.
        RenderError: no window can be opened.
    """
    config = dataclasses.replace(config, store=label_store_path(config.store))
    run_root = run_folder_of(config.store)  # its status is shown under the clips
    if config.close_with_run and (run_root is None or not status_path(run_root).is_file()):
        raise ConfigError(
            f"--close-with-run: {config.store} is not the store of a training run that writes "
            "status.json; open the window without it"
        )
    with LabelStore(config.store, create=False) as store:
        describe = goal_describer(store, config.goal)
        teaching = TeachingModel(find_reward_model(config.store, config.reward_model))
        open_window(config.size, f"hfrl label {config.store.name}")
        prefetcher = cards = None
        try:
            steps = [] if config.script is None else load_script(config.script)
            script = ScriptPlayer(steps) if steps else None
            annotator = resolve_annotator(config.annotator) or ask_annotator(
                script, max_frames=config.max_frames
            )
            state = CompareState(
                store,
                annotator,
                query_ids=config.query_ids,
                share=not config.each,
                clip_fps=config.clip_fps,
                lookahead=config.prefetch,
            )
            prefetcher = store_prefetcher(
                store,
                teaching=teaching,
                max_pairs=config.prefetch + 2,
                query_ids=config.query_ids,
                annotator=annotator if config.each else None,
            )
            if config.review:
                state.enter_review()
            cards = _task_cards(store, config.goal, describe, scripted=script is not None)
            window = CompareWindow(
                state,
                prefetcher,
                describe_goal=describe,
                title=f"hfrl label {config.store.name} · {annotator}",
                fps=config.fps,
                script=script,
                max_frames=config.max_frames,
                exit_when_done=config.exit_when_done,
                task_cards=cards,
                run_status=None if run_root is None else _run_poller(run_root, store).poll,
                close_with_run=config.close_with_run,
            )
            window.run()
            state.refresh()
            state.release()
            pending = state.progress.pending
            return LabelOutcome(
                annotator=annotator,
                answers_given=state.session_answers,
                pending=pending,
                quit_early=pending > 0,
            )
        finally:
            if prefetcher is not None:
                prefetcher.close()
            if cards is not None:
                cards.close()
            pygame.display.quit()


def label_queries(
    store_path: str | os.PathLike[str],
    query_ids: Sequence[int],
    *,
    annotator: str | None = None,
    reward_model: Path | None = None,
    script: Path | None = None,
    max_frames: int | None = None,
    resume_command: str | None = None,
) -> int:
    """Open the comparison window on exactly these queries; return when all are answered.

    Used by the lessons (``WindowAnswerer``); ``hfrl train --teacher human`` keeps one window
    open for its whole run instead (``human_ui.answerer.RunWindow``). Every answer is committed
    when given, so a run stopped here loses nothing and can be resumed.

    Args:
        store_path: the run's label store.
        query_ids: the round's queries.
        annotator: the person's name (``None``: ``HFRL_ANNOTATOR``, the saved name, or ask).
        reward_model: checkpoint folder for the teaching overlay (default: the run's).
        script: scripted input (tests, lessons).
        max_frames: close after this many frames (tests).
        resume_command: what resumes the work if the window is closed early (default:
            ``hfrl train --resume`` of the store's run folder).

    Returns:
        The number of answers given.

    Raises:
        ConfigError: the window was closed before every query was answered; the message says
            how to resume.
    """
    path = Path(store_path)
    outcome = run_label(
        LabelConfig(
            store=path,
            annotator=annotator,
            query_ids=[int(q) for q in query_ids],
            reward_model=reward_model,
            script=script,
            max_frames=max_frames,
            exit_when_done=True,
        )
    )
    if outcome.pending:
        resume_command = resume_command or f"hfrl train --resume {path.parent}"
        raise ConfigError(
            f"the labelling window was closed with {outcome.pending} of this round's "
            f"{len(set(query_ids))} queries unanswered; the {outcome.answers_given} answers "
            f"given are saved. Resume with `{resume_command}` (or answer them first with "
            f"`hfrl label {path}`)"
        )
    return outcome.answers_given

"""``hfrl label`` and ``hfrl play``: argument parsing for the desktop windows.

``human_ui.cli`` (the ``hfrl`` command) hands over ``argv`` with ``argv[0]`` the sub-command;
errors of the user's making are ``HfrlError`` s, which it prints as one line.

Functions:
    build_parser: the parser of one sub-command (``"label"`` or ``"play"``).
    main: parse and run; returns the exit status.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from hfrl_gym.cli import positive_float, positive_int, seed
from hfrl_gym.errors import ConfigError

_EPILOG_LABEL = (
    "keys: <- left better, -> right better, down or = equal, space skip, backspace undo, "
    "p pause, , . step, - + speed, r review, t teaching overlay, h help. See docs/UI.md."
)


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT such as 1280x800, got {text!r}"
        ) from None
    if width < 320 or height < 240:
        raise argparse.ArgumentTypeError(f"the window must be at least 320x240, got {text}")
    return width, height


def _ids(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ids like 3,4,9, got {text!r}") from None


def _common(parser: argparse.ArgumentParser, size: str) -> None:
    parser.add_argument("--size", type=_size, default=_size(size), help=f"window WxH ({size})")
    parser.add_argument("--script", type=Path, help="JSON-lines input script (docs/UI.md)")
    parser.add_argument("--max-frames", type=positive_int, help="close after N frames (tests)")


def build_parser(command: str) -> argparse.ArgumentParser:
    """The parser of ``hfrl label`` or ``hfrl play``."""
    if command == "label":
        parser = argparse.ArgumentParser(
            prog="hfrl label",
            description="Compare clips side by side and answer a label store's queries.",
            epilog=_EPILOG_LABEL,
        )
        parser.add_argument(
            "store", type=Path, help="label store file, or a run folder (e.g. runs/x)"
        )
        parser.add_argument("--annotator", help="your name (else HFRL_ANNOTATOR, saved, or asked)")
        parser.add_argument("--goal", help="goal to show in the header (default: the run's)")
        parser.add_argument("--reward-model", type=Path, help="checkpoint folder for `t`")
        parser.add_argument("--each", action="store_true", help="also show queries others answered")
        parser.add_argument("--queries", type=_ids, help="only these query ids, e.g. 3,4,9")
        parser.add_argument("--review", action="store_true", help="start in review mode")
        parser.add_argument("--fps", type=positive_int, default=60, help="window frames/s")
        parser.add_argument(
            "--clip-fps", type=positive_float, default=30.0, help="clip frames/s at 1x"
        )
        parser.add_argument("--prefetch", type=positive_int, default=3, help="pairs rendered ahead")
        parser.add_argument(
            "--exit-when-done", action="store_true", help="close when nothing is pending"
        )
        parser.add_argument(
            "--close-with-run",
            action="store_true",
            help="close when the training run that owns the store finishes or stops",
        )
        _common(parser, "1280x800")
        return parser
    parser = argparse.ArgumentParser(
        prog="hfrl play",
        description="Play a suite env with the keyboard; episodes are recorded as clips.",
    )
    parser.add_argument("env", help="suite env id, e.g. hfrl/CartPole-v0")
    parser.add_argument(
        "--store", type=Path, default=Path("demonstrations.sqlite"), help="clips go here"
    )
    parser.add_argument("--clip-steps", type=positive_int, default=50, help="steps per clip")
    parser.add_argument("--seed", type=seed, default=0, help="seed of the first episode")
    parser.add_argument("--goal", default="task", help="goal the score counts")
    parser.add_argument("--fps", type=positive_int, help="env steps per second")
    parser.add_argument("--episodes", type=positive_int, help="quit after N episodes")
    _common(parser, "1024x768")
    return parser


def main(argv: Sequence[str]) -> int:
    """Run ``hfrl label ...`` or ``hfrl play ...`` (``argv[0]`` names which)."""
    argv = list(argv)
    if not argv or argv[0] not in ("label", "play"):
        raise ConfigError(
            f"human_ui.window_cli.main needs argv[0] to be label or play, got {argv[:1]}"
        )
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    args = build_parser(argv[0]).parse_args(argv[1:])
    if argv[0] == "play":
        from hfrl_gym.envs import get_goal
        from human_ui.play import PlayConfig, run_play

        get_goal(args.env, args.goal)
        clips = run_play(
            PlayConfig(
                env_id=args.env,
                store=args.store,
                clip_num_steps=args.clip_steps,
                seed=args.seed,
                goal=args.goal,
                fps=args.fps,
                size=args.size,
                episodes=args.episodes,
                script=args.script,
                max_frames=args.max_frames,
            )
        )
        print(f"recorded {clips} clips (policy 'human') into {args.store}")
        return 0
    from human_ui.app import LabelConfig, run_label

    outcome = run_label(
        LabelConfig(
            store=args.store,
            annotator=args.annotator,
            query_ids=args.queries,
            each=args.each,
            goal=args.goal,
            reward_model=args.reward_model,
            size=args.size,
            fps=args.fps,
            clip_fps=args.clip_fps,
            prefetch=args.prefetch,
            script=args.script,
            max_frames=args.max_frames,
            exit_when_done=args.exit_when_done,
            review=args.review,
            close_with_run=args.close_with_run,
        )
    )
    print(
        f"{outcome.annotator}: {outcome.answers_given} answers saved in {args.store}; "
        f"{outcome.pending} queries pending"
    )
    return 0

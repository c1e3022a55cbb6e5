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
    "keys: <- left better, -> right better (with shift: much better, with ctrl or alt: "
    "slightly better), down equal, space skip, backspace undo, p pause, , . step, - + (or =) "
    "speed, r review, t teaching overlay, h help. See docs/UI.md."
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
            "store",
            help="label store file, a run folder (e.g. runs/x), or a label server's address "
            "http://HOST:PORT (with --token, or --join CODE --annotator NAME)",
        )
        parser.add_argument("--annotator", help="your name (else HFRL_ANNOTATOR, saved, or asked)")
        parser.add_argument(
            "--token", help="a label server: your student token (else HFRL_TOKEN); docs/API.md"
        )
        parser.add_argument(
            "--join", metavar="CODE", help="a label server: join its class with this code"
        )
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
    from human_ui.server_client import is_server_url

    if is_server_url(args.store):
        return _label_server(args)
    if args.token or args.join:
        raise ConfigError(
            f"--token and --join are for a label server (http://HOST:PORT); {args.store} is a store"
        )
    from human_ui.app import LabelConfig, run_label

    outcome = run_label(
        LabelConfig(
            store=Path(args.store),
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


_STORE_ONLY = ("each", "queries", "review", "reward_model", "goal")


def _label_server(args: argparse.Namespace) -> int:
    """``hfrl label http://HOST:PORT``: join when asked, then the window on the server."""
    from human_ui.server_window import ServerLabelConfig, join_class, run_server_label

    given = [name for name in _STORE_ONLY if getattr(args, name)]
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise ConfigError(
            f"{flags}: not available on a label server (the server leases the pairs and sets "
            "the goal); leave them out"
        )
    token = args.token or os.environ.get("HFRL_TOKEN")
    if args.join:
        if not args.annotator:
            raise ConfigError("--join CODE needs --annotator NAME: the name the class sees")
        token = join_class(args.store, args.join, args.annotator)
        print(f"joined as {args.annotator}; to continue later: hfrl label {args.store} ", end="")
        print(f"--token {token}")
    elif args.annotator:
        raise ConfigError(
            "--annotator: on a label server you answer under the name you joined with; "
            "leave it out (or join with --join CODE --annotator NAME)"
        )
    if not token:
        raise ConfigError(
            f"{args.store}: give your student token (--token T or HFRL_TOKEN), or join the "
            "class with --join CODE --annotator NAME"
        )
    outcome = run_server_label(
        ServerLabelConfig(
            url=args.store,
            token=token,
            size=args.size,
            fps=args.fps,
            clip_fps=args.clip_fps,
            prefetch=args.prefetch,
            script=args.script,
            max_frames=args.max_frames,
            exit_when_done=args.exit_when_done,
            close_with_run=args.close_with_run,
        )
    )
    print(
        f"{outcome.annotator}: {outcome.answers_given} answers saved on {args.store}; "
        f"{outcome.pending} queries pending"
    )
    return 0

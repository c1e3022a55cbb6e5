"""The foundation's sub-commands of ``hfrl``, and what every sub-command shares.

Sub-commands (added to the ``hfrl`` parser by :func:`add_commands`):
    envs     print the suite: ids, horizons, spaces, goals.
    record   record clips from a suite env with a random policy into a label store, and
             post pairs of them whose clips do not look the same.
    gif      re-render stored clips (one, or a query's two side by side) to GIF or MP4.
    store    inspect, export or import a label store; pair-demos posts queries pairing a
             person's demonstrations (``hfrl_gym.demo_queries``).

Functions:
    positive_int, positive_float, count, count_float, seed: ``argparse`` types (> 0, > 0,
        whole >= 0, >= 0, seeds).
    add_commands: add the sub-commands above to a parser.
    run_guarded: run a command; a user's mistake becomes one ``error:`` line, exit 2, and
        anything unexpected one line with where its traceback was written, exit 1.
    limit_torch_threads: run torch on one CPU thread unless told otherwise.

The ``hfrl`` command itself is composed at the top layer, in ``human_ui.cli``, which adds the
sub-commands of ``agents`` (train, report, video, demo, lesson) and of ``human_ui`` (label,
play): this layer never imports the layers above it.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hfrl_gym.errors import ConfigError, HfrlError


def _number_type(
    parse: Callable[[str], float], *, low: float, inclusive: bool, what: str
) -> Callable[[str], Any]:
    """An ``argparse`` type: ``parse(text)``, finite and above ``low`` (or at it when
    ``inclusive``), else a message naming ``what`` was expected and what was given."""

    def check(text: str) -> Any:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        above = value >= low if inclusive else value > low
        if not (above and math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return check


positive_int = _number_type(int, low=0, inclusive=False, what="a positive integer")
positive_float = _number_type(float, low=0.0, inclusive=False, what="a finite number > 0")
count = _number_type(int, low=0, inclusive=True, what="a whole number >= 0")
count_float = _number_type(float, low=0.0, inclusive=True, what="a finite number >= 0")


MAX_SEED = 2**31 - 1
"""Seeds are 0 .. 2**31 - 1: numpy takes < 2**32, and runs add offsets to them."""


def seed(text: str) -> int:
    """An ``argparse`` type: a seed, 0 to :data:`MAX_SEED`."""
    value = count(text)
    if value > MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected a seed from 0 to {MAX_SEED}, got {value}")
    return value


def _cmd_envs(args: argparse.Namespace) -> int:
    from hfrl_gym.envs import describe_suite

    print(describe_suite())
    return 0


def _cmd_record(args: argparse.Namespace) -> int:
    from hfrl_gym.envs import get_spec
    from hfrl_gym.recording import record_random_clips
    from hfrl_gym.store import LabelStore

    horizon = get_spec(args.env).horizon
    if args.clip_steps > horizon:
        raise ConfigError(f"--clip-steps {args.clip_steps} exceeds {args.env}'s horizon {horizon}")
    pairs = args.clips * (args.clips - 1) // 2
    if args.queries > pairs:
        raise ConfigError(
            f"--queries {args.queries} exceeds the {pairs} pairs that --clips {args.clips} make; "
            "lower --queries or raise --clips"
        )
    if args.store.exists():
        LabelStore(args.store, create=False).close()  # refused now if it is no store
    clips = record_random_clips(
        args.env, num_clips=args.clips, clip_num_steps=args.clip_steps, seed=args.seed
    )
    with LabelStore(args.store) as store:  # made only now: a refused command makes no file
        store.add_clips(clips)
        print(f"recorded {len(clips)} clips of {args.env} into {args.store}")
        if args.queries:
            import numpy as np

            from hfrl_gym.queries import distinct_pairs

            rng = np.random.default_rng(args.seed)
            index_pairs, dropped = distinct_pairs(
                clips, args.queries, rng, min_difference=args.min_difference
            )
            store.add_queries([(clips[i].uid, clips[j].uid) for i, j in index_pairs])
            short = len(index_pairs) < args.queries
            print(
                f"posted {len(index_pairs)} queries"
                + (f" of the {args.queries} asked for" if short else "")
                + f"; left out {dropped} pairs whose two clips look the same"
                + (" (no other pair differs; record more clips)" if short else "")
            )
    return 0


def _cmd_gif(args: argparse.Namespace) -> int:
    from hfrl_gym.render import export_clip
    from hfrl_gym.store import LabelStore

    with LabelStore(args.store, create=False) as store:
        if args.query is not None:
            item = store.pair(args.query)
        else:
            uids = store.clip_uids()
            if not uids:
                raise ConfigError(f"{args.store} holds no clips; record some with `hfrl record`")
            item = store.get_clip(args.clip or uids[0])
    export_clip(args.out, item, width=args.width, height=args.height, fps=args.fps)
    print(f"wrote {args.out}")
    return 0


def _cmd_pair_demos(args: argparse.Namespace) -> int:
    from hfrl_gym.demo_queries import pair_demonstrations

    if args.folder is not None:
        raise ConfigError(
            f"`hfrl store pair-demos STORE` takes no folder, got {args.folder}; name another "
            "store of demonstrations with --demos"
        )
    done = pair_demonstrations(
        args.store,
        args.pairs,
        demos=args.demos,
        env_id=args.env,
        against=args.against,
        seed=args.seed,
        min_difference=args.min_difference,
    )
    chosen = done.chosen
    if done.copied:
        print(f"copied {done.copied} demonstrations from {args.demos} into {args.store}")
    asked = "" if len(chosen.pairs) == args.pairs else f" of the {args.pairs} asked for"
    print(
        f"posted {len(chosen.pairs)} queries{asked} (round 0) for {done.demonstrations} "
        f"demonstrations: {chosen.with_demos} with another demonstration, "
        f"{len(chosen.pairs) - chosen.with_demos} with another clip; left out "
        f"{chosen.looked_alike} pairs whose two clips look the same"
    )
    return 0


def _cmd_store(args: argparse.Namespace) -> int:
    from hfrl_gym.store import LabelStore
    from hfrl_gym.store_io import export_store, import_store

    given = [flag for flag, value in _PAIR_DEMOS_FLAGS.items() if getattr(args, value) is not None]
    if args.action == "pair-demos":
        for name, default in _PAIR_DEMOS_DEFAULTS.items():
            if getattr(args, name) is None:
                setattr(args, name, default)
        return _cmd_pair_demos(args)
    if given:
        raise ConfigError(
            f"{given[0]} is an option of `hfrl store pair-demos`, not of `hfrl store {args.action}`"
        )
    if args.action == "info":
        with LabelStore(args.store, create=False) as store:
            for key, value in store.counts().items():
                print(f"{key:>10}: {value}")
    elif args.action == "export":
        if args.folder is None:
            raise ConfigError("`hfrl store export STORE FOLDER`: give the folder to write")
        with LabelStore(args.store, create=False) as store:
            counts = export_store(store, args.folder)
        print(f"exported {counts} to {args.folder}")
    else:
        if args.folder is None:
            raise ConfigError("`hfrl store import STORE FOLDER`: give the folder to read")
        created = not args.store.exists()
        try:
            with LabelStore(args.store) as store:
                counts = import_store(store, args.folder)
        except BaseException:
            if created:  # a refused import leaves no empty store behind (it stored nothing)
                for path in (args.store, Path(f"{args.store}-wal"), Path(f"{args.store}-shm")):
                    path.unlink(missing_ok=True)
            raise
        print(f"imported {counts} into {args.store}")
    return 0


MIN_DIFFERENCE = 0.1
"""``hfrl_gym.queries.MIN_DIFFERENCE``, repeated so that ``hfrl --help`` loads no numpy (a
test checks that the two agree)."""
_MIN_DIFFERENCE_HELP = (
    f"leave out pairs whose clips look the same: observations closer than this many spreads "
    f"({MIN_DIFFERENCE}; 0 keeps every pair)"
)
_PAIR_DEMOS_FLAGS = {
    "--pairs": "pairs",
    "--against": "against",
    "--demos": "demos",
    "--env": "env",
    "--min-difference": "min_difference",
    "--seed": "seed",
}
_PAIR_DEMOS_DEFAULTS = {"pairs": 10, "against": "both", "min_difference": MIN_DIFFERENCE, "seed": 0}


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``envs``, ``record``, ``gif`` and ``store`` to the ``hfrl`` parser's sub-commands."""
    p = sub.add_parser("envs", help="print the suite: ids, horizons, spaces, goals")
    p.set_defaults(func=_cmd_envs)

    p = sub.add_parser("record", help="record random-policy clips into a label store")
    p.add_argument("--env", default="hfrl/CartPole-v0", help="suite env id (see `hfrl envs`)")
    p.add_argument("--store", type=Path, required=True, help="label store file (created)")
    p.add_argument("--clips", type=positive_int, default=20, help="number of clips")
    p.add_argument("--clip-steps", type=positive_int, default=50, help="steps per clip")
    p.add_argument("--queries", type=count, default=0, help="also post this many random pairs")
    p.add_argument(
        "--min-difference", type=count_float, default=MIN_DIFFERENCE, help=_MIN_DIFFERENCE_HELP
    )
    p.add_argument("--seed", type=seed, default=0, help=f"seed, 0 to {MAX_SEED}")
    p.set_defaults(func=_cmd_record)

    p = sub.add_parser("gif", help="re-render a stored clip or query to GIF/MP4")
    p.add_argument("store", type=Path, help="label store file")
    p.add_argument("out", type=Path, help="output file, .gif or .mp4")
    p.add_argument("--clip", help="clip uid (default: the first clip)")
    p.add_argument("--query", type=int, help="query id: its two clips side by side")
    p.add_argument("--width", type=positive_int, default=300)
    p.add_argument("--height", type=positive_int, default=200)
    p.add_argument("--fps", type=positive_int, default=30)
    p.set_defaults(func=_cmd_gif)

    p = sub.add_parser(
        "store",
        help="inspect, export or import a label store, or pair its demonstrations as queries",
        epilog="pair-demos: post queries pairing the clips a person played (`hfrl play`, "
        "policy 'human') with each other and with the store's other clips (docs/UI.md)",
    )
    p.add_argument("action", choices=["info", "export", "import", "pair-demos"])
    p.add_argument("store", type=Path, help="label store file")
    p.add_argument("folder", type=Path, nargs="?", help="export/import folder")
    group = p.add_argument_group("pair-demos")
    group.add_argument("--pairs", type=positive_int, help="queries to post (10)")
    group.add_argument("--against", choices=["both", "demos", "clips"], help="pair with (both)")
    group.add_argument("--demos", type=Path, help="copy the demonstrations of this store in")
    group.add_argument("--env", help="only this suite env's demonstrations")
    group.add_argument("--min-difference", type=count_float, help=_MIN_DIFFERENCE_HELP)
    group.add_argument("--seed", type=seed, help="seed of the pair choice (0)")
    p.set_defaults(func=_cmd_store)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _write_traceback() -> str:
    """Write the exception being handled to a file in the temp folder; say where (or why not)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        handle, name = tempfile.mkstemp(prefix=f"hfrl-error-{stamp}-", suffix=".txt", text=True)
        with os.fdopen(handle, "w") as file:
            file.write(f"hfrl {' '.join(sys.argv[1:])}\n\n{traceback.format_exc()}")
    except OSError as error:
        return f"(it could not be written: {error.strerror})"
    return name


def run_guarded(func: Callable[[], int]) -> int:
    """Run a command: every failure is one line on stderr, never a bare traceback.

    A user's mistake (an ``HfrlError``) or a file the system refused (an ``OSError``: a
    full disk, a read-only folder) is ``error: <what to fix>``, exit status 2. Anything else
    is a bug: ``error: unexpected ...`` with where the full traceback was written (a file in
    the temp folder), exit status 1.
    """
    try:
        return func()
    except HfrlError as error:
        print(f"error: {_one_line(str(error))}", file=sys.stderr)
        return 2
    except OSError as error:
        where = f" {error.filename}" if error.filename else ""
        print(
            f"error: cannot use{where}: {_one_line(error.strerror or str(error))}; check the "
            "path, its permissions and the free disk space",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the last resort: one line and the traceback in a file
        print(
            f"error: unexpected {type(error).__name__} ({_one_line(str(error))[:200]}); this "
            f"is a bug in hfrl: please report it with the traceback in {_write_traceback()}",
            file=sys.stderr,
        )
        return 1


def limit_torch_threads() -> None:
    """Run torch on one CPU thread unless ``HFRL_TORCH_THREADS`` says otherwise.

    The networks here are small: on a 2-core machine, a reward-model fit took 0.8 s on one
    thread and 15 s on two while PPO's env stepping competed for the cores.
    """
    import torch

    torch.set_num_threads(int(os.environ.get("HFRL_TORCH_THREADS", "1")))

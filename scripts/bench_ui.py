"""Benchmark of the comparison window: a simulated person, playback frame time, latency.

Runs the real window code (``CompareWindow``, ``CompareState``, ``PairPrefetcher``) under the
dummy video driver, on stores of random-policy clips.

``--mode person`` (the default): a simulated person on every suite env, optionally while a
real ``hfrl train`` runs in the background (``--load``). The store holds the queries when the
window opens (posted by training); the prefetcher is the one ``hfrl label`` makes
(``store_prefetcher``: frame cache beside the store, pending queries rendered ahead). The
person watches each pair for ``--answer-every`` seconds after both clips start playing, then
answers; measured: from each answer to both clips' first frames of the next pair on screen
(held still while the rest renders; median, p95, max; the first pair after the window opens
apart), from each answer to both clips playing (median, max), and playback stalls once a pair
started (``Playback.stalls``). Targets: first frames <= 1 s for every env, <= 50 ms median for
CartPole and Pendulum, 0 stalls.

``--mode window`` (the earlier benchmark), on CartPole and HalfCheetah by default:

* playback: the time of one loop iteration (events, update, draw, flip; the loop's
  ``tick`` left out) while two clips play, with the prefetcher idle and while it renders
  the next pairs in the background. Target: >= 60 frames per second.
* latency: from an answer (a posted key press) to the end of the loop iteration that first
  shows the next pair, when the prefetcher had the time to render it (a person watches
  each pair for a few seconds), and, for contrast, when it had not. Target: <= 50 ms.

Usage::

    SDL_VIDEODRIVER=dummy MUJOCO_GL=egl python scripts/bench_ui.py --load [--answers 8]
    SDL_VIDEODRIVER=dummy MUJOCO_GL=egl python scripts/bench_ui.py --mode window
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame
from _bench import add_write_option, header, publish

from hfrl_gym.recording import record_random_clips
from hfrl_gym.store import LabelStore
from human_ui.app import open_window
from human_ui.compare import CompareWindow
from human_ui.compare_state import CompareState
from human_ui.prefetch import PairPrefetcher, store_prefetcher

SIZE = (1280, 800)
SUITE = (
    "hfrl/CartPole-v0",
    "hfrl/Pendulum-v0",
    "hfrl/MountainCarContinuous-v0",
    "hfrl/Acrobot-v0",
    "hfrl/InvertedPendulum-v0",
    "hfrl/Reacher-v0",
    "hfrl/HalfCheetah-v1",
    "hfrl/Hopper-v1",
    "hfrl/Walker2d-v1",
)


def make_store(path: Path, env_id: str, num_pairs: int, clip_steps: int) -> None:
    """A store of ``num_pairs`` queries of random-policy clips."""
    clips = record_random_clips(env_id, num_clips=2 * num_pairs, clip_num_steps=clip_steps, seed=0)
    with LabelStore(path) as store:
        uids = store.add_clips(clips)
        store.add_queries(list(zip(uids[0::2], uids[1::2], strict=True)))


def frame(window: CompareWindow) -> float:
    """One loop iteration without the tick; returns its seconds."""
    started = time.perf_counter()
    for event in pygame.event.get():
        window.handle_event(event)
    window.update(1 / 60)
    window.draw()
    pygame.display.flip()
    return time.perf_counter() - started


def wait_rendered(window: CompareWindow, query_ids: list[int], timeout_s: float = 600) -> None:
    """Run the loop (at 60 fps) until the prefetcher has these pairs."""
    deadline = time.monotonic() + timeout_s
    while any(window.prefetcher.get(q) is None for q in query_ids):
        if time.monotonic() > deadline:
            raise RuntimeError(f"pairs {query_ids} not rendered within {timeout_s} s")
        frame(window)
        time.sleep(1 / 60)


def playback_ms(window: CompareWindow, num_frames: int) -> list[float]:
    """Milliseconds of ``num_frames`` loop iterations while the clips play."""
    return [1000 * frame(window) for _ in range(num_frames)]


def answer_latency_ms(window: CompareWindow) -> float:
    """Milliseconds from a posted answer key to the first drawn frame of the next pair."""
    state = window.state
    while not state.ready:  # answers wait for the shown pair's frames
        frame(window)
    before = state.current
    started = time.perf_counter()
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_LEFT, unicode="", mod=0))
    while True:
        seconds = frame(window)
        if state.current not in (before, None) and state.ready:
            return 1000 * (time.perf_counter() - started)
        if time.perf_counter() - started > 300:
            raise RuntimeError("the next pair never appeared")
        time.sleep(max(0.0, 1 / 60 - seconds))  # the window's 60 fps tick


def bench_env(env_id: str, clip_steps: int, num_answers: int, folder: Path) -> dict[str, str]:
    """All measurements for one env."""
    path = folder / f"{env_id.split('/')[1]}.sqlite"
    make_store(path, env_id, num_answers + 3, clip_steps)
    open_window(SIZE, "bench")
    store = LabelStore(path, create=False)
    prefetcher = PairPrefetcher(store.pair, max_pairs=6)
    state = CompareState(store, "bench", lookahead=2, poll_s=3600)
    window = CompareWindow(state, prefetcher, describe_goal=str)
    try:
        wait_rendered(window, state.upcoming())
        idle = playback_ms(window, 300)
        latencies = []
        for _ in range(num_answers):
            wait_rendered(window, state.upcoming())  # the person watched long enough
            latencies.append(answer_latency_ms(window))
        # the next pairs render in the background while this one plays
        state.lookahead = 4
        busy = playback_ms(window, 300)
        prefetcher.close()  # a prefetcher that renders only the shown pair: no look-ahead
        prefetcher = window.prefetcher = PairPrefetcher(store.pair, max_pairs=6)
        state.lookahead = 0
        wait_rendered(window, [state.current])
        cold = answer_latency_ms(window)
    finally:
        prefetcher.close()
        store.close()
        pygame.display.quit()
    return {
        "env": env_id,
        "frames": str(clip_steps + 1),
        "idle": summary(idle),
        "busy": summary(busy),
        "latency": f"{statistics.median(latencies):.1f} / {max(latencies):.1f}",
        "cold": f"{cold:.0f}",
    }


def summary(ms: list[float]) -> str:
    """``median / p95 ms (fps at the median)``."""
    ordered = sorted(ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)))]
    median = statistics.median(ordered)
    return f"{median:.1f} / {p95:.1f} ms ({1000 / median:.0f} fps)"


def loop_iteration(window: CompareWindow, clock: pygame.time.Clock, dt_s: float) -> bool:
    """One iteration of ``CompareWindow.run``'s loop (events, update, draw when due, flip);
    returns whether it drew."""
    events = pygame.event.get()
    for event in events:
        window.handle_event(event)
    window.update(dt_s)
    if window.redraw.due(window.scene_key(), moving=bool(events) or window.moving()):
        window.draw()
        pygame.display.flip()
        return True
    return False


def bench_person(
    env_id: str, clip_steps: int, num_answers: int, answer_every_s: float, folder: Path
) -> dict[str, str]:
    """A simulated person answering every ``answer_every_s`` seconds on one env."""
    path = folder / f"person-{env_id.split('/')[1]}.sqlite"
    make_store(path, env_id, num_answers + 2, clip_steps)
    open_window(SIZE, "bench")
    store = LabelStore(path, create=False)
    prefetcher = store_prefetcher(store, max_pairs=5)
    state = CompareState(store, "bench", lookahead=3)
    window = CompareWindow(state, prefetcher, describe_goal=str)
    clock = pygame.time.Clock()
    opened = time.perf_counter()
    answered_at: float | None = None
    shown_at = 0.0
    first_pair_s = 0.0
    first_frames: list[float] = []  # answer -> both clips' first frames on screen
    playing: list[float] = []  # answer -> both clips playing
    seen: int | None = None  # the pair whose first frames were on screen
    dt_s = 0.0
    try:
        while len(playing) < num_answers:
            current, was_ready = state.current, state.ready
            drew = loop_iteration(window, clock, dt_s)
            new_pair = state.current != current or not was_ready
            starts = state.ready and new_pair and state.current is not None
            appears = window.first_frames_shown() and state.current != seen
            if (starts or appears) and not drew:  # on screen in this iteration
                window.draw()
                pygame.display.flip()
            now = time.perf_counter()
            if appears:
                seen = state.current
                if answered_at is not None:
                    first_frames.append(now - answered_at)
            if starts:
                shown_at = now
                if answered_at is None:
                    first_pair_s = now - opened
                else:
                    playing.append(now - answered_at)
            elif state.ready and now - shown_at >= answer_every_s:
                answered_at = time.perf_counter()
                pygame.event.post(
                    pygame.event.Event(pygame.KEYDOWN, key=pygame.K_LEFT, unicode="", mod=0)
                )
            if time.perf_counter() - opened > 900 or (state.current is None and state.done):
                raise RuntimeError(f"{env_id}: no pair to answer after {len(playing)} answers")
            dt_s = clock.tick(60) / 1000.0
        stalls = state.playback.stalls
    finally:
        prefetcher.close()
        store.close()
        pygame.display.quit()
    first, play = sorted(first_frames), sorted(playing)
    return {
        "env": env_id,
        "first": f"{first_pair_s:.2f}",
        "median": f"{1000 * statistics.median(first):.0f}",
        "p95": f"{1000 * percentile(first, 0.95):.0f}",
        "max": f"{1000 * first[-1]:.0f}",
        "playing": f"{1000 * statistics.median(play):.0f}",
        "playing_max": f"{1000 * play[-1]:.0f}",
        "stalls": str(stalls),
    }


def percentile(ordered: list[float], share: float) -> float:
    """The value below which ``share`` of the sorted values lie (nearest rank)."""
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def start_load(folder: Path) -> subprocess.Popen[bytes]:
    """A real ``hfrl train`` on CartPole in the background, for as long as the benchmark runs."""
    command = [
        sys.executable, "-m", "human_ui.cli", "train", "--env", "hfrl/CartPole-v0",
        "--teacher", "oracle", "--labels", "200", "--steps", "5000000", "--no-progress",
        "--no-video", "--out", str(folder / "load-run"),
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def markdown_table(columns: dict[str, str], rows: list[dict[str, str]]) -> str:
    """A markdown table of ``rows``: ``columns`` maps each row key to its column title."""
    lines = ["| " + " | ".join(columns.values()) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row[key] for key in columns) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark and print a table (with ``--write``, also into docs/BENCHMARKS.md)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["person", "window"], default="person")
    parser.add_argument("--clip-steps", type=int, default=50, help="steps per clip")
    parser.add_argument("--answers", type=int, default=8, help="answers timed per env")
    parser.add_argument("--answer-every", type=float, default=3.0, help="person: seconds a pair")
    parser.add_argument("--load", action="store_true", help="person: hfrl train in the background")
    parser.add_argument("--envs", nargs="+", default=None, help="env ids (default: per mode)")
    add_write_option(parser, "ui-person")
    args = parser.parse_args()
    if args.mode == "window" and args.section == "ui-person":
        args.section = "ui-window"
    envs = args.envs or (SUITE if args.mode == "person" else SUITE[:1] + SUITE[6:7])
    machine = f"{platform.platform()}, {os.cpu_count()} CPUs, python {platform.python_version()}"
    load_start = os.getloadavg()[0]
    print(f"machine: {machine}, load average {load_start:.1f}", flush=True)
    drivers = f"SDL_VIDEODRIVER={os.environ['SDL_VIDEODRIVER']} MUJOCO_GL={os.environ['MUJOCO_GL']}"
    setting = f"window {SIZE[0]}x{SIZE[1]}, {drivers}, clips of {args.clip_steps} steps"
    print(setting)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        load = start_load(Path(folder)) if args.load and args.mode == "person" else None
        try:
            if load is not None:
                time.sleep(20)  # past torch's import: training under way
                print(f"load: hfrl train (pid {load.pid}) running: {load.poll() is None}")
            for env_id in envs:
                if args.mode == "person":
                    row = bench_person(
                        env_id, args.clip_steps, args.answers, args.answer_every, Path(folder)
                    )
                else:
                    row = bench_env(env_id, args.clip_steps, args.answers, Path(folder))
                rows.append(row)
                print(rows[-1], flush=True)
            if load is not None:
                print(f"load still running at the end: {load.poll() is None}")
        finally:
            if load is not None:
                load.terminate()
                load.wait(timeout=30)
    if args.mode == "person":
        title = "A simulated person beside a training run" if args.load else "A simulated person"
        columns = {
            "env": "env",
            "first": "first pair after opening, s",
            "median": "answer -> both first frames, median ms",
            "p95": "p95 ms",
            "max": "max ms",
            "playing": "answer -> both playing, median ms",
            "playing_max": "max ms",
            "stalls": "stalls",
        }
    else:
        title = "Frame time and answer latency"
        columns = {
            "env": "env",
            "frames": "frames/clip",
            "idle": "frame time, prefetcher idle (median / p95)",
            "busy": "frame time, prefetcher rendering",
            "latency": "answer -> next pair, ms (median / max)",
            "cold": "without prefetch, ms",
        }
    load_end = os.getloadavg()[0]
    text = (
        header(f"{title} (scripts/bench_ui.py --mode {args.mode})")
        + f"- {setting}; load average {load_start:.1f} at the start, {load_end:.1f} at the end\n\n"
        + markdown_table(columns, rows)
    )
    publish(text, args)


if __name__ == "__main__":
    main()

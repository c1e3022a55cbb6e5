"""Benchmark of the comparison window: playback frame time and answer-to-next-pair latency.

Runs the real window code (``CompareWindow``, ``CompareState``, ``PairPrefetcher``) under the
dummy video driver, on stores of random-policy clips of CartPole and HalfCheetah:

* playback: the time of one loop iteration (events, update, draw, flip; the loop's
  ``tick`` left out) while two clips play, with the prefetcher idle and while it renders
  the next pairs in the background. Target: >= 60 frames per second.
* latency: from an answer (a posted key press) to the end of the loop iteration that first
  shows the next pair, when the prefetcher had the time to render it (a person watches
  each pair for a few seconds), and, for contrast, when it had not. Target: <= 50 ms.

Usage::

    SDL_VIDEODRIVER=dummy MUJOCO_GL=egl python scripts/bench_ui.py [--clip-steps 50]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame

from hfrl_gym.recording import record_random_clips
from hfrl_gym.store import LabelStore
from human_ui.app import open_window
from human_ui.compare import CompareWindow
from human_ui.compare_state import CompareState
from human_ui.prefetch import PairPrefetcher

SIZE = (1280, 800)


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


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip-steps", type=int, default=50, help="steps per clip")
    parser.add_argument("--answers", type=int, default=5, help="answers timed per env")
    parser.add_argument(
        "--envs", nargs="+", default=["hfrl/CartPole-v0", "hfrl/HalfCheetah-v0"], help="env ids"
    )
    args = parser.parse_args()
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, python {platform.python_version()}"
    )
    drivers = f"SDL_VIDEODRIVER={os.environ['SDL_VIDEODRIVER']} MUJOCO_GL={os.environ['MUJOCO_GL']}"
    print(f"window {SIZE[0]}x{SIZE[1]}, {drivers}, clips of {args.clip_steps} steps")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for env_id in args.envs:
            rows.append(bench_env(env_id, args.clip_steps, args.answers, Path(folder)))
            print(rows[-1], flush=True)
    header = {
        "env": "env",
        "frames": "frames/clip",
        "idle": "frame time, prefetcher idle (median / p95)",
        "busy": "frame time, prefetcher rendering",
        "latency": "answer -> next pair, ms (median / max)",
        "cold": "without prefetch, ms",
    }
    print("| " + " | ".join(header.values()) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row[key] for key in header) + " |")


if __name__ == "__main__":
    main()

"""How quickly the label page shows the next pair: a student in chromium against hfrl serve.

A run folder of CartPole pairs (30-step clips) is served by the real ``hfrl serve`` in its own
process on loopback; every clip is rendered once before the clock starts (the server's render
speed is ``scripts/bench_server.py``'s). One student in Debian's chromium (Playwright) then
answers ``--answers`` pairs, each after ``--look-s`` seconds of watching, alternating keys.
The page measures, from each answer's key press (the Performance API):

* answer stored: until the server's reply (the answer committed to the store);
* next pair: until the next pair's two clips can play (prefetched while the last was shown).

Usage:
    python scripts/bench_page.py [--answers 30] [--look-s 0.5]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _bench import add_write_option, header, publish, table
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.human_ui.server.browser_helpers import (
    CHROMIUM,
    class_server,
    render_all,
    run_folder,
)

KEYS = ("ArrowLeft", "ArrowRight", "ArrowDown")


def _percentiles(label: str, values: list[float]) -> dict[str, object]:
    p50, p95 = np.percentile(values, [50, 95])
    return {
        "from the answer's key press to": label,
        "n": len(values),
        "p50": f"{p50:.0f} ms",
        "p95": f"{p95:.0f} ms",
        "max": f"{max(values):.0f} ms",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=30)
    parser.add_argument("--look-s", type=float, default=0.5)
    add_write_option(parser, "page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run = run_folder(Path(folder), num_queries=args.answers + 3)
        with class_server(run, run) as server, sync_playwright() as playwright:
            started = time.monotonic()
            render_all(server)
            render_s = time.monotonic() - started
            print(f"rendered {2 * (args.answers + 3)} clips in {render_s:.0f} s", flush=True)
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            page.goto(f"{server.url}/?code={server.join_code}")
            page.fill("#join-name", "bench")
            page.click("#join-form button[type=submit]")
            page.wait_for_selector("#card:not([hidden])")
            page.keyboard.press("h")
            for index in range(args.answers):
                page.wait_for_selector("body[data-ready=true]")
                shown = page.get_attribute("body", "data-query-id")
                page.wait_for_timeout(args.look_s * 1000)
                page.keyboard.press(KEYS[index % len(KEYS)])
                page.wait_for_selector(f"body:not([data-query-id='{shown}'])[data-ready=true]")
            measures = page.evaluate(
                "['hfrl:answer-stored', 'hfrl:next-pair'].map(name => "
                "performance.getEntriesByName(name).map(entry => entry.duration))"
            )
            browser.close()
    rows = [
        _percentiles("the answer stored (the server's reply, committed)", measures[0]),
        _percentiles("the next pair's two clips playing (prefetched)", measures[1]),
    ]
    text = (
        header("The label page in a browser (scripts/bench_page.py)")
        + f"- {platform.system()} {platform.release()}; load average {os.getloadavg()[0]:.1f}; "
        + f"{2 * (args.answers + 3)} clips rendered before the clock in {render_s:.0f} s\n\n"
        + table(rows)
    )
    publish(text, args)


if __name__ == "__main__":
    main()

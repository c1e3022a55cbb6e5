"""A live lesson's part of the dashboard in a real browser (Playwright + Debian's chromium):
the agent's video at each filmed checkpoint, side by side with its true return, then the
comparison's table and figure, against the real ``hfrl serve`` on a lesson's run."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
from playwright.sync_api import Page

from human_ui.server.live_folder import LessonFolder
from tests.human_ui.server.browser_helpers import ClassServer, class_server, run_folder
from tests.human_ui.server.test_browser import WAIT_MS, _keep, _until, browser, page

pytestmark = pytest.mark.slow  # end-to-end: not in `make test-fast`
__all__ = ["browser", "page"]  # the browser tests' fixtures, shared

AGENTS = [
    {"name": "class (the run)", "labels": 150, "true_return_mean": 480.0,
     "true_return_std": 12.0, "note": ""},
    {"name": "oracle", "labels": 100, "true_return_mean": 500.0, "true_return_std": 0.0,
     "note": ""},
    {"name": "student ada-oracle", "labels": 3, "true_return_mean": None,
     "true_return_std": None, "note": "no verdicts to fit on"},
]  # fmt: skip


@pytest.fixture(scope="module")
def lesson_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ClassServer, LessonFolder]]:
    lesson = LessonFolder(tmp_path_factory.mktemp("lesson"))
    lesson.run.mkdir()
    run_folder(lesson.run, num_queries=2)
    (lesson.run / "config.json").write_text(json.dumps({"env": "hfrl/CartPole-v0"}))
    lesson.write_settings({"env": "hfrl/CartPole-v0"})
    lesson.rounds_dir.mkdir()
    for index, value in enumerate((21.5, 180.5)):
        shutil.copy(lesson.run / "video.mp4", lesson.round_video(index))
        lesson.add_round(
            {"round": 2 * index, "env_steps": 4000 * (index + 1), "true_return": value}
        )
    with class_server(lesson.run, lesson.root) as running:
        yield running, lesson


def test_the_dashboard_shows_the_agent_per_checkpoint_then_the_comparison(
    page: Page, lesson_server: tuple[ClassServer, LessonFolder]
) -> None:
    server, lesson = lesson_server
    page.goto(f"{server.url}/teacher#token={server.teacher_token}")
    page.wait_for_selector("#lesson:not([hidden])", timeout=WAIT_MS)
    _until(page, "document.querySelectorAll('.round video').length === 2")
    captions = page.locator(".round figcaption").all_text_contents()
    assert captions == [
        "checkpoint 1 · 4,000 steps · true return 21.5",
        "checkpoint 3 · 8,000 steps · true return 180.5",
    ]
    _until(page, "[...document.querySelectorAll('.round video')].every(v => v.videoWidth > 0)")
    assert page.locator("#comparison-panel").is_hidden()

    lesson.write_comparison({"finished": True, "num_env_steps": 100000, "agents": AGENTS})
    fig, axes = plt.subplots(figsize=(4, 2))
    axes.bar(["class", "oracle"], [480, 500])
    fig.savefig(lesson.figure_path)
    plt.close(fig)
    page.wait_for_selector("#comparison-panel:not([hidden])", timeout=WAIT_MS)
    _until(page, "document.querySelectorAll('#agents tbody tr').length === 3")
    rows = page.locator("#agents tbody tr").all_text_contents()
    assert rows[0] == "class (the run)150480.0 ± 12.0"
    assert rows[2] == "student ada-oracle3no verdicts to fit on"
    _until(page, "document.getElementById('comparison-figure').naturalWidth === 400")
    _keep(page.screenshot(full_page=True), "live-lesson-dashboard.png")

"""The label page and the teacher's dashboard in a real browser (Playwright + Debian's chromium).

Against the real ``hfrl serve`` in its own process, on a run folder of CartPole pairs: a
student joins with the join code and a name, answers with keys and with clicks, undoes, sees
the next pair, reloads and continues, and leaves; the answers are read back from the store
with ``LabelStore``. The two clips play in sync, change speed together, and are both painted
(a screenshot, checked pixel by pixel). The teacher's dashboard shows a student's count, the
run's progress, charts and video, closes and opens the class, and exports the answers. An
unknown token or a wrong join code is said on the join form; a student without pairs waits and
gets the next query posted. Every page runs under the pages' Content-Security-Policy, and an
uncaught error in a page fails its test. Screenshots are copied to ``HFRL_ARTIFACTS_DIR`` when
that is set.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, Route, sync_playwright

from hfrl_gym.answers import Choice, Confidence
from hfrl_gym.store import LabelStore
from tests.human_ui.server.browser_helpers import (
    CHROMIUM,
    ClassServer,
    api,
    cartpole_pairs,
    class_server,
    render_all,
    run_folder,
)

pytestmark = pytest.mark.slow  # end-to-end: not in `make test-fast`

WAIT_MS = 30_000  # a first clip may still be rendering on a busy machine


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClassServer]:
    folder = run_folder(tmp_path_factory.mktemp("run"), num_queries=14)
    with class_server(folder, folder) as running:
        render_all(running)
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 800}, accept_downloads=True)
    new_page = context.new_page()
    errors: list[str] = []
    new_page.on("pageerror", lambda error: errors.append(str(error)))
    yield new_page
    context.close()
    assert not errors, f"the page raised: {errors}"


def _join(page: Page, server: ClassServer, name: str) -> None:
    page.goto(f"{server.url}/?code={server.join_code}")
    page.fill("#join-name", name)
    page.click("#join-form button[type=submit]")
    page.wait_for_selector("#card:not([hidden])", timeout=WAIT_MS)  # the task card, first use
    page.keyboard.press("h")
    page.wait_for_selector("#card", state="hidden")


def _shown(page: Page, *, other_than: int | None = None) -> int:
    """Waits until a pair (other than ``other_than``) plays; returns its query id."""
    ready = "body[data-ready=true][data-query-id]"
    if other_than is not None:
        ready += f":not([data-query-id='{other_than}'])"
    page.wait_for_selector(ready, timeout=WAIT_MS)
    return int(page.get_attribute("body", "data-query-id") or -1)


def _answers(
    server: ClassServer, annotator: str
) -> dict[int, tuple[Choice, Confidence | None, float]]:
    """The annotator's answers in the store (read beside the running server)."""
    with LabelStore(server.store) as store:
        records = store.answers(annotator=annotator)
    return {r.query_id: (r.choice, r.confidence, r.seconds) for r in records}


def test_a_student_answers_with_keys_and_clicks_undoes_and_continues_after_a_reload(
    page: Page, server: ClassServer
) -> None:
    _join(page, server, "Ana")
    first = _shown(page)
    page.wait_for_timeout(300)  # the answer's time counts from when the clips play
    page.keyboard.press("ArrowLeft")
    second = _shown(page, other_than=first)
    page.click("#clip-right")  # a click on a clip says it is the better one
    third = _shown(page, other_than=second)
    page.keyboard.press("Backspace")  # undo: the last answered pair comes back
    assert _shown(page, other_than=third) == second
    assert "undone" in (page.text_content("#message") or "")
    page.keyboard.press("Shift+ArrowRight")  # right, much better
    assert _shown(page, other_than=second) == third
    page.click("button[data-command=equal]")
    fourth = _shown(page, other_than=third)

    answers = _answers(server, "Ana")
    assert set(answers) == {first, second, third}
    assert answers[first][:2] == (Choice.LEFT, None)
    assert answers[second][:2] == (Choice.RIGHT, Confidence.MUCH)
    assert answers[third][:2] == (Choice.EQUAL, None)
    assert answers[first][2] >= 0.3  # the time the answer took, measured by the page
    assert page.text_content("#progress").startswith("answered by me 3")  # type: ignore[union-attr]

    page.reload()  # the token is kept: the student continues where they were
    assert _shown(page) == fourth
    assert page.get_attribute("body", "data-view") == "compare"
    assert page.get_attribute("body", "data-answered") == "3"
    page.click("#leave")  # the token is forgotten: the join form again
    assert page.get_attribute("body", "data-view") == "join"
    assert page.evaluate("window.localStorage.getItem('hfrl.student')") is None


def test_the_two_clips_are_painted_and_play_in_sync(page: Page, server: ClassServer) -> None:
    _join(page, server, "Ben")
    _shown(page)
    page.keyboard.press("h")  # the task card again, on demand
    assert "push a cart" in (page.text_content("#card-lines") or "")
    page.keyboard.press("Escape")
    page.wait_for_selector("#card", state="hidden")
    times = page.evaluate(
        "[...document.querySelectorAll('video')].map(v => v.currentTime)"
    )  # fmt: skip
    assert abs(times[0] - times[1]) < 0.15, f"the clips drift apart while playing: {times}"
    page.keyboard.press("]")
    assert page.text_content("#speed") == "2×"
    for _ in range(2):
        page.keyboard.press("[")
    assert page.evaluate("[...document.querySelectorAll('video')].map(v => v.playbackRate)") == [
        0.5,
        0.5,
    ]
    page.keyboard.press("p")  # pause, then scrub near the end: the pole has fallen on the right
    page.eval_on_selector(
        "#scrub", "el => { el.value = '900'; el.dispatchEvent(new Event('input')); }"
    )
    _until(
        page,
        "[...document.querySelectorAll('video')].every(v => !v.seeking && v.currentTime > 0.4)",
    )
    left, right = page.evaluate(
        "[...document.querySelectorAll('video')].map(v => [v.currentTime, v.paused])"
    )
    assert left == right, "paused, both clips show the same moment"
    png = _keep(page.screenshot(), "label_page.png")
    shot = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int64)
    crops = [_crop(shot, page, selector) for selector in ("#video-left", "#video-right")]
    for crop in crops:
        assert crop.std() > 10, "a flat area, not a picture"
        assert (crop.sum(axis=2) > 60).mean() > 0.3, "mostly the empty (black) video area"
    assert np.abs(crops[0] - crops[1]).mean() > 1.0, "the two clips look the same"


def _keep(png: bytes, name: str) -> bytes:
    """A screenshot, copied to ``HFRL_ARTIFACTS_DIR`` when that is set."""
    artefacts = os.environ.get("HFRL_ARTIFACTS_DIR")
    if artefacts:
        Path(artefacts).mkdir(parents=True, exist_ok=True)
        (Path(artefacts) / name).write_bytes(png)
    return png


def _until(page: Page, expression: str) -> None:
    """Waits until ``expression`` is true in the page (the page's CSP forbids Playwright's
    ``wait_for_function``, which evaluates a string inside the page)."""
    for _ in range(WAIT_MS // 50):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"never true: {expression}")


def _crop(shot: np.ndarray, page: Page, selector: str) -> np.ndarray:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    top, left = round(box["y"]), round(box["x"])
    return shot[top : top + round(box["height"]), left : left + round(box["width"])]


def test_the_dashboard_shows_each_students_answers_and_exports_them(
    page: Page, server: ClassServer
) -> None:
    student = page.context.browser.new_context().new_page()  # type: ignore[union-attr]
    _join(student, server, "Cleo")
    for key in ("ArrowDown", "Space"):  # equal, skip
        shown = _shown(student)
        student.keyboard.press(key)
        _shown(student, other_than=shown)
    student.context.close()

    page.goto(f"{server.url}/teacher#token={server.teacher_token}")
    row = page.locator("tr[data-student=Cleo]")
    row.wait_for(timeout=WAIT_MS)
    assert row.locator("td.answered").text_content() == "2"
    settings = api(server, "GET", "/class", server.teacher_token)
    assert page.text_content("#join-code") == settings["join_code"] == server.join_code
    assert "#token" not in page.url, "the token leaves the address bar"
    assert "round 3/5" in (page.text_content("#run-line") or "")  # the run's status line
    run = page.text_content("#run-table") or ""
    assert "3 of 5" in run  # the round
    assert re.search(r"labels\d+ of 120", run), run  # answered (counted in the store)
    assert "78% (round 3)" in run  # the reward model's validation accuracy
    assert page.locator("#per-minute rect").count() >= 1  # answers in the last minute
    assert page.locator("#true-return circle").count() == 3  # one point per round
    _until(page, "document.getElementById('run-video').videoWidth > 0")  # the agent's video
    _keep(page.screenshot(full_page=True), "dashboard.png")
    page.click("#toggle-open")  # the teacher closes the class, then opens it again
    page.wait_for_selector("#class-state:has-text('closed')")
    assert api(server, "GET", "/class", server.teacher_token)["open"] is False  # type: ignore[index]
    page.click("#toggle-open")
    page.wait_for_selector("#class-state:has-text('open')")
    with page.expect_download() as download:
        row.locator("a[data-format=jsonl]").click()
    lines = Path(download.value.path()).read_text().splitlines()
    exported = [json.loads(line) for line in lines]
    assert [answer["annotator"] for answer in exported] == ["Cleo", "Cleo"]
    assert [answer["choice"] for answer in exported] == ["equal", "skip"]


def test_an_unknown_token_brings_the_join_form_back_with_the_reason(
    page: Page, server: ClassServer
) -> None:
    page.goto(server.url)
    page.evaluate("window.localStorage.setItem('hfrl.student', 'not-a-token')")
    page.reload()
    page.wait_for_selector("#join:not([hidden])")
    assert page.get_attribute("body", "data-view") == "join"
    assert "Join again" in (page.text_content("#join-error") or "")
    assert page.evaluate("window.localStorage.getItem('hfrl.student')") is None
    page.fill("#join-code", "WRONG-CODE")
    page.fill("#join-name", "Dan")
    page.click("#join-form button[type=submit]")
    page.wait_for_selector("#join-error:has-text('code')")  # the server's reason, said


def test_an_answer_whose_reply_is_lost_is_sent_again_and_stored_once(
    page: Page, server: ClassServer
) -> None:
    _join(page, server, "Gus")
    shown = _shown(page)
    lost: list[str] = []

    def lose_the_first_reply(route: Route) -> None:
        if lost:
            route.continue_()
            return
        route.fetch()  # the server stores the answer...
        lost.append(str(route.request.post_data_json.get("request_id")))
        route.abort("connectionreset")  # ...and its reply never reaches the page

    page.route("**/api/v1/answers", lose_the_first_reply)
    page.keyboard.press("ArrowRight")
    _shown(page, other_than=shown)
    assert len(lost) == 1
    assert re.fullmatch(r"[0-9a-f]{32}", lost[0]), "an answer carries a request id"
    with LabelStore(server.store) as store:
        stored = [record.query_id for record in store.answers(annotator="Gus")]
    assert stored == [shown]  # stored once
    assert page.get_attribute("body", "data-answered") == "1"


def test_a_student_without_pairs_waits_and_gets_the_next_posted_query(
    page: Page, tmp_path: Path
) -> None:
    store = tmp_path / "labels.sqlite"
    cartpole_pairs(store, num_queries=1)
    with class_server(store, tmp_path) as server:
        _join(page, server, "Fay")
        first = _shown(page)
        page.keyboard.press("ArrowLeft")
        page.wait_for_selector("#message:has-text('waiting for queries')", timeout=WAIT_MS)
        assert page.get_attribute("body", "data-query-id") is None
        with LabelStore(store) as writer:  # a training run posts a query meanwhile
            query = writer.get_query(first)
            (posted,) = writer.add_queries([(query.right_uid, query.left_uid)], round=1)
        assert _shown(page) == posted  # the page looks again every few seconds
        assert (page.text_content("#message") or "") == ""

"""Handouts: generated from the lessons, the committed copies up to date, none missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.lessons import find_lesson, lessons, main
from agents.lessons.claims import Claim
from agents.lessons.handout_texts import HANDOUTS
from agents.lessons.handouts import (
    READING,
    handout_pages,
    lesson_sheet,
    stale_pages,
    write_handouts,
)
from hfrl_gym.errors import ConfigError

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "handouts"


def test_the_committed_handouts_say_what_the_lessons_say() -> None:
    stale = stale_pages(COMMITTED)
    assert stale == [], f"docs/handouts/ is out of date ({stale}): run `hfrl lesson handouts`"


def test_every_lesson_has_a_sheet_with_its_claims_options_and_a_quiz() -> None:
    pages = handout_pages()
    assert set(pages) == {
        *(f"{lesson.number:02d}-{lesson.name}.md" for lesson in lessons()),
        "reading.md",
        "index.md",
    }
    for lesson in lessons():
        sheet = pages[f"{lesson.number:02d}-{lesson.name}.md"]
        module = lesson.load()
        assert f"# Lesson {lesson.number}: {lesson.name}" in sheet
        assert lesson.summary in sheet
        for claim in getattr(module, "CLAIMS", ()):
            assert claim.text in sheet
        assert f"usage: hfrl lesson {lesson.name}" in sheet
        assert "--seed SEED" in sheet
        assert sheet.count("*Answer:*") == 3
        for quiz in HANDOUTS[lesson.name].quiz:
            assert quiz.question in sheet
        assert f"({lesson.number:02d}-{lesson.name}.md)" in pages["index.md"]


def test_the_new_lessons_options_reach_their_sheets() -> None:
    assert "--effort EFFORT" in lesson_sheet(find_lesson("feedback-kinds"))
    assert "--per-round PER_ROUND" in lesson_sheet(find_lesson("active-queries"))


def test_a_changed_claim_makes_the_written_sheet_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_handouts(tmp_path)
    assert stale_pages(tmp_path) == []
    module = find_lesson("reward-hacking").load()
    changed = Claim("changed", "The true return falls by a new amount.")
    monkeypatch.setattr(module, "CLAIMS", (changed,), raising=False)
    assert changed.text in lesson_sheet(find_lesson("reward-hacking"))
    assert stale_pages(tmp_path) == ["06-reward-hacking.md"]


def test_a_lesson_without_a_handout_is_refused_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(HANDOUTS, "new-behaviour")
    with pytest.raises(ConfigError, match="lesson 7 \\(new-behaviour\\) has no handout"):
        write_handouts(tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_reading_list_has_the_five_papers_with_full_references() -> None:
    page = handout_pages()["reading.md"]
    for title in (
        "Deep reinforcement learning from human preferences",
        "Learning to summarize from human feedback",
        "Training language models to follow instructions with human feedback",
        "B-Pref: Benchmarking preference-based reinforcement learning",
        "PEBBLE: Feedback-efficient interactive reinforcement learning",
    ):
        assert title in page
    for reference in READING:
        assert reference.url.startswith("https://arxiv.org/abs/")
        assert "*Why:*" in page
        assert reference.why in page


def test_the_command_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "handouts"
    assert main(["lesson", "handouts", "--out", str(out)]) == 0
    assert (out / "index.md").is_file()
    assert (out / "09-feedback-kinds.md").is_file()
    assert main(["lesson", "handouts", "--out", str(out), "--check"]) == 0
    (out / "reading.md").write_text("edited by hand\n")
    (out / "11-gone.md").write_text("a lesson no longer there\n")
    capsys.readouterr()
    assert main(["lesson", "handouts", "--out", str(out), "--check"]) == 1
    assert "reading.md, 11-gone.md" in capsys.readouterr().out
    assert main(["lesson", "handouts", "--out", str(out)]) == 0
    assert not (out / "11-gone.md").exists()
    assert stale_pages(out) == []

"""A live lesson's part of the server: the teacher reads the filmed checkpoints and the
comparison (``/api/v1/lesson``); a student may not; a run of no lesson says so."""

from __future__ import annotations

import json
from pathlib import Path

from human_ui.cli import main as hfrl
from human_ui.server.live_folder import LessonFolder
from tests.human_ui.server.api_helpers import make_store, running_server


def _lesson(tmp_path: Path) -> LessonFolder:
    lesson = LessonFolder(tmp_path / "lesson")
    lesson.run.mkdir(parents=True)
    (lesson.run / "config.json").write_text(json.dumps({"env": "hfrl/CartPole-v0"}))
    make_store(lesson.run / "store.sqlite", num_queries=2)
    lesson.write_settings({"env": "hfrl/CartPole-v0"})
    for index, value in enumerate((9.5, 212.0)):
        lesson.rounds_dir.mkdir(exist_ok=True)
        lesson.round_video(index).write_bytes(b"mp4-of-round-%d" % index)
        lesson.add_round(
            {"round": 2 * index, "env_steps": 5000 * (index + 1), "true_return": value}
        )
    return lesson


def test_the_teacher_sees_each_checkpoint_and_its_video(tmp_path: Path) -> None:
    lesson = _lesson(tmp_path)
    with running_server(lesson.run / "store.sqlite") as server:
        data = server.client.get("/api/v1/lesson", headers=server.teacher).json()
        assert data["live"] is True
        assert [(r["round"], r["true_return"]) for r in data["rounds"]] == [(0, 9.5), (2, 212.0)]
        assert data["comparison"] is None
        assert data["figure_url"] is None
        video = server.client.get(data["rounds"][1]["video_url"], headers=server.teacher)
        assert video.status_code == 200
        assert video.content == b"mp4-of-round-1"
        assert video.headers["content-type"] == "video/mp4"
        missing = server.client.get("/api/v1/lesson/rounds/2/video.mp4", headers=server.teacher)
        assert missing.status_code == 404

        lesson.write_comparison({"finished": True, "agents": [{"name": "oracle"}]})
        lesson.figure_path.write_bytes(b"\x89PNG figure")
        data = server.client.get("/api/v1/lesson", headers=server.teacher).json()
        assert data["comparison"]["agents"] == [{"name": "oracle"}]
        figure = server.client.get(data["figure_url"], headers=server.teacher)
        assert figure.status_code == 200
        assert figure.content == b"\x89PNG figure"

        student = server.join("Ana")
        for path in ("/api/v1/lesson", data["rounds"][0]["video_url"], data["figure_url"]):
            assert server.client.get(path, headers=student).status_code == 403, path


def test_a_run_of_no_lesson_has_no_lesson(tmp_path: Path) -> None:
    store = tmp_path / "labels.sqlite"
    make_store(store, num_queries=1)
    with running_server(store) as server:
        data = server.client.get("/api/v1/lesson", headers=server.teacher).json()
        assert data == {"live": False, "rounds": [], "comparison": None, "figure_url": None}
        reply = server.client.get("/api/v1/lesson/rounds/0/video.mp4", headers=server.teacher)
        assert reply.status_code == 404


def test_an_unknown_student_to_compare_is_one_line_before_anything_starts(
    tmp_path: Path, capsys
) -> None:
    out = tmp_path / "live"
    args = ["lesson", "live", "--out", str(out), "--dry-run", "--students", "3", "--quick",
            "--compare-students", "ada-oracle", "zed"]  # fmt: skip
    assert hfrl(args) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1
    assert error[0].startswith("error: no student 'zed'")
    assert "ada-oracle, ben-noisy, cai-mistake" in error[0]
    assert not out.exists()


def test_a_lesson_folder_in_use_is_refused_and_kept(tmp_path: Path, capsys) -> None:
    lesson = _lesson(tmp_path)
    before = sorted(p.name for p in lesson.root.rglob("*"))
    assert hfrl(["lesson", "live", "--out", str(lesson.root), "--quick"]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert sorted(p.name for p in lesson.root.rglob("*")) == before
    assert hfrl(["lesson", "live", "--out", str(tmp_path / "none"), "--compare-only"]) == 2
    assert "holds no live lesson" in capsys.readouterr().err


def test_a_wrong_env_goal_or_budget_is_one_line_and_writes_nothing(tmp_path: Path, capsys) -> None:
    out = tmp_path / "live"
    for wrong, said in (
        (["--env", "hfrl/Nope-v0"], "unknown env id 'hfrl/Nope-v0'"),
        (["--goal", "backflip"], "has no goal 'backflip'"),
        (["--steps", "100", "--labels", "5"], "raise --steps"),
    ):
        assert hfrl(["lesson", "live", "--out", str(out), *wrong]) == 2
        error = capsys.readouterr().err.strip().splitlines()
        assert len(error) == 1
        assert said in error[0]
        assert not out.exists()

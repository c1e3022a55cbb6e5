"""The class's database: tokens stored hashed, kept across reopening, expiring, one teacher."""

from __future__ import annotations

from pathlib import Path

import pytest

from hfrl_gym.errors import ConfigError
from human_ui.server.class_db import ClassDatabase, Role, check_name, class_database_path


def test_tokens_are_stored_hashed_and_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "server.sqlite"
    db = ClassDatabase(path)
    teacher = db.new_teacher_token()
    code = db.settings().join_code
    student, member = db.join(code.lower().replace("-", ""), "Ana", valid_s=60.0)
    db.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert teacher.encode() not in raw
    assert student.encode() not in raw
    again = ClassDatabase(path)
    assert again.settings().join_code == code
    assert again.member(teacher).role is Role.TEACHER
    assert again.member(student) == member
    assert member.claimant == f"Ana#{member.client_id}"
    assert again.member("forged") is None
    new_teacher = again.new_teacher_token()
    assert again.member(teacher) is None  # the old teacher token stops working
    assert again.member(new_teacher).role is Role.TEACHER
    again.close()


def test_joining_needs_the_code_an_open_class_and_a_free_name(tmp_path: Path) -> None:
    db = ClassDatabase(tmp_path / "server.sqlite")
    code = db.settings().join_code
    with pytest.raises(PermissionError, match="wrong join code"):
        db.join("WRONG-CODE", "Ana", valid_s=60.0)
    db.join(code, "Ana", valid_s=60.0)
    with pytest.raises(ConfigError, match="taken"):
        db.join(code, "Ana", valid_s=60.0)
    db.change(open=False)
    with pytest.raises(PermissionError, match="closed"):
        db.join(code, "Bo", valid_s=60.0)
    assert db.change(new_code=True).join_code != code
    token, _ = db.change(open=True) and db.join(db.settings().join_code, "Cy", valid_s=-1.0)
    assert db.member(token) is None  # expired
    assert [s.name for s in db.students()] == ["Ana", "Cy"]
    db.close()


def test_names_and_where_the_file_lives(tmp_path: Path) -> None:
    assert check_name(" Zoë M. ") == "Zoë M."
    for bad in ("", "a#b", "x" * 41, "../x", "a\nb"):
        with pytest.raises(ConfigError, match="a name is 1-40"):
            check_name(bad)
    store = tmp_path / "labels.sqlite"
    assert class_database_path(store) == tmp_path / "labels.sqlite.server.sqlite"
    (tmp_path / "config.json").write_text("{}")
    assert class_database_path(tmp_path / "store.sqlite") == tmp_path / "server.sqlite"

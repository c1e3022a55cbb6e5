"""Lesson claims: printed plainly, written to claims.json, read back; bad files are one error."""

from __future__ import annotations

import json

import pytest

from agents.lessons.claims import Claim, read_claims, report_claims
from hfrl_gym.errors import ConfigError


def test_claims_round_trip_and_verdicts_are_printed(tmp_path, capsys):
    up = Claim("up", "the learned return rises")
    down = Claim("down", "the true return falls")
    path = report_claims(
        tmp_path, "reward-hacking", 3, [up.check(True, "3 -> 40"), down.check(False, "10 -> 12")]
    )
    printed = capsys.readouterr().out
    assert "[held] the learned return rises" in printed
    assert "[NOT shown by this run] the true return falls" in printed
    assert "(10 -> 12)" in printed
    lesson, seed, quick, checked = read_claims(path)
    assert (lesson, seed, quick) == ("reward-hacking", 3, False)
    assert [(c.key, c.held, c.evidence) for c in checked] == [
        ("up", True, "3 -> 40"),
        ("down", False, "10 -> 12"),
    ]


def test_all_held_prints_no_excuse(tmp_path, capsys):
    report_claims(tmp_path, "x", 0, [Claim("a", "a").check(True, "e")])
    assert "did not show" not in capsys.readouterr().out


def test_repeated_keys_are_refused(tmp_path):
    claim = Claim("a", "a")
    with pytest.raises(ValueError, match="repeat"):
        report_claims(tmp_path, "x", 0, [claim.check(True, ""), claim.check(False, "")])


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        json.dumps({"format": 99, "lesson": "x", "seed": 0, "quick": False, "claims": []}),
        json.dumps({"format": 1, "lesson": "x", "seed": "0", "quick": False, "claims": []}),
        json.dumps({"format": 1, "lesson": "x", "seed": 0, "quick": False, "claims": [{}]}),
        json.dumps(
            {
                "format": 1,
                "lesson": "x",
                "seed": 0,
                "quick": False,
                "claims": [{"key": "a", "text": "a", "held": "yes", "evidence": ""}],
            }
        ),
    ],
)
def test_bad_claims_files_are_one_clear_error(tmp_path, text):
    path = tmp_path / "claims.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match="claims"):
        read_claims(path)


def test_missing_claims_file(tmp_path):
    with pytest.raises(ConfigError, match="no claims file"):
        read_claims(tmp_path / "claims.json")

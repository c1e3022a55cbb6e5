"""What a lesson claims, checked on what its run actually did.

Every lesson states its claims up front (the same words as docs/TEACHING.md, written there
before the multi-seed runs and not weakened after), checks each one on the numbers its run
produced, prints plainly whether the run showed it, and writes ``claims.json`` into its
output folder. ``scripts/bench_teaching.py`` runs every lesson over seeds and counts, from
those files, on how many seeds each claim held.

A claim that a run did not show is said so, never printed as if it held: the lesson still
draws its figures, and the lecturer can say why (a seed, a budget) from the evidence line.

Classes:
    Claim: one statement a lesson makes, with what decides it.
    Checked: a claim checked on one run (held or not, and the numbers that decided it).

Functions:
    report_claims: print the checked claims and write ``claims.json``.
    read_claims: read a lesson run's ``claims.json`` back (a missing or damaged file is one
        clear error).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hfrl_gym.errors import ConfigError

CLAIMS_FILE = "claims.json"
FORMAT = 1


@dataclass(frozen=True)
class Claim:
    """One statement a lesson makes about what its run shows.

    Attributes:
        key: a short stable name (``learned-beats-controls``): tables and tests use it.
        text: the claim in the words docs/TEACHING.md gives it.

    Example:
        >>> claim = Claim("up", "the learned return rises")
        >>> claim.check(True, "learned return 3 -> 40").held
        True
    """

    key: str
    text: str

    def check(self, held: bool, evidence: str) -> Checked:
        """This claim, decided on one run: ``held`` and the numbers that decided it."""
        return Checked(self.key, self.text, bool(held), evidence)


@dataclass(frozen=True)
class Checked:
    """A claim checked on one run.

    Attributes:
        key: the claim's key.
        text: the claim.
        held: whether the run showed it.
        evidence: the numbers it was decided on, in words (printed and stored).
    """

    key: str
    text: str
    held: bool
    evidence: str

    def line(self) -> str:
        """The line a lesson prints for it."""
        verdict = "held" if self.held else "NOT shown by this run"
        return f"  [{verdict}] {self.text}\n      ({self.evidence})"


def report_claims(
    out: Path, lesson: str, seed: int, checked: Sequence[Checked], *, quick: bool = False
) -> Path:
    """Print ``checked`` and write them to ``out/claims.json``; return its path.

    The file is replaced atomically, so a reader never sees half of it. With ``quick``, the
    lesson ran at its tiny budget: the file says so, and the printout reminds that the
    claims are meant for the default budget.
    """
    keys = [claim.key for claim in checked]
    if len(set(keys)) != len(keys):
        raise ValueError(f"claim keys repeat: {keys}")
    print("\nWhat this run was meant to show, checked on what it did:")
    for claim in checked:
        print(claim.line())
    if quick:
        print("  (--quick: a tiny budget; the claims are made for the default budget)")
    if not all(claim.held for claim in checked):
        print(
            "  A claim this run did not show is worth a minute of the class: the evidence\n"
            "  line says what happened instead (another --seed, or the default budget, may)."
        )
    record = {
        "format": FORMAT,
        "lesson": lesson,
        "seed": seed,
        "quick": quick,
        "claims": [
            {"key": c.key, "text": c.text, "held": c.held, "evidence": c.evidence} for c in checked
        ],
    }
    out.mkdir(parents=True, exist_ok=True)
    path = out / CLAIMS_FILE
    temp = path.with_name(f".{CLAIMS_FILE}.{os.getpid()}.tmp")
    temp.write_text(json.dumps(record, indent=2, allow_nan=False) + "\n", "utf-8")
    os.replace(temp, path)
    return path


def read_claims(path: Path) -> tuple[str, int, bool, list[Checked]]:
    """``(lesson, seed, quick, checked claims)`` from a ``claims.json`` written above.

    Raises:
        ConfigError: the file is missing, not JSON, of another format, or malformed.
    """
    try:
        record = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no claims file (did the lesson run finish?)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"{path}: not a claims file ({error})") from None
    try:
        if record["format"] != FORMAT:
            raise ConfigError(f"{path}: claims format {record['format']!r}, expected {FORMAT}")
        checked = [
            Checked(str(c["key"]), str(c["text"]), _bool(c["held"]), str(c["evidence"]))
            for c in record["claims"]
        ]
        seed = record["seed"]
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise TypeError("seed")
        return str(record["lesson"]), seed, _bool(record["quick"]), checked
    except (KeyError, TypeError) as error:
        raise ConfigError(f"{path}: malformed claims file (field {error})") from None


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(repr(value))
    return value

"""Every bad input gets one line: a table of bad flags, files, folders, stores, exports, run
folders, checkpoints and policies, across the ``hfrl`` commands.

Each case runs the command in this process (``human_ui.cli.main``; a few through the real
console script) and must exit with status 2 and print exactly one ``error:`` line, which names
the flag or file, with no traceback; and the sha256 of every file of the store, export and run
folder it was given, and of everything the case made, is the same afterwards. An exit status of
1 (the last resort for an unexpected exception) fails the case.
"""

from __future__ import annotations

import hashlib
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hfrl_gym.answers import Answer, Choice
from hfrl_gym.store import LabelStore
from hfrl_gym.store_io import export_store
from human_ui.cli import main
from tests.bad_inputs.changes import MARKER, Case
from tests.bad_inputs.run_cases import RUN_CASES
from tests.bad_inputs.store_cases import STORE_CASES
from tests.conftest import make_clip

LEGACY = Path(__file__).resolve().parent / "data" / "legacy" / "run_v1"
HFRL = str(Path(sys.executable).with_name("hfrl"))
CASES = {**STORE_CASES, **RUN_CASES}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A store, its export, an empty store and a run folder (a copy of the legacy run)."""
    root = tmp_path_factory.mktemp("shared")
    rng = np.random.default_rng(0)
    with LabelStore(root / "store.sqlite") as store:
        uids = store.add_clips([make_clip(rng, num_steps=6) for _ in range(4)])
        ids = store.add_queries([(uids[0], uids[1]), (uids[2], uids[3])])
        store.add_answer(ids[0], Answer(Choice.LEFT, annotator="ana", seconds=1.5))
        export_store(store, root / "export")
    LabelStore(root / "empty.sqlite").close()
    shutil.copytree(LEGACY, root / "run")
    (root / "notes.txt").write_text("my notes, not hfrl's\n")
    return {
        "store": root / "store.sqlite",
        "export": root / "export",
        "empty": root / "empty.sqlite",
        "run": root / "run",
        "notes": root / "notes.txt",
        "root": root,
    }


# -- running a case ---------------------------------------------------------------------------


def _hashes(*roots: Path) -> dict[str, str]:
    found = {}
    for root in roots:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*"))
        for path in paths:
            key = str(path)
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return found


def _argv(case: Case, tmp: Path, shared: dict[str, Path]) -> list[str]:
    text = case.argv.format(tmp=tmp, **{k: v for k, v in shared.items() if k != "root"})
    return shlex.split(text)


def _one_error_line(code: object, err: str, names: str) -> None:
    assert "Traceback" not in err, err
    assert code == 2, f"exit {code}: {err}"
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    assert names in lines[0], f"{names!r} not in {lines[0]!r}"


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_bad_input_gets_one_error_line_and_changes_nothing(
    case: Case,
    tmp_path: Path,
    shared: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    if case.prepare is not None:
        case.prepare(tmp_path, shared)
    before = _hashes(shared["root"], tmp_path)
    try:
        code = main(_argv(case, tmp_path, shared))
    except SystemExit as exit_:  # argparse
        code = exit_.code
    _, err = capsys.readouterr()
    _one_error_line(code, err, case.names)
    assert _hashes(shared["root"], tmp_path) == before
    assert not Path(MARKER).exists()


def test_the_table_is_long_enough() -> None:
    assert len(CASES) >= 150


@pytest.mark.parametrize(
    "name", ["train a billion rounds", "resume hostile policy zip", "import answer NaN seconds"]
)
def test_through_the_console_script(name: str, tmp_path: Path, shared: dict[str, Path]) -> None:
    """The real entry point: nothing else (warnings, logs) reaches stderr."""
    case = CASES[name]
    if case.prepare is not None:
        case.prepare(tmp_path, shared)
    before = _hashes(shared["root"], tmp_path)
    result = subprocess.run(
        [HFRL, *_argv(case, tmp_path, shared)], capture_output=True, text=True, timeout=120
    )
    _one_error_line(result.returncode, result.stderr, case.names)
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert _hashes(shared["root"], tmp_path) == before

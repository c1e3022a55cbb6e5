"""The layers point one way, also where import-linter cannot see (imports from strings)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
HIGHER = {"hfrl_gym": r"^(agents|human_ui)(\.|$)", "agents": r"^human_ui(\.|$)"}


def _strings_outside_docstrings(tree: ast.AST) -> list[ast.Constant]:
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


@pytest.mark.parametrize("package", sorted(HIGHER))
def test_no_lower_module_names_a_higher_one_in_a_string(package: str) -> None:
    """``importlib.import_module("agents.cli")`` in hfrl_gym would hide an upward import."""
    offenders = []
    for path in sorted((REPO / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _strings_outside_docstrings(tree):
            if re.match(HIGHER[package], node.value):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno} {node.value!r}")
    assert offenders == []


def test_the_scan_finds_an_upward_string() -> None:
    """The check above is not vacuous: a module naming ``agents.cli`` would be caught."""
    tree = ast.parse('"""Docstring naming agents.cli is fine."""\nNAME = "agents.cli"\n')
    found = [
        n.value for n in _strings_outside_docstrings(tree) if re.match(HIGHER["hfrl_gym"], n.value)
    ]
    assert found == ["agents.cli"]


def test_hfrl_help_loads_neither_torch_nor_pygame() -> None:
    code = (
        "import sys\nfrom human_ui.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules, 'pygame' in sys.modules, 'agents' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip().splitlines()[-1] == "False False False"


def test_the_console_script_is_the_top_layer() -> None:
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert 'hfrl = "human_ui.cli:main"' in text


def test_import_contracts_hold() -> None:
    """The same check `make lint` runs: import-linter's contracts in pyproject.toml."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports)], capture_output=True, text=True, check=False, cwd=REPO
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "BROKEN" not in result.stdout

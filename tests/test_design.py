"""The design holds: the core imports no Textual or Rich, and the linters are clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_core_imports_without_textual_or_rich():
    code = (
        "import sys, playground.core.lab, playground.core.scenarios, playground.core.export\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'textual', 'rich'}"
        " or m.startswith('playground.ui'))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; install the project with its [test] extra")
    return found


@pytest.mark.parametrize(
    "command",
    [
        ["lint-imports"],
        ["ruff", "check", "."],
        ["mypy"],
    ],
    ids=["import-linter", "ruff", "mypy"],
)
def test_linters(command: list[str]):
    result = subprocess.run(
        [_tool(command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr

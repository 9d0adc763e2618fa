"""The design holds: the core imports no Textual or Rich, and the linters are clean."""

from __future__ import annotations

import re
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
        ["ruff", "format", "--check", "."],
        ["mypy"],
    ],
    ids=["import-linter", "ruff", "ruff-format", "mypy"],
)
def test_linters(command: list[str]):
    result = subprocess.run(
        [_tool(command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_start_up_imports_only_the_opening_scenario():
    """Scenario modules load on first use, so adding scenarios does not slow start-up."""
    code = (
        "import sys\n"
        "from playground.__main__ import parse_arguments\n"
        "from playground.ui.app import make_app\n"
        "args = parse_arguments(['--scenario', 'rollback'])\n"
        "make_app('sqlite+aiosqlite://', scenario=args.scenario)\n"
        "print(sorted(m.rsplit('.', 1)[1] for m in sys.modules"
        " if m.startswith('playground.core.scenarios.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['api', 'rollback', 'script']"


def test_start_up_leaves_dialogs_and_other_mappings_for_later():
    """The dialogs and the mappings only some scenarios use are not imported to start."""
    code = (
        "import sys\n"
        "from playground.ui.app import make_app\n"
        "make_app('sqlite+aiosqlite://')\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('playground.'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = out.stdout.split()
    assert "playground.ui.app" in loaded and "playground.core.models" in loaded
    assert "playground.ui.screens" not in loaded
    assert "playground.core.mappings" not in loaded


def test_scenario_files_follow_the_registry_rules():
    """Every scenario module defines SCENARIO, a known group, and keyword-only switches."""
    from playground.core.scenarios import GROUPS, SCENARIOS

    for name in SCENARIOS.names():
        scenario = SCENARIOS[name]
        assert scenario.name == name and scenario.group in GROUPS
        assert scenario.title and scenario.summary and scenario.shows, name
        keys = [option.key for option in scenario.options]
        assert len(keys) == len(set(keys)), f"{name}: a switch key appears twice"
        fixes = [option for option in scenario.options if option.fix]
        assert fixes, f"{name}: no switch is marked fix=True, so the tour has nothing to ask for"


def test_readme_scenario_table_matches_the_registry():
    """The README's scenario table is generated: a new scenario without its row fails here."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "readme_tables.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_picture_the_readme_shows_exists():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pictures = re.findall(r"\]\((screenshots/[^)]+)\)", readme)
    assert pictures, "the README shows no screenshots"
    missing = [p for p in pictures if not (ROOT / p).is_file()]
    assert not missing, f"README shows pictures that do not exist: {missing}"


def test_the_readme_is_for_users_and_short():
    """What a user needs fits under 300 lines; design and benchmarks live in docs/."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 300
    for page in ("docs/architecture.md", "docs/benchmarks.md"):
        assert f"]({page})" in readme
        assert (ROOT / page).is_file(), page

"""Run a scenario's exported script for real, once per setting and database per test run.

Two suites need the same subprocess: the script test (it ends as the lab's run did) and
the diagnosis round trip (its stderr names the right pitfall). Each script runs once on
freshly emptied tables and both read that one result, which halves the slowest part of
the suite without weakening either check.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from playground.core.scenarios import Scenario
from playground.core.scenarios.script import without_password

from .conftest import drop_playground_tables

_RUNS: dict[tuple[str, tuple[tuple[str, bool], ...], str], subprocess.CompletedProcess[str]] = {}


def script_environment(db_url: str, tmp_path: Path) -> dict[str, str]:
    """Where the script should write: a fresh SQLite file, or the test server."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        return {"PLAYGROUND_DB": f"sqlite+aiosqlite:///{tmp_path / 'script.db'}"}
    password = url.password or ""
    return {"PLAYGROUND_DB": without_password(url), "PGPASSWORD": str(password)}


async def run_script(
    scenario: Scenario, settings: dict[str, bool], db_url: str, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    """The script for these settings, run with python on empty tables (cached per run)."""
    key = (scenario.name, tuple(sorted(scenario.settings(settings).items())), db_url)
    if key not in _RUNS:
        script = tmp_path / "script.py"
        script.write_text(scenario.script(settings, db_url).text)
        await drop_playground_tables(db_url)
        _RUNS[key] = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env={**os.environ, **script_environment(db_url, tmp_path)},
        )
    return _RUNS[key]

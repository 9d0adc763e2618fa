"""The exported script is honest: run for real, it ends as the lab's own run did."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from playground.core.lab import Lab
from playground.core.scenarios import SCENARIOS
from playground.core.scenarios.script import without_password

from .conftest import drop_playground_tables


def combinations():
    for scenario in SCENARIOS.values():
        keys = [option.key for option in scenario.options]
        for values in itertools.product([True, False], repeat=len(keys)):
            settings = dict(zip(keys, values, strict=True))
            label = ",".join(f"{k}={'on' if v else 'off'}" for k, v in settings.items())
            yield pytest.param(scenario.name, settings, id=f"{scenario.name}:{label}")


def flags(settings: dict[str, bool]) -> list[str]:
    return [f"--{'' if on else 'no-'}{key.replace('_', '-')}" for key, on in settings.items()]


def script_environment(db_url: str, tmp_path: Path) -> dict[str, str]:
    """Where the script should write: a fresh SQLite file, or the test server."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        return {"PLAYGROUND_DB": f"sqlite+aiosqlite:///{tmp_path / 'script.db'}"}
    password = url.password or ""
    return {"PLAYGROUND_DB": without_password(url), "PGPASSWORD": str(password)}


@pytest.mark.parametrize(("scenario_name", "settings"), list(combinations()))
async def test_printed_script_reproduces_the_lab(
    db_url: str, tmp_path: Path, scenario_name: str, settings: dict[str, bool]
):
    scenario = SCENARIOS[scenario_name]
    lab = Lab(db_url)
    await lab.open()
    result = await lab.run(scenario, "Foo", settings)
    await lab.close()

    printed = subprocess.run(
        [
            sys.executable,
            "-m",
            "playground",
            "--print-script",
            "--scenario",
            scenario_name,
            "--db",
            db_url,
            *flags(settings),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    password = make_url(db_url).password
    assert password is None or f":{password}@" not in printed, "no password in the script"
    script = tmp_path / "script.py"
    script.write_text(printed)
    await drop_playground_tables(db_url)
    ran = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, **script_environment(db_url, tmp_path)},
    )

    error = result.outcome.error
    if error is None:
        assert ran.returncode == 0, ran.stderr
        printed_value = ran.stdout.strip().splitlines()[-1]
        if scenario.deterministic_value:
            assert printed_value == result.outcome.printed
        else:
            assert printed_value and result.outcome.printed
    else:
        assert ran.returncode != 0
        assert "Traceback (most recent call last)" in ran.stderr
        kinds = r"^([\w.]+(?:Error|Greenlet|Exception|Available)): "
        raised = re.findall(kinds, ran.stderr, re.M)
        # Python prints built-in exceptions without their "builtins." module.
        assert raised and raised[-1] == error.outer.type_name.removeprefix("builtins."), ran.stderr
        assert ran.stdout.strip() == ""

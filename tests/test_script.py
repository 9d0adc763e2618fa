"""The exported script is honest: run for real, it ends as the lab's own run did."""

from __future__ import annotations

import contextlib
import io
import itertools
import re
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from playground.__main__ import main
from playground.core.lab import Lab
from playground.core.scenarios import SCENARIOS

from .expected import VALUE_VARIES
from .scripts import run_script


def combinations():
    for scenario in SCENARIOS.values():
        keys = [option.key for option in scenario.options]
        for values in itertools.product([True, False], repeat=len(keys)):
            settings = dict(zip(keys, values, strict=True))
            label = ",".join(f"{k}={'on' if v else 'off'}" for k, v in settings.items())
            yield pytest.param(scenario.name, settings, id=f"{scenario.name}:{label}")


def flags(settings: dict[str, bool]) -> list[str]:
    return [f"--{'' if on else 'no-'}{key.replace('_', '-')}" for key, on in settings.items()]


@pytest.mark.parametrize("scenario_name", SCENARIOS.names())
def test_print_script_prints_the_scenarios_script(scenario_name: str):
    """The command line prints exactly the script the tests below run."""
    scenario = SCENARIOS[scenario_name]
    settings = {option.key: not option.default for option in scenario.options}
    url = "sqlite+aiosqlite:///lab.db"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["--print-script", "--scenario", scenario_name, "--db", url, *flags(settings)])
    assert code == 0
    assert out.getvalue() == scenario.script(settings, url).text


@pytest.mark.parametrize(("scenario_name", "settings"), list(combinations()))
async def test_printed_script_reproduces_the_lab(
    db_url: str, tmp_path: Path, scenario_name: str, settings: dict[str, bool]
):
    scenario = SCENARIOS[scenario_name]
    lab = Lab(db_url)
    await lab.open()
    result = await lab.run(scenario, "Foo", settings)
    await lab.close()

    password = make_url(db_url).password
    printed = scenario.script(settings, db_url).text
    assert password is None or f":{password}@" not in printed, "no password in the script"
    ran = await run_script(scenario, settings, db_url, tmp_path)

    error = result.outcome.error
    if error is None:
        assert ran.returncode == 0, ran.stderr
        printed_value = ran.stdout.strip().splitlines()[-1]
        if scenario.name not in VALUE_VARIES:
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

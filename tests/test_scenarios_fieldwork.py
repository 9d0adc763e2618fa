"""The facts the serialization, logging and deferred-column scenarios show, measured for real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from playground.core.lab import Lab
from playground.core.mappings import PostOfUser, UserWithPosts
from playground.core.scenarios import SCENARIOS
from playground.core.scenarios.deferred_column import READ_STEP as DEFERRED_READ
from playground.core.scenarios.serialization import (
    READ_STEP,
    VALIDATE_STEP,
    UserOut,
    failed_fields,
    validation_text,
)

from .conftest import drop_playground_tables
from .expected import outcome_kind
from .scripts import script_environment


async def test_pydantic_validation_error_has_no_chain(lab: Lab):
    """Measured outside a scenario run: pydantic keeps the text of the error, not the error."""
    assert lab.engine is not None  # the lab made the tables
    session_factory = async_sessionmaker(lab.engine)
    async with session_factory() as session:
        user = UserWithPosts(name="Foo", posts=[PostOfUser(title="first")])
        session.add(user)
        await session.commit()
    async with session_factory() as session:
        loaded = (await session.execute(select(UserWithPosts))).scalar_one()
        with pytest.raises(ValidationError) as caught:
            UserOut.model_validate(loaded, from_attributes=True)
    error = caught.value
    assert error.__cause__ is None and error.__context__ is None
    (detail,) = error.errors()
    assert detail["type"] == "get_attribute_error" and detail["loc"] == ("posts",)
    assert "Error extracting attribute" in detail["msg"] and "MissingGreenlet" in detail["msg"]


async def test_serialization_shows_the_wrapped_error_without_sqlalchemy_frames(lab: Lab):
    scenario = SCENARIOS["serialization"]
    result = await lab.run(scenario, "Foo", {})
    error = result.outcome.error
    assert error is not None and error.outer.type_name.endswith("ValidationError")
    assert len(error.chain) == 1 and not error.involves_missing_greenlet
    text = validation_text(result)
    assert "get_attribute_error" in text
    assert [(f.field, f.greenlet) for f in failed_fields(text)] == [("posts", True)]
    frames = [line for line in error.traceback.splitlines() if line.lstrip().startswith("File ")]
    assert frames and not any("sqlalchemy" in frame for frame in frames)
    loaded = next(s for s in result.states if s.step == READ_STEP)
    assert "posts" in loaded.unloaded and "posts" not in loaded.expired
    why = " ".join(scenario.explain(result).why)
    assert "posts was never loaded (a lazy relationship)" in why
    assert "no __cause__ and no __context__" in why


async def test_after_a_commit_selectinload_does_not_help(lab: Lab):
    scenario = SCENARIOS["serialization"]
    settings = {"just_committed": True, "selectinload": True}
    result = await lab.run(scenario, "Foo", settings)
    assert outcome_kind(result) == "ValidationError"
    reads = [s.sql for s in result.sql if s.step == READ_STEP]
    assert any("IN (" in sql and "playground_posts" in sql for sql in reads), "posts were loaded"
    fields = [f.field for f in failed_fields(validation_text(result))]
    assert fields == ["uid", "name", "posts"]
    committed = next(s for s in result.states if s.step.startswith("await session.commit()  #"))
    assert set(committed.expired) == {"uid", "name", "posts"}
    why = " ".join(scenario.explain(result).why)
    assert "uid was expired" in why and "so it did not help" in why
    kept = await lab.run(scenario, "Foo", {**settings, "expire_on_commit": False})
    assert kept.outcome.error is None and '"title":"second"' in (kept.outcome.printed or "")


async def test_flat_model_reads_no_relationship(lab: Lab):
    result = await lab.run(SCENARIOS["serialization"], "Foo", {"flat_model": True})
    assert result.outcome.printed == '{"uid":1,"name":"Foo"}'
    assert not [s for s in result.sql if s.step == VALIDATE_STEP and s.sql.startswith("SELECT")]


async def test_logging_error_is_captured_and_the_program_goes_on(
    lab: Lab, capfd: pytest.CaptureFixture[str]
):
    scenario = SCENARIOS["repr-logging"]
    result = await lab.run(scenario, "Foo", {})
    assert result.outcome.error is None, "logging caught the error: nothing raised"
    assert result.outcome.printed == str(result.committed[0][0]), "the code after it ran"
    assert outcome_kind(result) == "LoggingError"
    assert result.stderr.startswith("--- Logging error ---")
    assert "MissingGreenlet" in result.stderr
    assert "Unable to print the message and arguments" in result.stderr
    assert not [note for note in result.notes if note.startswith("log line: ")], "line lost"
    assert "Logging error" not in capfd.readouterr().err, "nothing reached the real stderr"
    explanation = scenario.explain(result)
    assert explanation.headline.startswith("Logging error")
    assert "--- Logging error ---" in explanation.notes


async def test_fstring_raises_where_it_is_written(lab: Lab):
    result = await lab.run(SCENARIOS["repr-logging"], "Foo", {"fstring": True})
    error = result.outcome.error
    assert error is not None and error.involves_missing_greenlet
    assert "--- Logging error ---" not in result.stderr
    assert result.failed_step == 'logger.info(f"saved {user!r}")'


async def test_repr_of_loaded_values_logs_without_io(lab: Lab):
    result = await lab.run(SCENARIOS["repr-logging"], "Foo", {"loaded_only_repr": True})
    assert "log line: INFO:app:saved User(uid='?', name='?')" in result.notes
    assert not [s for s in result.sql if s.step.startswith("logger.info")]


async def test_repr_logging_script_prints_the_logging_error_and_goes_on(
    db_url: str, tmp_path: Path
):
    printed = SCENARIOS["repr-logging"].script({}, db_url, "Foo").text
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
    assert ran.returncode == 0, ran.stderr
    assert "--- Logging error ---" in ran.stderr and "MissingGreenlet" in ran.stderr
    assert ran.stdout.strip() == "1"


async def test_undefer_issues_one_select_with_the_column(lab: Lab):
    result = await lab.run(SCENARIOS["deferred-column"], "Foo", {"undefer": True})
    selects = [s.sql for s in result.sql if s.sql.startswith("SELECT")]
    assert len(selects) == 1 and "playground_users.name" in selects[0].split("FROM")[0]
    assert result.outcome.printed == "Foo"


async def test_deferred_column_is_left_out_and_its_load_refused(lab: Lab):
    result = await lab.run(SCENARIOS["deferred-column"], "Foo", {})
    assert outcome_kind(result) == "MissingGreenlet"
    (read,) = [s.sql for s in result.sql if s.step == DEFERRED_READ and s.sql.startswith("SELECT")]
    assert "playground_users.name" not in read.split("FROM")[0]
    attempted = [s.sql for s in result.sql if s.attempted]
    assert attempted and "playground_users.name" in attempted[0]
    loaded = next(s for s in result.states if s.step == DEFERRED_READ)
    assert "name" in loaded.unloaded and "name" not in loaded.expired

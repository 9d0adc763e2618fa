"""A swallowed logging error shown as a warning, with its stderr; SQL refused under pydantic."""

from __future__ import annotations

import contextlib
import io
import logging

import pytest
import sqlalchemy

from playground.core.export import entry_markdown
from playground.core.lab import Lab
from playground.core.names import visible
from playground.core.scenarios import SCENARIOS
from playground.core.scenarios.serialization import VALIDATE_STEP
from playground.ui.render import STDERR_LINES, swallowed_by_logging

from .pilot import add, entries, log_text
from .test_insight import static_text

SIZE = (100, 40)
WARNING_LINE = "⚠ logged nothing: logging swallowed MissingGreenlet"


# 1. The log and the details say what a logging error on stderr means.


async def test_a_swallowed_logging_error_is_a_warning_in_the_log(app_factory):
    app = app_factory(scenario="repr-logging")
    async with app.run_test(size=SIZE) as pilot:
        await add(pilot, "Foo")
        (result,) = entries(app)
        assert result.outcome.error is None, "logging caught the error: the read went on"
        text = log_text(app)
        assert f"{WARNING_LINE}; then uid = {result.outcome.value}" in text
        assert "✓" not in text


async def test_the_details_show_the_captured_stderr_as_plain_text(app_factory):
    app = app_factory(scenario="repr-logging")
    async with app.run_test(size=SIZE) as pilot:
        await add(pilot, "Foo")
        await pilot.press("f6")
        await pilot.pause()
        (result,) = entries(app)
        lines = result.stderr.rstrip().splitlines()
        assert len(lines) > STDERR_LINES, "the report with its frames is long"
        text = static_text(app, "#details-body")
        assert f"Captured stderr ({len(lines)} lines)" in text
        shown = text.split(f"Captured stderr ({len(lines)} lines)\n", 1)[1]
        kept, rest = shown.split("\n… ", 1)
        # The first lines verbatim: brackets such as [SQL: ...] were not read as markup.
        assert kept == "\n".join(visible(line) for line in lines[:STDERR_LINES])
        assert rest.startswith(f"{len(lines) - STDERR_LINES} more lines")


async def test_a_logged_line_keeps_its_tick(app_factory):
    app = app_factory(scenario="repr-logging", settings={"expire_on_commit": False})
    async with app.run_test(size=SIZE) as pilot:
        await add(pilot, "Foo")
        (result,) = entries(app)
        text = log_text(app)
        assert f"✓ uid = {result.outcome.value}" in text
        assert "⚠" not in text and "logging swallowed" not in text


async def test_the_export_carries_stderr_in_a_fence(lab: Lab):
    scenario = SCENARIOS["repr-logging"]
    result = await lab.run(scenario, "Foo", {})
    markdown = entry_markdown(result, scenario.explain(result))
    block = markdown.split("Captured stderr:\n\n```text\n", 1)[1].split("\n```", 1)[0]
    assert block == "\n".join(visible(line) for line in result.stderr.rstrip().splitlines())
    kept = await lab.run(scenario, "Bar", {"expire_on_commit": False})
    assert kept.stderr == "" and "Captured stderr" not in entry_markdown(
        kept, scenario.explain(kept)
    )


def test_the_swallowed_exception_is_read_from_the_report():
    """A real logging error that is not SQLAlchemy's: a format error, with Arguments: after."""
    logger = logging.getLogger("playground.tests.polish")
    handler = logging.StreamHandler(io.StringIO())
    logger.addHandler(handler)
    logger.propagate = False
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            logger.error("%d users", "many")
    finally:
        logger.removeHandler(handler)
    report = errors.getvalue()
    assert "--- Logging error ---" in report and "\nArguments: ('many',)" in report
    assert swallowed_by_logging(report) == "TypeError"


@pytest.mark.skipif(
    not sqlalchemy.__version__.startswith("2.1"),
    reason="only SQLAlchemy 2.1's aiosqlite adapter leaves the cursor coroutine unawaited",
)
async def test_a_never_awaited_warning_is_not_a_logging_error(tmp_path):
    lab = Lab(f"sqlite+aiosqlite:///{tmp_path / 'lab.db'}")
    await lab.open()
    try:
        result = await lab.run(SCENARIOS["after-commit"], "Foo", {})
    finally:
        await lab.close()
    assert "coroutine 'Connection.cursor' was never awaited" in result.stderr
    assert swallowed_by_logging(result.stderr) is None


# 2. The SELECT a lazy load tried under pydantic's validation is marked attempted.


async def test_the_lazy_load_under_validation_is_marked_attempted(lab: Lab):
    result = await lab.run(SCENARIOS["serialization"], "Foo", {})
    error = result.outcome.error
    assert error is not None and error.outer.type_name.endswith("ValidationError")
    assert not error.involves_missing_greenlet and "MissingGreenlet" in error.outer.message
    attempted = [s for s in result.sql if s.attempted]
    assert attempted and all(s.step == VALIDATE_STEP for s in attempted)
    assert all(s.sql.startswith("SELECT") and "FROM playground_posts" in s.sql for s in attempted)
    step = [s for s in result.sql if s.step == VALIDATE_STEP]
    rollbacks = [i for i, s in enumerate(step) if s.sql == "ROLLBACK"]
    first = next(i for i, s in enumerate(step) if s.attempted)
    assert rollbacks and first < rollbacks[0], "the session's close rolls back after the load"


async def test_expired_columns_under_validation_are_marked_attempted(lab: Lab):
    result = await lab.run(SCENARIOS["serialization"], "Foo", {"just_committed": True})
    attempted = [s for s in result.sql if s.attempted]
    assert attempted and all(s.step == VALIDATE_STEP for s in attempted)
    assert all("FROM playground_users" in s.sql for s in attempted), "the refresh of uid"


async def test_a_serialization_that_works_marks_nothing(lab: Lab):
    result = await lab.run(SCENARIOS["serialization"], "Foo", {"flat_model": True})
    assert result.outcome.error is None
    assert not any(s.attempted for s in result.sql)

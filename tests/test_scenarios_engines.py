"""The facts the concurrency and engine-setup scenarios show, checked on real runs."""

from __future__ import annotations

import sys

import sqlalchemy

from playground.core.capture import describe_exception
from playground.core.lab import Lab
from playground.core.scenarios import SCENARIOS
from playground.core.scenarios.greenlet_missing import ChildFailed, child_exception

from .expected import outcome_kind

SQLALCHEMY_20 = sqlalchemy.__version__.startswith("2.0.")
MARKERS = ("BEGIN (implicit)", "COMMIT", "ROLLBACK")


def statements_at(result, prefix: str) -> list:
    return [s for s in result.sql if s.step.startswith(prefix) and s.sql not in MARKERS]


async def test_gather_on_a_provisioning_session_refuses_the_second_task(lab: Lab):
    result = await lab.run(SCENARIOS["concurrent-session"], "Foo", {})
    error = result.outcome.error
    assert error is not None and error.outer.type_name == "sqlalchemy.exc.InvalidRequestError"
    assert "concurrent operations are not permitted" in error.outer.message
    tasks = [note for note in result.notes if note.startswith("task ")]
    assert tasks[0] == "task 1 (find_name) returned 'Foo'"
    assert tasks[1].startswith("task 2 (find_name) raised InvalidRequestError: This session is")
    selects = statements_at(result, "await asyncio.gather")
    assert len(selects) == 1, "only the first task's SELECT reached the database"
    assert result.committed, "the user committed before the gather is in the table"


async def test_a_held_connection_lets_both_tasks_through(lab: Lab):
    result = await lab.run(SCENARIOS["concurrent-session"], "Foo", {"connection_held": True})
    assert result.outcome.printed == "['Foo', 'Foo']"
    assert len(statements_at(result, "await asyncio.gather")) == 2
    why = " ".join(SCENARIOS["concurrent-session"].explain(result).why)
    assert "Passing once proves nothing" in why


async def test_the_concurrency_outcome_holds_over_repeated_runs(lab: Lab):
    """The refusal is not luck: it repeats, and a session per task never fails."""
    scenario = SCENARIOS["concurrent-session"]
    refused = [outcome_kind(await lab.run(scenario, "Foo", {})) for _ in range(8)]
    per_task = {"session_per_task": True, "query_and_commit": True}
    fixed = [outcome_kind(await lab.run(scenario, "Foo", per_task)) for _ in range(8)]
    assert refused == ["InvalidRequestError"] * 8
    assert fixed == [None] * 8


async def test_sync_schema_apis_fail_before_any_sql(lab: Lab):
    scenario = SCENARIOS["sync-engine-api"]
    create_all = await lab.run(scenario, "Foo", {})
    assert create_all.outcome.error is not None
    assert create_all.outcome.error.outer.type_name == "builtins.AttributeError"
    assert "_run_ddl_visitor" in create_all.outcome.error.outer.message
    assert not statements_at(create_all, "Model.metadata.create_all(engine)")
    inspected = await lab.run(scenario, "Foo", {"use_inspect": True})
    assert inspected.outcome.error is not None
    assert "run_sync" in inspected.outcome.error.outer.message, "SQLAlchemy names the way out"
    assert not statements_at(inspected, "inspect(engine)")


async def test_run_sync_gives_the_schema_apis_a_connection(lab: Lab):
    scenario = SCENARIOS["sync-engine-api"]
    created = await lab.run(scenario, "Foo", {"run_sync": True})
    assert created.outcome.printed == "['playground_users']"
    assert statements_at(created, "await conn.run_sync"), "create_all checked the table"
    assert not [s for s in created.sql if s.sql.startswith("CREATE")], "checkfirst: no DDL"
    inspected = await lab.run(scenario, "Foo", {"run_sync": True, "use_inspect": True})
    assert inspected.outcome.printed == "['uid', 'name']"


async def test_async_url_in_a_sync_engine_fails_at_connect(lab: Lab):
    result = await lab.run(SCENARIOS["async-driver-sync-engine"], "Foo", {})
    error = result.outcome.error
    assert error is not None and error.outer.is_missing_greenlet, "raised bare"
    assert result.failed_step == "with engine.connect() as conn:"
    at_connect = [s for s in result.sql if s.step == result.failed_step]
    assert at_connect and all(s.attempted for s in at_connect), "no SQL reached the database"
    assert "_create_connection" in error.traceback, "the pool was opening a connection"


async def test_a_sync_driver_reads_the_row_the_async_session_committed(lab: Lab):
    result = await lab.run(SCENARIOS["async-driver-sync-engine"], "Foo", {"sync_driver": True})
    assert result.outcome.printed == "Foo"
    step = next(s for s in result.steps if s.startswith('url = make_url(url).set(drivername="'))
    assert "+asyncpg" not in step and "+aiosqlite" not in step
    selects = statements_at(result, "conn.execute(")
    assert selects and not any(s.attempted for s in selects)


async def test_greenlet_missing_fails_in_the_child_only(lab: Lab):
    result = await lab.run(SCENARIOS["greenlet-missing"], "Foo", {})
    error = result.outcome.error
    assert error is not None
    assert "In the child process" in error.traceback
    if SQLALCHEMY_20:
        assert error.outer.type_name == "builtins.ValueError"
        assert "the greenlet library is required" in error.outer.message
        assert "ext/asyncio/__init__.py" not in error.traceback, "it passed the import"
    else:
        assert [link.type_name for link in error.chain] == [
            "builtins.ImportError",
            "builtins.ModuleNotFoundError",
        ]
        assert "ext/asyncio/__init__.py" in error.traceback, "refused at the import"
    assert sys.modules.get("greenlet") is not None, "the app's interpreter keeps greenlet"
    assert [name for _, name in result.committed] == ["Foo"]
    assert (result.committed[0][0], "Foo") in await lab.fetch_users()


async def test_greenlet_installed_child_commits_and_prints(lab: Lab):
    result = await lab.run(SCENARIOS["greenlet-missing"], "Foo", {"greenlet_installed": True})
    assert result.outcome.printed == "Foo"
    names = [name for _, name in await lab.fetch_users()]
    assert names.count("Foo") == 2, "the app's row and the child's own"


def test_the_child_report_becomes_the_lab_exception():
    report = {
        "chain": [["builtins.ImportError", "no greenlet", "raised"]],
        "traceback": "Traceback (most recent call last):\n...",
        "code": None,
    }
    info = describe_exception(ChildFailed(child_exception(report)))
    assert info.outer.type_name == "builtins.ImportError" and info.outer.message == "no greenlet"


def test_greenlet_missing_script_blocks_greenlet_before_sqlalchemy():
    text = SCENARIOS["greenlet-missing"].script({}, "sqlite+aiosqlite://").text
    assert text.index('sys.modules["greenlet"] = None') < text.index("from sqlalchemy")
    fixed = SCENARIOS["greenlet-missing"].script({"greenlet_installed": True}, "sqlite://").text
    assert 'sys.modules["greenlet"]' not in fixed

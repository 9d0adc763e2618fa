"""An async driver URL handed to a plain ``create_engine()``, as sync-only libraries do.

The sync engine loads the async dialect happily; the first connection then asks the
driver to connect, which only works by awaiting, and there is no greenlet to await
in: MissingGreenlet, with no async ORM code anywhere near.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.engine import URL

from ..capture import instance_state
from ..database import is_memory
from ..explain import failure, greenlet_error, how_raised, success
from ..models import User
from ..results import ExperimentResult, Explanation, Fix, SqlStatement
from .api import CONNECT_TIMEOUT, Program, Run, Scenario, fix, own_async_engine, record_sql
from .script import (
    BASE_IMPORTS,
    engine_lines,
    lines,
    marked,
    new_session_adding,
    user_script,
)

SYNC_DRIVER = "sync_driver"
ASYNC_ENGINE = "async_engine"
SYNC_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}
"""The sync driver for each backend: pysqlite ships with Python, psycopg 3 for PostgreSQL."""

FIXES = (
    Fix(
        "give the sync library a sync driver",
        'make_url(url).set(drivername="postgresql+psycopg")  # or "sqlite" for SQLite',
    ),
    Fix("or query through an async engine", "engine = create_async_engine(url)  # and await"),
)


def sync_url(url: URL) -> URL:
    """The same database behind a synchronous driver."""
    return url.set(drivername=SYNC_DRIVERS.get(url.get_backend_name(), url.drivername))


class AsyncDriverSyncEngine(Scenario):
    """Read a committed row through ``create_engine(async_url)``: the sync library's way."""

    group = "Engine and setup"
    order = 95
    title = "Async driver in a sync engine"
    shows = (
        "`create_engine()` given an asyncpg / aiosqlite URL raises MissingGreenlet at "
        "connect, with no async ORM code in sight; fixed by a sync driver URL or "
        "`create_async_engine`"
    )
    summary = "create_engine(async_url), then a plain SELECT of the committed user"
    read_expression = "name"
    options = (
        fix(SYNC_DRIVER, "sync driver URL", "psycopg / pysqlite for the sync engine", "sync url"),
        fix(ASYNC_ENGINE, "create_async_engine", "query through an async engine, awaited", "async"),
    )

    async def run(self, run: Run) -> object:
        await run.add_and_commit(User(name=run.user_input))
        user = run.tracked
        identity = instance_state(user).identity
        assert identity is not None
        query = select(User.name).where(User.uid == identity[0])
        run.reading = True
        url = run.lab.url
        if is_memory(url):
            run.note(
                "In-memory database: it belongs to the lab's one connection, so any other "
                "engine opens an empty database of its own, without the playground's tables."
            )
        if run.settings[ASYNC_ENGINE]:
            run.step("engine = create_async_engine(url)")
            async_engine = own_async_engine(url)
            stop = record_sql(async_engine.sync_engine, run)
            try:
                run.step("async with engine.connect() as conn:")
                async with async_engine.connect() as conn:
                    run.step("(await conn.execute(select(User.name)...)).scalar_one()")
                    return (await conn.execute(query)).scalar_one()
            finally:
                stop()
                await async_engine.dispose()
        if run.settings[SYNC_DRIVER]:
            url = sync_url(url)
            run.step(f'url = make_url(url).set(drivername="{url.drivername}")')
        run.step(f"engine = create_engine(url)  # {url.drivername}")
        kwargs: dict[str, Any] = {}
        if url.get_driver_name() == "psycopg":
            kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
        engine = create_engine(url, **kwargs)
        stop = record_sql(engine, run)
        try:
            run.step("with engine.connect() as conn:")
            try:
                sync_conn = engine.connect()
            except Exception:
                compiled = query.compile(dialect=engine.dialect)
                shown = repr(compiled.params)
                run.lab.recorder.add(SqlStatement(run.steps[-1], str(compiled), shown, True))
                raise
            with sync_conn:
                # A sync call on the app's loop: one short SELECT, nothing more.
                run.step("conn.execute(select(User.name)...).scalar_one()")
                return sync_conn.execute(query).scalar_one()
        finally:
            stop()
            engine.dispose()

    def explain(self, result: ExperimentResult) -> Explanation:
        error = result.outcome.error
        if error is None:
            if result.setting(ASYNC_ENGINE):
                why = (
                    "create_async_engine built an engine whose every call is awaited, so the "
                    "async driver connected and queried inside SQLAlchemy's greenlet."
                )
                if result.setting(SYNC_DRIVER):
                    why += " (The sync-driver switch changed nothing: no sync engine was made.)"
                return success(result, "an async driver behind an async engine", why)
            return success(
                result,
                "a sync driver behind a sync engine",
                "With a sync driver the sync engine connects and queries with plain blocking "
                "calls, which need no greenlet; the row the async session committed is there. "
                "(It blocks the event loop while it runs: keep such calls short, or move them "
                "to a thread.)",
            )
        if error.involves_missing_greenlet:
            where = result.failed_step
            at_connect = where.startswith("with engine.connect()")
            return greenlet_error(
                result,
                "MissingGreenlet from a plain create_engine()",
                "the sync engine asked an async driver to connect, with no greenlet to await in",
                (
                    "create_engine() accepted the async URL and loaded its async dialect; "
                    "nothing complains until the engine needs a connection.",
                    (
                        "It failed at connect, before any SQL: the pool asked the driver to "
                        "open a connection, which the async dialect can only do by awaiting, "
                        "and a sync engine never sets up the greenlet that makes that possible."
                        if at_connect
                        else f"It failed at `{where}`, where the driver had to be awaited."
                    ),
                    "That is why the error names a greenlet although no async ORM code ran: "
                    "a library that only speaks sync (a migration tool, a task queue, a "
                    "test fixture) was handed the async URL.",
                ),
                FIXES,
            )
        memory = tuple(note for note in result.notes if note.startswith("In-memory"))
        return failure(result, (*memory, *how_raised(error)))

    def program(self, chosen: Mapping[str, bool], name: str) -> Program:
        query = "select(User.name).where(User.uid == uid)"
        if chosen[ASYNC_ENGINE]:
            read = lines(
                marked("        other = create_async_engine(DATABASE_URL)"),
                "        try:",
                marked("            async with other.connect() as conn:"),
                marked(f"                name = (await conn.execute({query})).scalar_one()"),
                "        finally:",
                marked("            await other.dispose()"),
            )
        else:
            url_line = (
                marked("        url = make_url(DATABASE_URL)")
                + "\n"
                + marked("        url = url.set(drivername=SYNC_DRIVERS[url.get_backend_name()])")
                if chosen[SYNC_DRIVER]
                else marked("        url = DATABASE_URL  # the async driver's URL, as it is")
            )
            read = lines(url_line, "        name = read_name(url, uid)")
        functions = f"""
def read_name(url, uid):
    \"\"\"What a library that only speaks sync does with the URL it is given.\"\"\"
    sync_engine = create_engine(url)
    try:
        with sync_engine.connect() as conn:
            return conn.execute({query}).scalar_one()
    finally:
        sync_engine.dispose()

"""
        main_body = lines(
            new_session_adding(f"User(name={name!r})", 8), read, "        print(name)"
        )
        setup = f"SYNC_DRIVERS = {SYNC_DRIVERS!r}\n{engine_lines()}"
        body = user_script(setup, main_body, functions=functions)
        imports = (
            "from sqlalchemy import create_engine, make_url, select",
            *BASE_IMPORTS,
        )
        return body, imports


SCENARIO = AsyncDriverSyncEngine()

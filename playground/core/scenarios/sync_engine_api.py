"""Sync schema APIs handed an AsyncEngine: ``metadata.create_all(engine)``, ``inspect(engine)``.

Both are synchronous APIs that expect an ``Engine`` or ``Connection``; an
``AsyncEngine`` is neither, so they fail before any SQL. The way in is
``AsyncConnection.run_sync``, which hands them a real sync connection inside the greenlet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, inspect

from ..explain import failure, first_line, short_type, success
from ..models import User
from ..results import ExperimentResult, Explanation, Fix
from .api import Program, Run, Scenario, fix, variation
from .script import BASE_IMPORTS, IN_SESSION, engine_lines, lines, marked, user_script

INSPECT = "use_inspect"
RUN_SYNC = "run_sync"

METADATA = MetaData()
"""The users table as the exported script declares it, so both call the same schema."""
Table(
    User.__tablename__,
    METADATA,
    Column("uid", Integer, primary_key=True),
    Column("name", String, nullable=False),
)

FIX_CREATE_ALL = Fix(
    "create tables through a connection",
    "async with engine.begin() as conn:\n    await conn.run_sync(Model.metadata.create_all)",
)
FIX_INSPECT = Fix(
    "inspect through a connection",
    "async with engine.connect() as conn:\n"
    "    columns = await conn.run_sync(\n"
    '        lambda sync_conn: inspect(sync_conn).get_columns("playground_users")\n'
    "    )",
)
FIX_ALEMBIC = Fix(
    "alembic with an async engine",
    "# env.py, the async template (alembic init -t async):\n"
    "async with connectable.connect() as connection:\n"
    "    await connection.run_sync(do_run_migrations)",
)


def column_names(sync_conn: Any) -> list[str]:
    """The users table's columns, read with a sync Inspector on a sync connection."""
    return [column["name"] for column in inspect(sync_conn).get_columns(User.__tablename__)]


class SyncEngineApi(Scenario):
    """Call a synchronous schema API with an ``AsyncEngine``, then through ``run_sync``."""

    group = "Engine and setup"
    order = 90
    title = "Sync API on an AsyncEngine"
    shows = (
        "`metadata.create_all(async_engine)` fails with `AttributeError`, "
        "`inspect(async_engine)` with `NoInspectionAvailable` (what alembic autogenerate "
        "meets); fixed by `await conn.run_sync(...)`"
    )
    summary = "Model.metadata.create_all(engine) or inspect(engine) on an AsyncEngine"
    read_expression = "the schema call"
    options = (
        variation(
            INSPECT, "inspect(engine)", "read the columns instead of creating tables", "inspect"
        ),
        fix(
            RUN_SYNC,
            "through conn.run_sync",
            "await conn.run_sync(...) hands it a sync connection",
            "run_sync",
        ),
    )

    async def run(self, run: Run) -> object:
        engine = run.engine
        await run.add_and_commit(User(name=run.user_input))
        run.reading = True
        if run.settings[INSPECT]:
            if run.settings[RUN_SYNC]:
                run.step("async with engine.connect() as conn:")
                async with engine.connect() as conn:
                    run.step("await conn.run_sync(lambda c: inspect(c).get_columns(...))")
                    return await conn.run_sync(column_names)
            run.step('inspect(engine).get_columns("playground_users")')
            inspector: Any = inspect(engine)
            return [column["name"] for column in inspector.get_columns(User.__tablename__)]
        if run.settings[RUN_SYNC]:
            run.step("async with engine.begin() as conn:")
            async with engine.begin() as conn:
                run.step("await conn.run_sync(Model.metadata.create_all)")
                await conn.run_sync(METADATA.create_all)
            return sorted(METADATA.tables)
        run.step("Model.metadata.create_all(engine)")
        # The call users write; mypy rightly says an AsyncEngine is not a sync bind.
        bind: Any = engine
        METADATA.create_all(bind)
        return sorted(METADATA.tables)

    def explain(self, result: ExperimentResult) -> Explanation:
        error = result.outcome.error
        inspecting = result.setting(INSPECT)
        if error is None:
            what = "the inspector read the columns" if inspecting else "create_all checked"
            markers = ("BEGIN (implicit)", "COMMIT", "ROLLBACK")
            ran = [
                s
                for s in result.sql
                if s.step.startswith("await conn.run_sync") and s.sql not in markers
            ]
            why = (
                f"run_sync called the sync function with a real sync Connection, inside the "
                f"greenlet, so {what} with {len(ran)} statement(s) the driver could await "
                "(see the SQL list)."
            )
            if not inspecting and not any(s.sql.startswith("CREATE") for s in ran):
                why += " The table existed already, so create_all created nothing."
            return success(result, "a sync connection, handed over by run_sync", why)
        outer = short_type(error.outer.type_name)
        no_sql = not [s for s in result.sql if s.step == result.failed_step]
        before_sql = ("No SQL was sent: it failed before touching the database.",) if no_sql else ()
        if outer == "AttributeError" and "_run_ddl_visitor" in error.outer.message:
            return Explanation(
                "AttributeError: create_all was given an AsyncEngine",
                "create_all is synchronous and wants an Engine or Connection as its bind",
                (
                    "MetaData.create_all(bind) calls a private method every sync Engine and "
                    "Connection has; an AsyncEngine is a different class and has none, so "
                    f"Python raised AttributeError ({first_line(error.outer.message)}).",
                    *before_sql,
                    "Passing engine.sync_engine instead swaps this for MissingGreenlet: the "
                    "sync engine would do its IO outside the greenlet.",
                ),
                (FIX_CREATE_ALL,),
            )
        if outer == "NoInspectionAvailable":
            return Explanation(
                "NoInspectionAvailable: inspect() refuses an AsyncEngine",
                "an Inspector does sync IO, so SQLAlchemy does not build one on an AsyncEngine",
                (
                    "sqlalchemy.inspect(engine) builds a sync Inspector whose every method "
                    "queries the database; for an AsyncEngine SQLAlchemy raises at once, "
                    "with a message that points to conn.run_sync.",
                    *before_sql,
                    "Alembic's autogenerate inspects the database the same way: its env.py "
                    "must hand it a sync connection through run_sync (the async template).",
                ),
                (FIX_INSPECT, FIX_ALEMBIC),
            )
        return failure(result)

    def program(self, chosen: Mapping[str, bool], name: str) -> Program:
        inspecting, through = chosen[INSPECT], chosen[RUN_SYNC]
        if inspecting and through:
            call = lines(
                marked("        async with engine.connect() as conn:"),
                marked("            result = await conn.run_sync(column_names)"),
            )
        elif inspecting:
            call = marked(
                '        result = [c["name"] for c in '
                'inspect(engine).get_columns("playground_users")]'
            )
        elif through:
            call = lines(
                marked("        async with engine.begin() as conn:"),
                marked("            await conn.run_sync(Model.metadata.create_all)"),
                "        result = sorted(Model.metadata.tables)",
            )
        else:
            call = lines(
                marked("        Model.metadata.create_all(engine)"),
                "        result = sorted(Model.metadata.tables)",
            )
        helper = (
            """

def column_names(sync_conn):
    return [c["name"] for c in inspect(sync_conn).get_columns("playground_users")]
"""
            if inspecting
            else ""
        )
        main_body = lines(
            IN_SESSION,
            f"            session.add(User(name={name!r}))",
            "            await session.commit()",
            call,
            "        print(result)",
        )
        body = user_script(engine_lines(), main_body, after_model=helper)
        imports = ("from sqlalchemy import inspect", *BASE_IMPORTS) if inspecting else BASE_IMPORTS
        return body, imports


SCENARIO = SyncEngineApi()

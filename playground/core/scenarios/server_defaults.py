"""Server-generated columns: values the database writes are unknown to the object.

Even with ``expire_on_commit=False``, a column whose value the database computes is
expired after the flush that made it, unless SQLAlchemy fetched it: with RETURNING, or
with a SELECT after the statement where the backend has no RETURNING. The mapper's
default ``eager_defaults="auto"`` fetches on INSERT where the backend has RETURNING, but
not on UPDATE.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..explain import (
    NO_SPAWNED_GREENLET,
    attempted_reload,
    failed_step,
    failure,
    greenlet_error,
    how_raised,
    success,
)
from ..mappings import EagerStamped, Stamped
from ..results import ExperimentResult, Explanation, Fix
from .api import Program, Run, Scenario, fix
from .script import (
    BASE_IMPORTS,
    CREATE_TABLES,
    IN_SESSION,
    KEEPING_SESSIONMAKER,
    engine_lines,
    lines,
    main_function,
    marked,
)

EAGER = "eager_defaults"
REFRESH = "refresh_after_update"
CREATED_STEP = "row.created_at"
INSERT_STEP = "await session.commit()  # INSERT"
UPDATE_STEP = "await session.commit()  # UPDATE"
REFRESH_STEP = "await session.refresh(row)"


class ServerDefaults(Scenario):
    """Insert a row, update it, then read the ``updated_at`` the database wrote."""

    group = "After a commit"
    order = 50
    title = "Server-generated columns"
    shows = (
        'the INSERT fetches server defaults with RETURNING (`eager_defaults="auto"`), '
        "the UPDATE does not, so `updated_at` is expired; fixed by "
        "`eager_defaults=True` or a refresh"
    )
    summary = "expire_on_commit=False; insert, update, then read row.updated_at"
    read_expression = "row.updated_at"
    uses_lab_session = False
    key_name = "sid"
    table = "playground_stamped"
    options = (
        fix(EAGER, "eager_defaults=True", 'mapper default is "auto"', "eager"),
        fix(REFRESH, "refresh after update", "await session.refresh(row)", "refresh"),
    )

    async def run(self, run: Run) -> object:
        dialect = run.engine.dialect
        run.note(
            f"This backend ({dialect.name}) has RETURNING for INSERT: "
            f"{'yes' if dialect.insert_returning else 'no'}; for UPDATE: "
            f"{'yes' if dialect.update_returning else 'no'}."
        )
        # Two mappings of one table; Any keeps mypy from demanding they share a base.
        cls: Any = EagerStamped if run.settings[EAGER] else Stamped
        session_factory = run.sessionmaker(expire_on_commit=False)
        async with session_factory() as session:
            with run.step("row = Stamped(name=...)"):
                row = cls(name=run.user_input)
                run.track(row)
            session.add(row)
            with run.step(INSERT_STEP):
                await session.commit()
                run.record_commit(row, run.user_input)
            run.glance(CREATED_STEP, lambda: row.created_at)
            run.step("row.name = ... + ' (edited)'")
            row.name = run.user_input + " (edited)"
            await run.awaited(UPDATE_STEP, session.commit())
            if run.settings[REFRESH]:
                await run.refresh(row, session=session, variable="row")
            return run.read("row.updated_at", lambda: row.updated_at)

    def explain(self, result: ExperimentResult) -> Explanation:
        error = result.outcome.error
        if error is None:
            return success(result, "updated_at was fetched inside the greenlet", fetched(result))
        if error.involves_missing_greenlet:
            where = failed_step(result)
            insert_failed = where == CREATED_STEP
            insert = how_fetched(result, INSERT_STEP, "INSERT", "created_at")
            return greenlet_error(
                result,
                f"MissingGreenlet: {where} was expired though expire_on_commit=False",
                "the database wrote that value; the object only knows it is stale",
                (
                    f"`{where}` is computed by the database "
                    + ("(server_default on INSERT)." if insert_failed else "(onupdate=func.now()).")
                    + " After the flush, SQLAlchemy marks it expired rather than guess, unless "
                    "it fetched the new value: with RETURNING, or with a SELECT after the "
                    "statement where the backend has no RETURNING.",
                    f"In this run the INSERT {insert or 'fetched nothing back'}"
                    + (
                        ": see it in the SQL list."
                        if insert_failed
                        else ", but the UPDATE fetched nothing back: the SQL list shows both."
                    )
                    + ' With the mapper default eager_defaults="auto", only an INSERT on a '
                    "backend with RETURNING fetches server defaults; onupdate values are never "
                    "fetched.",
                    attempted_reload(result),
                    NO_SPAWNED_GREENLET,
                ),
                (
                    Fix("fetch on every flush", '__mapper_args__ = {"eager_defaults": True}'),
                    Fix("re-read after the write", "await session.refresh(row)"),
                ),
            )
        return failure(result, how_raised(error))

    def program(self, chosen: Mapping[str, bool], name: str) -> Program:
        mapper_args = (
            marked('    __mapper_args__ = {"eager_defaults": True}')
            if chosen[EAGER]
            else marked('    # __mapper_args__ = {"eager_defaults": True}  (default is "auto")')
        )
        refresh = marked(f"            {REFRESH_STEP}") if chosen[REFRESH] else None
        steps = lines(
            f"            row = Stamped(name={name!r})",
            "            session.add(row)",
            f"            {INSERT_STEP}",
            f"            {CREATED_STEP}",
            f"            row.name = {name + ' (edited)'!r}",
            f"            {UPDATE_STEP}",
            refresh,
            "            print(row.updated_at)",
        )
        body = f"""
{engine_lines(KEEPING_SESSIONMAKER)}


class Model(DeclarativeBase):
    pass


class Stamped(Model):
    __tablename__ = "playground_stamped"
{mapper_args}

    sid: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

{CREATE_TABLES}

{main_function(lines(IN_SESSION, steps))}"""
        imports = (
            "from datetime import datetime",
            "",
            "from sqlalchemy import func",
            *BASE_IMPORTS,
        )
        return body, imports


def how_fetched(result: ExperimentResult, step: str, verb: str, column: str) -> str:
    """How ``step``'s statement brought ``column`` back, from the captured SQL ('' if not)."""
    statements = [s.sql for s in result.sql if s.step == step]
    written = next((i for i, sql in enumerate(statements) if sql.startswith(verb)), None)
    if written is None:
        return ""
    _, returning, fetched_back = statements[written].partition("RETURNING")
    if returning and column in fetched_back:
        return f"fetched {column} with RETURNING"
    if any(sql.startswith("SELECT") and column in sql for sql in statements[written + 1 :]):
        return f"fetched {column} with a SELECT right after it (no RETURNING here)"
    return ""


def fetched(result: ExperimentResult) -> str:
    """Say what brought updated_at back after the UPDATE, from the SQL that ran."""
    by_update = how_fetched(result, UPDATE_STEP, "UPDATE", "updated_at")
    if by_update:
        why = f"With eager_defaults=True the UPDATE {by_update}, so the object holds the "
        why += "database's value."
        if result.setting(REFRESH):
            why += " The refresh then read it again, which was not needed."
        return why
    if any(s.step == REFRESH_STEP and s.sql.startswith("SELECT") for s in result.sql):
        return (
            "session.refresh(row) re-read the row with a SELECT inside the greenlet, after "
            "the UPDATE."
        )
    return "updated_at was still loaded when plain code read it."


SCENARIO = ServerDefaults()

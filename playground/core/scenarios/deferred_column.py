"""Deferred column: ``mapped_column(deferred=True)`` leaves a column out of every SELECT.

The first read of such a column runs a SELECT of its own, which plain async code
cannot do. Three fixes, as switches: ``undefer()`` in the query, ``await
user.awaitable_attrs.name``, and ``await session.refresh(user, ["name"])``.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, undefer

from ..explain import failure, greenlet_error, how_raised
from ..models import TABLE_PREFIX
from ..results import ExperimentResult, Explanation, Fix, StateSnapshot
from .api import Program, Run, Scenario, fix
from .script import (
    engine_lines,
    lines,
    load_user_lines,
    marked,
    orm_import,
    user_model,
    write_then_show,
)

UNDEFER = "undefer"
AWAITABLE = "awaitable_attrs"
REFRESH = "refresh_column"

WRITE_STEP = "async with Session() as session:  # write a user"
READ_STEP = "user = (await session.execute(select(User)...)).scalar_one()"
REFRESH_STEP = "await session.refresh(user, ['name'])"
AWAIT_STEP = "await user.awaitable_attrs.name"
DEFERRED_NAME = "    name: Mapped[str] = mapped_column(deferred=True)"
"""The script's ``name`` column, as ``DeferredUser`` maps it."""

FIXES = (
    Fix("load it with the row", "select(User).options(undefer(User.name))"),
    Fix("await the load", "name = await user.awaitable_attrs.name  # AsyncAttrs mixin"),
    Fix("load that column", 'await session.refresh(user, ["name"])'),
)


class DeferredModel(AsyncAttrs, DeclarativeBase):
    """A registry of its own: ``playground_users`` again, with ``name`` deferred.

    Its metadata is never created or dropped; the lab's own models make the table.
    """


class DeferredUser(DeferredModel):
    """A user whose ``name`` is loaded only when first read."""

    __tablename__ = f"{TABLE_PREFIX}users"

    uid: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(deferred=True)

    def __repr__(self) -> str:
        return f"User(uid={self.__dict__.get('uid')!r})"


class DeferredColumn(Scenario):
    """Load a user with ``select()`` in a new session, then read its deferred ``name``."""

    group = "Loading related data"
    order = 65
    title = "Deferred column"
    shows = (
        "MissingGreenlet from loading a `deferred=True` column; fixes: `undefer()`, "
        '`await user.awaitable_attrs.name`, `await session.refresh(user, ["name"])`'
    )
    summary = "name is mapped_column(deferred=True); select() a user, then read user.name"
    read_expression = "user.name"
    uses_lab_session = False
    options = (
        fix(UNDEFER, "undefer(User.name)", "load name with the row", "undefer"),
        fix(AWAITABLE, "awaitable_attrs", "await user.awaitable_attrs.name", "await"),
        fix(REFRESH, 'refresh(user, ["name"])', "load just that column", "refresh"),
    )

    async def run(self, run: Run) -> object:
        settings = run.settings
        uid = await run.write_new(
            WRITE_STEP, "user = User(name=...)", lambda: DeferredUser(name=run.user_input)
        )
        loaders = [undefer(DeferredUser.name)] if settings[UNDEFER] else []
        async with run.read_back(DeferredUser, uid, READ_STEP, *loaders) as (session, user):
            if settings[REFRESH]:
                await run.refresh(user, ["name"], session=session)
            if settings[AWAITABLE]:
                await run.awaited(AWAIT_STEP, user.awaitable_attrs.name, reading=True)
            return run.read("user.name", lambda: user.name)

    def explain(self, result: ExperimentResult) -> Explanation:
        error = result.outcome.error
        loaded = _after_select(result)
        left_out = loaded is not None and "name" in loaded.unloaded
        selects = [s for s in result.sql if s.step == READ_STEP and s.sql.startswith("SELECT")]
        with_name = any(".name" in s.sql.split("FROM", 1)[0] for s in selects)
        if error is None:
            why = [
                "undefer(User.name) put name back into the query's SELECT, so the row arrived "
                "with it."
                if with_name
                else "The query's SELECT left name out, as deferred=True asks."
            ]
            for step in result.steps:
                if step in (REFRESH_STEP, AWAIT_STEP):
                    ran = any(s.step == step and s.sql.startswith("SELECT") for s in result.sql)
                    why.append(
                        f"`{step}` loaded name with a SELECT of its own, inside an await, "
                        "where IO is allowed."
                        if ran
                        else f"`{step}` found name already loaded and ran no SQL."
                    )
            why.append("Reading user.name afterwards needed no IO.")
            return Explanation(
                f"{result.outcome.expression} = {result.outcome.value}",
                "name was loaded before plain code read it",
                tuple(why),
            )
        if error.involves_missing_greenlet:
            state = (
                "The object's state after the SELECT lists name as not loaded (it is not "
                "expired: it was never there)."
                if left_out
                else "The SELECT did not bring name."
            )
            return greenlet_error(
                result,
                "MissingGreenlet: user.name is deferred and was never loaded",
                "deferred=True kept name out of the SELECT; reading it runs another one",
                (
                    "deferred=True tells the ORM to leave name out of every SELECT of users, "
                    "so select(User) loaded uid only.",
                    state,
                    "The first read of a deferred column loads it with a SELECT of its own; "
                    "in plain async code there is no greenlet to await the driver in, so "
                    "SQLAlchemy refused.",
                ),
                FIXES,
            )
        return failure(result, how_raised(error))

    def program(self, chosen: Mapping[str, bool], name: str) -> Program:
        reads = lines(
            load_user_lines(8, "undefer(User.name)" if chosen[UNDEFER] else None),
            marked('        await session.refresh(user, ["name"])') if chosen[REFRESH] else None,
            marked(f"        {AWAIT_STEP}") if chosen[AWAITABLE] else None,
            "        print(user.name)",
        )
        body = f"""
{engine_lines()}

{user_model(base_line="class Model(AsyncAttrs, DeclarativeBase):", name_line=DEFERRED_NAME)}
{write_then_show("add_user", "User(name=name)", reads, name)}"""
        imports = (
            "from sqlalchemy import select",
            "from sqlalchemy.ext.asyncio import AsyncAttrs, async_sessionmaker, "
            "create_async_engine",
            orm_import("DeclarativeBase, Mapped, mapped_column", "undefer", chosen[UNDEFER]),
        )
        return body, imports


def _after_select(result: ExperimentResult) -> StateSnapshot | None:
    """The user's state right after the SELECT, before any fix touched it."""
    return next((s for s in result.states if s.step == READ_STEP), None)


SCENARIO = DeferredColumn()

"""Lazy relationship: ``user.posts`` loads on first touch, which async code cannot do.

Four fixes, as switches: eager ``selectinload``, ``lazy="raise"`` (fail loudly where
the bug is), ``AsyncAttrs.awaitable_attrs``, and ``session.refresh(user, ["posts"])``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import selectinload

from ..explain import (
    NO_SPAWNED_GREENLET,
    TRANSACTION_MARKERS,
    attempted_reload,
    committed_rows,
    failed_step,
    failure,
    greenlet_error,
    how_raised,
    success,
)
from ..mappings import RaisingUser, UserWithPosts
from ..results import ExperimentResult, Explanation, Fix
from .api import Program, Run, Scenario, fix, variation
from .script import (
    CREATE_TABLES,
    IN_SESSION,
    ORM_NAMES,
    POSTS_LINE,
    TWO_POSTS,
    engine_lines,
    lines,
    load_user_lines,
    main_function,
    marked,
    new_session_adding,
    orm_import,
    user_with_posts_model,
)

SELECTIN = "selectinload"
RAISE = "lazy_raise"
AWAITABLE = "awaitable_attrs"
REFRESH = "refresh_posts"

WRITE_STEP = "async with Session() as session:  # write a user with two posts"
SELECT_STEP = "user = (await session.execute(select(User)...)).scalar_one()"
REFRESH_STEP = 'await session.refresh(user, ["posts"])'
AWAIT_STEP = "await user.awaitable_attrs.posts"
LOADERS = {
    SELECT_STEP: "select(User).options(selectinload(User.posts))",
    REFRESH_STEP: REFRESH_STEP,
    AWAIT_STEP: AWAIT_STEP,
}
"""The steps that can load posts, and the fix each one stands for."""

FIXES = (
    Fix("load eagerly", "select(User).options(selectinload(User.posts))"),
    Fix("fail loudly at the read", 'relationship(back_populates="user", lazy="raise")'),
    Fix("await the load", "posts = await user.awaitable_attrs.posts  # AsyncAttrs mixin"),
    Fix("load that attribute", 'await session.refresh(user, ["posts"])'),
)


class LazyRelationship(Scenario):
    """Load a user with ``select()`` in a new session, then read ``user.posts``."""

    group = "Loading related data"
    order = 60
    title = "Lazy relationship"
    shows = (
        "MissingGreenlet from the lazy load; fixes: `selectinload`, `await "
        'user.awaitable_attrs.posts`, `await session.refresh(user, ["posts"])`; '
        '`lazy="raise"` turns it into a clear `InvalidRequestError`'
    )
    summary = "load a user with select(), then read len(user.posts)"
    read_expression = "len(user.posts)"
    uses_lab_session = False
    options = (
        fix(SELECTIN, "selectinload(User.posts)", "load posts with the user", "selectin"),
        variation(RAISE, 'lazy="raise"', "refuse lazy loads loudly", "raise"),
        fix(AWAITABLE, "awaitable_attrs", "await user.awaitable_attrs.posts", "await"),
        fix(REFRESH, 'refresh(user, ["posts"])', "load just that attribute", "refresh"),
    )

    async def run(self, run: Run) -> object:
        settings = run.settings
        uid = await run.write_user_with_posts(WRITE_STEP)
        # Two mappings of one table; Any keeps mypy from demanding they share a base.
        cls: Any = RaisingUser if settings[RAISE] else UserWithPosts
        loaders = [selectinload(cls.posts)] if settings[SELECTIN] else []
        async with run.read_back(cls, uid, SELECT_STEP, *loaders) as (session, user):
            if settings[REFRESH]:
                with run.step(REFRESH_STEP):
                    await session.refresh(user, ["posts"])
            if settings[AWAITABLE]:
                with run.step(AWAIT_STEP, reading=True):
                    await user.awaitable_attrs.posts
            return run.read("len(user.posts)", lambda: len(user.posts))

    def explain(self, result: ExperimentResult) -> Explanation:
        error = result.outcome.error
        if error is None:
            return success(result, "posts were loaded inside the greenlet", loaded_by(result))
        if error.involves_missing_greenlet:
            return greenlet_error(
                result,
                "MissingGreenlet: user.posts was never loaded",
                "posts is lazy: its first read runs a SELECT, outside the greenlet",
                (
                    "select(User) loads the user's columns only; posts is a lazy relationship, "
                    "so the first time plain code reads it, the ORM tries to run a SELECT.",
                    attempted_reload(result),
                    NO_SPAWNED_GREENLET,
                ),
                FIXES,
            )
        if "lazy='raise'" in error.outer.message:
            step = failed_step(result)
            ran = [x for x in result.sql if x.step == step and x.sql not in TRANSACTION_MARKERS]
            before_io = (
                "SQLAlchemy refused the load before it checked out a connection or built any "
                "SQL: the SQL list has no statement for this read."
                if not ran
                else "SQLAlchemy refused the load itself."
            )
            return Explanation(
                'InvalidRequestError: lazy="raise" refused the load, as asked',
                'lazy="raise" refuses the lazy load before any connection or SQL',
                (
                    f'lazy="raise" forbids the lazy load outright, so `{step}` failed with a '
                    "message naming the relationship. " + before_io,
                    "MissingGreenlet would have come from the same line, but only after the "
                    'ORM had started the load and asked to await the driver. lazy="raise" '
                    "also fails in sync code and inside run_sync, where a lazy load would "
                    "otherwise run quietly, one query per object.",
                    "It still needs a real fix: load posts up front with selectinload, or "
                    'refresh(user, ["posts"]). awaitable_attrs does not get past lazy="raise".',
                    committed_rows(result),
                ),
                (FIXES[0], FIXES[3]),
            )
        return failure(result, how_raised(error))

    def program(self, chosen: Mapping[str, bool], name: str) -> Program:
        awaitable, lazy_raise, selectin = chosen[AWAITABLE], chosen[RAISE], chosen[SELECTIN]
        asyncio_import = lines(
            marked("from sqlalchemy.ext.asyncio import AsyncAttrs") if awaitable else None,
            "from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine",
        )
        base_line = (
            marked("class Model(AsyncAttrs, DeclarativeBase):")
            if awaitable
            else "class Model(DeclarativeBase):"
        )
        posts_line = (
            marked(POSTS_LINE.replace('"user")', '"user", lazy="raise")'))
            if lazy_raise
            else POSTS_LINE
        )
        reads = lines(
            load_user_lines(12, "selectinload(User.posts)" if selectin else None),
            marked(f"            {REFRESH_STEP}") if chosen[REFRESH] else None,
            marked(f"            {AWAIT_STEP}") if awaitable else None,
            "            print(len(user.posts))",
        )
        new_user = new_session_adding(f"User(name={name!r}, {TWO_POSTS})", 8)
        body = f"""
{engine_lines()}

{user_with_posts_model(base_line, posts_line)}
{CREATE_TABLES}

{main_function(lines(new_user, IN_SESSION, reads))}"""
        imports = (
            "from sqlalchemy import ForeignKey, select",
            asyncio_import,
            orm_import(ORM_NAMES, "selectinload", selectin),
        )
        return body, imports


def loaded_by(result: ExperimentResult) -> str:
    """Credit the step whose state first showed posts loaded, and nothing else."""
    for state in result.states:
        if any(key == "posts" for key, _ in state.loaded) and state.step in LOADERS:
            why = f"The posts were loaded by `{LOADERS[state.step]}`, inside the greenlet of "
            why += "that awaited call, so plain code found them in memory."
            if result.setting(RAISE):
                why += ' lazy="raise" was on too, but it loads nothing: it only forbids the '
                why += "lazy load, which this read never needed."
            return why
    return "The posts were already loaded when plain code touched them."


SCENARIO = LazyRelationship()

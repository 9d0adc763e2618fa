"""One AsyncSession, two tasks: ``asyncio.gather`` of two queries on the same session.

Whether it fails depends on the session's connection at that instant: a session that
must first provision one (with an await inside, such as a pool pre-ping) refuses a
second task; one that already holds a connection lets the driver adapter queue them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ..database import is_memory
from ..explain import committed_rows, failure, first_line, short_type, success
from ..models import User
from ..results import ExperimentResult, Explanation, Fix
from .api import Program, Run, Scenario, fix, own_async_engine, record_sql, variation
from .script import (
    BASE_IMPORTS,
    IN_SESSION,
    KEEPING_SESSIONMAKER,
    lines,
    marked,
    new_session_adding,
    user_script,
)

PING = "pool_pre_ping"
HELD = "connection_held"
COMMIT = "query_and_commit"
PER_TASK = "session_per_task"

FIRST_COMMIT = "async with Session() as session:  # commit a user first"
SHARED = "async with Session() as session:  # one session for both tasks"

FIX_PER_TASK = Fix(
    "a session per task",
    "async def in_own_session(work):\n    async with Session() as session:\n"
    "        return await work(session)",
)
FIX_SEQUENTIAL = Fix("or one after the other", "a = await find_name(session); b = await ...")


class ConcurrentSession(Scenario):
    """Two coroutines gathered on one ``AsyncSession``: sometimes refused, sometimes not."""

    group = "Concurrency"
    order = 80
    title = "One session, two tasks"
    shows = (
        "`asyncio.gather` on one `AsyncSession` fails only when the session must first "
        'provision its connection ("concurrent operations are not permitted"); passing '
        "once proves nothing; fixed by a session per task"
    )
    summary = "asyncio.gather(find_name(session), find_name(session)) on one session"
    read_expression = "await asyncio.gather(...)"
    uses_lab_session = False
    options = (
        variation(
            PING, "pool_pre_ping=True", "the pool pings each connection it hands out", "ping", True
        ),
        variation(
            HELD,
            "connection already held",
            "a query first, so the session holds a connection",
            "held",
        ),
        variation(COMMIT, "query and commit", "the second task adds a user and commits", "commit"),
        fix(PER_TASK, "a session per task", "each task opens its own session", "per task"),
    )

    async def run(self, run: Run) -> object:
        settings = run.settings
        shared_memory = is_memory(run.lab.url)
        engine: AsyncEngine
        if shared_memory:
            # An in-memory database lives in the lab's one connection: another engine
            # would see an empty database, so the tasks share the lab's engine.
            run.note(
                "In-memory database: the tasks used the lab's engine (one shared "
                "connection, no pre-ping), whatever the pool_pre_ping switch says."
            )
            engine = run.engine
        else:
            run.step(f"engine = create_async_engine(url, pool_pre_ping={settings[PING]})")
            engine = own_async_engine(run.lab.url, pool_pre_ping=settings[PING])
        stop_recording = record_sql(engine.sync_engine, run) if not shared_memory else None
        try:
            return await self._run_on(engine, run)
        finally:
            if stop_recording is not None:
                stop_recording()
                await engine.dispose()

    async def _run_on(self, engine: AsyncEngine, run: Run) -> list[str]:
        settings = run.settings
        session_factory = async_sessionmaker(engine, expire_on_commit=False)
        async with run.request(FIRST_COMMIT, session_factory) as session:
            user = User(name=run.user_input)
            await run.add_and_commit(user, session=session)
        uid = user.uid
        second_name = f"{run.user_input} 2"

        async def find_name(session: AsyncSession) -> str:
            query = select(User.name).where(User.uid == uid)
            return str((await session.execute(query)).scalar_one())

        async def add_user(session: AsyncSession) -> str:
            other = User(name=second_name)
            session.add(other)
            await session.commit()
            run.record_commit(other, second_name)
            return other.name

        works = [find_name, add_user if settings[COMMIT] else find_name]
        names = [work.__name__ for work in works]
        results: list[Any]
        if settings[PER_TASK]:
            own = ", ".join(f"in_own_session({n})" for n in names)
            run.step(f"await asyncio.gather({own})", reading=True)

            async def in_own_session(work: Callable[[AsyncSession], Any]) -> Any:
                async with session_factory() as own:
                    return await work(own)

            results = await asyncio.gather(
                *(in_own_session(work) for work in works), return_exceptions=True
            )
        else:
            async with run.request(SHARED, session_factory) as session:
                if settings[HELD]:
                    run.step("await session.execute(select(User.uid).limit(1))")
                    await session.execute(select(User.uid).limit(1))
                shared = ", ".join(f"{n}(session)" for n in names)
                run.step(f"await asyncio.gather({shared})", reading=True)
                results = await asyncio.gather(
                    *(work(session) for work in works), return_exceptions=True
                )
        for number, (name, result) in enumerate(zip(names, results, strict=True), start=1):
            if isinstance(result, BaseException):
                message = first_line(str(result).split(" (Background on this error at:")[0])
                run.note(f"task {number} ({name}) raised {type(result).__name__}: {message}")
            else:
                run.note(f"task {number} ({name}) returned {result!r}")
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return [str(result) for result in results]

    def explain(self, result: ExperimentResult) -> Explanation:
        error = result.outcome.error
        tasks = tuple(note for note in result.notes if note.startswith(("task ", "In-memory")))
        proves_nothing = (
            "Passing once proves nothing: the same gather fails as soon as the session has to "
            "await something while it provisions its connection (a pool pre-ping, a new "
            "connection after a restart or under load), which no test on a warm pool shows."
        )
        if error is None:
            if result.setting(PER_TASK):
                why = (
                    "Each task opened its own session, with its own connection and "
                    "transaction, so nothing was shared and nothing had to be refused."
                )
                return Explanation(
                    f"{result.outcome.expression} = {result.outcome.value}",
                    "a session per task: nothing shared",
                    (why, *tasks),
                )
            if result.setting(HELD):
                why = (
                    "The session already held a connection from the first query, so neither "
                    "task had to provision one; both statements went to that one connection, "
                    "and the driver adapter ran them one after the other."
                )
            else:
                why = (
                    "The pool handed the session an idle connection without awaiting "
                    "anything, so the first task finished provisioning before the second "
                    "one started; the adapter then queued the two statements."
                )
            explanation = success(result, "it passed, this time", why)
            return Explanation(
                explanation.headline,
                explanation.short,
                (*explanation.why, proves_nothing, *tasks),
                (FIX_PER_TASK,),
            )
        if "concurrent operations are not permitted" in error.outer.message:
            return Explanation(
                f"{short_type(error.outer.type_name)}: two tasks on one AsyncSession",
                "the second task found the session busy provisioning its connection",
                (
                    "The first task started provisioning the session's connection, and the "
                    "pool pre-ping awaited the database in the middle of it; the event loop "
                    "then ran the second task, which found the session half-way through and "
                    "was refused.",
                    *tasks,
                    "An AsyncSession is not safe for concurrent tasks: it is one transaction "
                    "on one connection, and SQLAlchemy only notices misuse when the timing "
                    "lets it.",
                    proves_nothing,
                    committed_rows(result),
                ),
                (FIX_PER_TASK, FIX_SEQUENTIAL),
            )
        return failure(result, tasks)

    def program(self, chosen: Mapping[str, bool], name: str) -> Program:
        commit, per_task = chosen[COMMIT], chosen[PER_TASK]
        second = "add_user" if commit else "find_name"
        if per_task:
            gather = lines(
                marked("        async def in_own_session(work):"),
                marked("            async with Session() as own:"),
                marked("                return await work(own)"),
                "",
                marked(
                    "        results = await asyncio.gather(in_own_session(find_name), "
                    f"in_own_session({second}), return_exceptions=True)"
                ),
            )
        else:
            held = (
                marked("            await session.execute(select(User.uid).limit(1))  # held")
                if chosen[HELD]
                else None
            )
            gather = lines(
                IN_SESSION,
                held,
                marked(
                    "            results = await asyncio.gather(find_name(session), "
                    f"{second}(session), return_exceptions=True)"
                ),
            )
        add_user = (
            f"""
        async def add_user(session):
            other = User(name={name + " 2"!r})
            session.add(other)
            await session.commit()
            return other.name
"""
            if commit
            else ""
        )
        engine_line = f"engine = create_async_engine(DATABASE_URL, pool_pre_ping={chosen[PING]})"
        main_body = f"""{new_session_adding(f"User(name={name!r})", 8, flush=False)}
        uid = user.uid

        async def find_name(session):
            return (await session.execute(select(User.name).where(User.uid == uid))).scalar_one()
{add_user}
{gather}
        # return_exceptions=True lets both tasks finish; then the first failure is raised.
        for result in results:
            if isinstance(result, Exception):
                raise result
        print(results)"""
        body = user_script(f"{marked(engine_line)}\n{KEEPING_SESSIONMAKER}", main_body)
        imports = (
            "from sqlalchemy import select",
            *BASE_IMPORTS,
        )
        return body, imports


SCENARIO = ConcurrentSession()

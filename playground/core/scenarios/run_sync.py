"""Reading inside the greenlet: the same read, done through ``session.run_sync``.

``run_sync`` calls a plain function inside the greenlet ``greenlet_spawn()`` sets up, where
the ORM may await the driver; that is how every ``await session.x()`` works underneath. The
``await`` keyword alone is not enough: the same read in an ``async def`` you await fails.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..explain import (
    NO_SPAWNED_GREENLET,
    attempted_reload,
    failure,
    greenlet_error,
    how_raised,
    success,
)
from ..models import User
from ..results import ExperimentResult, Explanation, Fix
from .api import Program, Run, Scenario, expire_on_commit, fix, variation
from .script import BASE_IMPORTS, add_user_lines, lab_session_body, lines, marked

EXPIRE = "expire_on_commit"
RUN_SYNC = "inside_run_sync"
VIA_ASYNC = "via_async_function"
ASYNC_READ_STEP = "uid = await read(user)  # async def read(u): return u.uid"


class ReadInsideGreenlet(Scenario):
    """Commit with expire_on_commit on, then read ``user.uid`` through ``run_sync``."""

    group = "After a commit"
    order = 20
    title = "Reading inside the greenlet"
    shows = (
        "the same read works: `run_sync` runs it inside the greenlet, where the SELECT "
        "can be awaited"
    )
    summary = "after commit, read user.uid via await session.run_sync(...)"
    read_expression = "user.uid"
    options = (
        expire_on_commit(),
        fix(RUN_SYNC, "read inside run_sync", "await session.run_sync(...)", "run_sync", True),
        variation(
            VIA_ASYNC, "read in an async def", "await read(user), when run_sync is off", "async def"
        ),
    )

    async def run(self, run: Run) -> object:
        user = User(name=run.user_input)
        await run.add_and_commit(user)
        if run.settings[RUN_SYNC]:
            return await run.awaited(
                "await session.run_sync(lambda _: user.uid)",
                run.session.run_sync(lambda _: user.uid),
                reading=True,
            )
        if run.settings[VIA_ASYNC]:

            async def read(u: User) -> int:
                return u.uid

            return await run.awaited(ASYNC_READ_STEP, read(user), reading=True)
        return run.read("user.uid", lambda: user.uid)

    def explain(self, result: ExperimentResult) -> Explanation:
        error = result.outcome.error
        if error is None:
            if not result.setting(EXPIRE):
                why = "Nothing was expired, so the read needed no IO at all, wherever it ran."
                return success(result, "nothing was expired", why)
            reloaded = any(
                s.step == result.steps[-1] and s.sql.startswith("SELECT") for s in result.sql
            )
            return success(
                result,
                "the SELECT ran inside the greenlet",
                "run_sync called the lambda inside the greenlet greenlet_spawn() set up for it, "
                "so the reload's SELECT could await the driver"
                + (": see it in the SQL list, not marked attempted." if reloaded else ".")
                + " Every `await session.x()` works this way; run_sync just lets your own "
                "synchronous code in. An `async def` of your own, awaited, would not: turn "
                "run_sync off and 'read in an async def' on to see it fail.",
            )
        if error.involves_missing_greenlet:
            awaited = result.failed_step == ASYNC_READ_STEP
            because = (
                "`await read(user)` awaited a coroutine of your own, not a session call: "
                "nothing called greenlet_spawn() around it, so the read of u.uid inside it "
                "ran like any plain read. Awaiting is not what counts; which greenlet the "
                "read runs in is."
                if awaited
                else "The read ran as plain code in the event loop's task."
            )
            return greenlet_error(
                result,
                "MissingGreenlet: the read ran outside the greenlet",
                "an await of your own sets up no greenlet; run_sync does"
                if awaited
                else "the same read, outside run_sync, has no greenlet to await in",
                (
                    "The commit expired user, so reading uid needs a SELECT.",
                    because,
                    attempted_reload(result),
                    NO_SPAWNED_GREENLET,
                ),
                (
                    Fix("read inside the greenlet", "await session.run_sync(lambda _: user.uid)"),
                    Fix("or reload first", "await session.refresh(user)"),
                ),
            )
        return failure(result, how_raised(error))

    def program(self, chosen: Mapping[str, bool], name: str) -> Program:
        if chosen[RUN_SYNC]:
            read = marked("        uid = await session.run_sync(lambda sync_session: user.uid)")
        elif chosen[VIA_ASYNC]:
            read = lines(
                marked("        async def read(u: User) -> int:"),
                marked("            return u.uid"),
                "",
                marked("        uid = await read(user)  # awaited, but no greenlet_spawn()"),
            )
        else:
            read = marked("        uid = user.uid  # plain code: not in a spawned greenlet")
        steps = lines(
            add_user_lines(f"User(name={name!r})", 8, flush=False), read, "        print(uid)"
        )
        return lab_session_body(chosen[EXPIRE], steps), BASE_IMPORTS


SCENARIO = ReadInsideGreenlet()

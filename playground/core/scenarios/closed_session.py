"""Session closed before reading: the per-request ``async with Session()`` pattern.

The object outlives its session. Expired and detached, it has nobody to reload it, so
SQLAlchemy raises ``DetachedInstanceError`` before any IO is tried.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..explain import (
    committed_rows,
    expired_by,
    failed_step,
    failure,
    how_raised,
    reference,
    state_after,
    success,
)
from ..models import User
from ..results import ExperimentResult, Explanation, Fix
from .api import Program, Run, Scenario, expire_on_commit, fix
from .script import (
    BASE_IMPORTS,
    add_user_lines,
    engine_lines,
    lines,
    sessionmaker_line,
    switched,
    user_script,
)

EXPIRE = "expire_on_commit"
REFRESH = "refresh_in_block"


class ClosedSession(Scenario):
    """Commit inside ``async with Session()``, read after the block has closed it."""

    group = "After a commit"
    order = 30
    title = "Session closed before reading"
    shows = (
        "`DetachedInstanceError`, not MissingGreenlet: no session is left to reload "
        "through; fixed by `expire_on_commit=False` or a refresh inside the block"
    )
    summary = "async with Session() as session: add, commit; read user.uid after the block"
    read_expression = "user.uid"
    uses_lab_session = False
    options = (
        expire_on_commit(fix_off=True),
        fix(REFRESH, "refresh inside the block", "await session.refresh(user)", "refresh"),
    )

    async def run(self, run: Run) -> object:
        session_factory = run.session_factory(run.settings[EXPIRE])
        async with run.request("async with Session() as session:", session_factory) as session:
            user = User(name=run.user_input)
            await run.add_and_commit(user, session=session)
            if run.settings[REFRESH]:
                await run.refresh(user, session=session)
            run.step("end of block: session.close()")
        run.observe()
        return run.read("user.uid", lambda: user.uid)

    def explain(self, result: ExperimentResult) -> Explanation:
        error = result.outcome.error
        if error is None:
            why = (
                "refresh() loaded the values before the block closed the session; a detached "
                "object keeps what it has loaded."
                if result.setting(REFRESH)
                else "With expire_on_commit=False the commit left the values in place, and the "
                "detached object still holds them."
            )
            return success(result, "the values were loaded before the session closed", why)
        if error.outer.type_name.endswith("DetachedInstanceError"):
            by = expired_by(result, "uid") or "await session.commit()"
            expired = ", ".join(state_after(result, by) or ("uid",))
            return Explanation(
                "DetachedInstanceError: user has no session to reload from",
                "the commit expired uid and the block closed the session: nothing can reload it",
                (
                    f"`{by}` expired {expired} of user; then the end of the `async with` "
                    "block closed the session and detached the object.",
                    f"`{failed_step(result)}` needs a reload, and a detached object has no "
                    "session to load through, so SQLAlchemy stopped at once, before any SQL "
                    "or IO.",
                    "Compare MissingGreenlet (the 'After commit' scenario): there the session "
                    "is alive and a SELECT is attempted, but outside the greenlet. Here there "
                    "is no session at all. `except MissingGreenlet:` would not catch this.",
                    committed_rows(result),
                ),
                (
                    Fix("keep values", "async_sessionmaker(engine, expire_on_commit=False)"),
                    Fix("load before leaving", "await session.refresh(user)  # inside the block"),
                    Fix("return data, not the object", "return {'uid': user.uid, ...}"),
                ),
                reference(error),
            )
        return failure(result, how_raised(error))

    def program(self, chosen: Mapping[str, bool], name: str) -> Program:
        refresh = switched(
            "await session.refresh(user)", chosen[REFRESH], "refresh inside the block"
        )
        steps = lines(add_user_lines("User(name=name)", 8, flush=False), refresh)
        session_line = sessionmaker_line(chosen[EXPIRE])
        functions = f"""
async def add_user(name: str) -> User:
    async with Session() as session:
{steps}
    return user  # the block has closed the session: user is detached

"""
        main_body = f"""        user = await add_user({name!r})
        print(user.uid)"""
        body = user_script(engine_lines(session_line), main_body, functions=functions)
        return body, BASE_IMPORTS


SCENARIO = ClosedSession()

"""The first scenario: add a user, commit, maybe refresh, then read ``user.uid``.

This is the article's program run for real: with ``expire_on_commit=True`` and no
refresh, the read after the commit needs IO that plain async code cannot do.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..explain import (
    NO_SPAWNED_GREENLET,
    attempted_reload,
    expired_by,
    failure,
    greenlet_error,
    success,
)
from ..models import User
from ..results import ExperimentResult, Explanation, Fix
from .api import Program, Run, Scenario, expire_on_commit, fix
from .script import BASE_IMPORTS, add_user_lines, lab_session_body, lines, switched

EXPIRE = "expire_on_commit"
REFRESH = "auto_refresh"

FIX_NO_EXPIRE = Fix("keep values", "async_sessionmaker(engine, expire_on_commit=False)")
FIX_REFRESH = Fix("reload inside the greenlet", "await session.refresh(user)  # right after commit")


class AfterCommit(Scenario):
    """Read an attribute of a freshly committed object."""

    group = "After a commit"
    order = 10
    title = "After commit"
    shows = (
        "MissingGreenlet with `expire_on_commit=True`; fixed by turning it off or by "
        "`await session.refresh(user)`"
    )
    summary = "session.add(user); await session.commit(); then read user.uid"
    read_expression = "user.uid"
    options = (
        expire_on_commit(fix_off=True),
        fix(REFRESH, "auto refresh after commit", "await session.refresh(user)", "refresh"),
    )

    async def run(self, run: Run) -> object:
        user = User(name=run.user_input)
        await run.add_and_commit(user)
        if run.settings[REFRESH]:
            await run.refresh(user)
        # The article's print(user.uid): plain async code, no greenlet around the read.
        return run.read("user.uid", lambda: user.uid)

    def explain(self, result: ExperimentResult) -> Explanation:
        error = result.outcome.error
        expire, refresh = result.setting(EXPIRE), result.setting(REFRESH)
        if error is None:
            if refresh:
                why = "session.refresh(user) reloaded uid and name with a SELECT inside the "
                why += "greenlet, so reading them needed no IO."
                if not expire:
                    why += " (Nothing was expired anyway: expire_on_commit is off.)"
                return success(result, "refresh reloaded it inside the greenlet", why)
            why = "expire_on_commit=False kept the values the INSERT left on the object, "
            why += "so reading uid needed no IO."
            return success(result, "nothing was expired", why)
        if error.involves_missing_greenlet:
            by = expired_by(result, "uid") or "await session.commit()"
            return greenlet_error(
                result,
                "MissingGreenlet: reading user.uid needed a query",
                "the commit expired uid; reloading it needs a SELECT outside the greenlet",
                (
                    f"`{by}` expired uid (expire_on_commit=True; the state after it lists "
                    "the expired attributes), so uid was no longer in memory.",
                    attempted_reload(result),
                    NO_SPAWNED_GREENLET,
                ),
                (FIX_NO_EXPIRE, FIX_REFRESH),
            )
        return failure(result)

    def program(self, chosen: Mapping[str, bool], name: str) -> Program:
        steps = lines(
            add_user_lines(f"User(name={name!r})", 8, flush=False),
            switched("await session.refresh(user)", chosen[REFRESH], "auto refresh"),
            "        print(user.uid)",
        )
        return lab_session_body(chosen[EXPIRE], steps), BASE_IMPORTS


SCENARIO = AfterCommit()

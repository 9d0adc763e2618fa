"""Rollback expires everything: after a failed commit, every object must be reloaded.

``expire_on_commit`` does not matter here: rolling back the outermost transaction expires
every object in the session, because their in-memory values may no longer match the
database (rolling back a SAVEPOINT expires only what changed inside it).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.exc import IntegrityError

from ..explain import (
    NO_SPAWNED_GREENLET,
    attempted_reload,
    expired_by,
    failure,
    first_line,
    greenlet_error,
    how_raised,
    state_after,
    success,
)
from ..models import User
from ..results import ExperimentResult, Explanation, Fix
from .api import Program, Run, Scenario, expire_on_commit, fix
from .script import BASE_IMPORTS, add_user_lines, lab_session_body, lines, marked

EXPIRE = "expire_on_commit"
CAPTURE = "read_before"
REFRESH = "refresh_after_rollback"
FIRST_COMMIT = "await session.commit()"
EARLY_READ = "name = a.name  # read while it is loaded"
FIX_KEEP = Fix("keep plain values", "name = a.name  # before anything can fail")
FIX_NO_EXPIRE = Fix(
    "keep values over the commit", "async_sessionmaker(..., expire_on_commit=False)"
)
FIX_REFRESH = Fix("reload after the rollback", "await session.refresh(a)")


class RollbackExpires(Scenario):
    """Commit one user, fail a second commit, roll back, then read the first user."""

    group = "After a commit"
    order = 40
    title = "Rollback expires everything"
    shows = (
        "the rollback expires `a` whatever `expire_on_commit` says; fixed by reading "
        "values before, or refreshing after"
    )
    summary = "commit a, fail another commit, roll back, then read a.name"
    read_expression = "a.name"
    options = (
        expire_on_commit(default=False),
        fix(CAPTURE, "read a.name before", "keep the value in a variable", "keep"),
        fix(REFRESH, "refresh after rollback", "await session.refresh(a)", "refresh"),
    )

    async def run(self, run: Run) -> object:
        session = run.session
        a = User(name=run.user_input)
        await run.add_and_commit(a, "a")
        kept = run.glance(EARLY_READ, lambda: a.name) if run.settings[CAPTURE] else None
        run.step("session.add(User(name=None)); await session.commit()")
        session.add(User(name=None))  # NOT NULL: made to fail
        try:
            await session.commit()
        except IntegrityError as exc:
            run.note(f"IntegrityError, as planned: {first_line(str(exc.orig))}")
            run.observe("after the failed commit")
            with run.step("await session.rollback()"):
                await session.rollback()
        if run.settings[REFRESH]:
            await run.refresh(a, variable="a")
        if run.settings[CAPTURE]:
            return run.read("name", lambda: kept)
        return run.read("a.name", lambda: a.name)

    def explain(self, result: ExperimentResult) -> Explanation:
        error = result.outcome.error
        if error is None:
            why = (
                "The value was read into a variable while it was loaded; the rollback "
                "expired the object, not your variable."
                if result.setting(CAPTURE)
                else "refresh(a) reloaded the expired object inside the greenlet."
            )
            return success(result, "the value did not depend on the expired object", why)
        if error.involves_missing_greenlet:
            return self._explain_greenlet(result)
        return failure(result, how_raised(error))

    def _explain_greenlet(self, result: ExperimentResult) -> Explanation:
        """Say which step expired a, from the recorded states, and what would have kept it."""
        by = expired_by(result, "name") or "?"
        expired = ", ".join(state_after(result, by) or ("name",))
        if result.failed_step == EARLY_READ:
            return greenlet_error(
                result,
                "MissingGreenlet: the first commit expired a",
                "expire_on_commit=True expired a before the early read; no rollback had run",
                (
                    f"`{by}` expired a: the state after it lists {expired} as expired "
                    "(expire_on_commit=True).",
                    "So even the early read `name = a.name` needed a SELECT; it failed before "
                    "the second commit, and before any rollback.",
                    attempted_reload(result),
                    NO_SPAWNED_GREENLET,
                ),
                (FIX_NO_EXPIRE, Fix("reload, then read", "await session.refresh(a)")),
            )
        if by == FIRST_COMMIT:
            headline = "MissingGreenlet: the first commit expired a"
            short = "the commit expired a first; the rollback would have expired it too"
            because: tuple[str, ...] = (
                f"`{by}` expired a already: the state after it lists {expired} as expired "
                "(expire_on_commit=True).",
                "The failed commit then rolled its transaction back, which would have expired "
                "a anyway, whatever expire_on_commit says.",
            )
            fixes = (FIX_REFRESH, FIX_NO_EXPIRE)
        else:
            headline = "MissingGreenlet: the rollback expired a"
            short = "a rollback expires every object, expire_on_commit or not"
            own = (
                " (the failed commit rolled back by itself, before `await session.rollback()` ran)"
                if by == "after the failed commit"
                else ""
            )
            because = (
                "After the first commit a was still loaded (expire_on_commit=False expired "
                "nothing).",
                f"The failed commit's rollback expired it: the state {by!r} lists {expired} as "
                f"expired{own}. A rollback expires objects whatever expire_on_commit says: "
                "their values may no longer match the database.",
            )
            fixes = (FIX_KEEP, FIX_REFRESH)
        return greenlet_error(
            result,
            headline,
            short,
            (*because, savepoint_caveat(result), attempted_reload(result), NO_SPAWNED_GREENLET),
            fixes,
        )

    def program(self, chosen: Mapping[str, bool], name: str) -> Program:
        keep = chosen[CAPTURE]
        steps = lines(
            add_user_lines(f"User(name={name!r})", 8, flush=False, variable="a"),
            marked(f"        {EARLY_READ}") if keep else None,
            "        session.add(User(name=None))  # NOT NULL: this commit fails",
            "        try:",
            "            await session.commit()",
            "        except IntegrityError as exc:",
            '            print("IntegrityError, as planned:", exc.orig, file=sys.stderr)',
            "            await session.rollback()",
            marked("        await session.refresh(a)") if chosen[REFRESH] else None,
            marked("        print(name)") if keep else "        print(a.name)",
        )
        imports = ("import sys", "", "from sqlalchemy.exc import IntegrityError", *BASE_IMPORTS)
        return lab_session_body(chosen[EXPIRE], steps), imports


def savepoint_caveat(result: ExperimentResult) -> str:
    """Tell a whole-transaction rollback from a SAVEPOINT's, from the SQL that ran."""
    if any("SAVEPOINT" in statement.sql for statement in result.sql):
        return (
            "A SAVEPOINT was rolled back here: that expires only the objects changed inside "
            "it, not every object in the session."
        )
    return (
        "That ROLLBACK ended the whole transaction (the SQL shows no SAVEPOINT), and "
        "rolling back the outermost transaction expires every object in the session; "
        "rolling back a SAVEPOINT (`async with session.begin_nested():`) would expire only "
        "the objects changed inside it."
    )


SCENARIO = RollbackExpires()

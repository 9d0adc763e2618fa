"""Rollback expires everything: after a failed commit, every object must be reloaded.

``expire_on_commit`` does not matter here: a rollback always expires the objects in
the session, because their in-memory values may no longer match the database.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.exc import IntegrityError

from ..explain import (
    failure,
    first_line,
    greenlet_error,
    how_raised,
    success,
)
from ..models import User
from ..results import ExperimentResult, Explanation, Fix, Script
from .api import Option, Run, Scenario, expire_on_commit
from .script import lab_session_body, lines, marked, render_script

EXPIRE = "expire_on_commit"
CAPTURE = "read_before"
REFRESH = "refresh_after_rollback"


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
        Option(
            key=CAPTURE,
            label="read a.name before",
            hint="keep the value in a variable",
            short="keep",
            fix=True,
        ),
        Option(
            key=REFRESH,
            label="refresh after rollback",
            hint="await session.refresh(a)",
            short="refresh",
            fix=True,
        ),
    )

    async def run(self, run: Run) -> object:
        session = run.session
        a = User(name=run.user_input)
        await run.add_and_commit(a, "a")
        kept = None
        if run.settings[CAPTURE]:
            run.step("name = a.name  # read while it is loaded")
            run.reading = True
            kept = a.name
            run.reading = False
        run.step("session.add(User(name=None)); await session.commit()")
        session.add(User(name=None))  # NOT NULL: made to fail
        try:
            await session.commit()
        except IntegrityError as exc:
            run.note(f"IntegrityError, as planned: {first_line(str(exc.orig))}")
            run.observe("after the failed commit")
            run.step("await session.rollback()")
            await session.rollback()
            run.observe()
        if run.settings[REFRESH]:
            run.step("await session.refresh(a)")
            await session.refresh(a)
            run.observe()
        run.step("name" if run.settings[CAPTURE] else "a.name")
        run.reading = True
        name = kept if run.settings[CAPTURE] else a.name
        run.observe()
        return name

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
            at_capture = (result.steps[-1] if result.steps else "").startswith("name = a.name")
            because: tuple[str, ...] = (
                (
                    "The value was read right after the first commit, but expire_on_commit=True "
                    "had already expired it, so even that early read needed a SELECT.",
                )
                if at_capture
                else (
                    "The failed commit rolled the transaction back, and a rollback expires "
                    "every object in the session, whatever expire_on_commit says: their "
                    "values may no longer match the database.",
                    "So a.name, loaded a moment ago, needs a SELECT, outside the greenlet.",
                )
            )
            return greenlet_error(
                result,
                "MissingGreenlet: the rollback expired a",
                "a rollback expires every object, expire_on_commit or not",
                because,
                (
                    Fix("keep plain values", "name = a.name  # before anything can fail"),
                    Fix("reload after the rollback", "await session.refresh(a)"),
                ),
            )
        return failure(result, how_raised(error))

    def script(self, settings: Mapping[str, bool], url: str, name: str = "Foo") -> Script:
        chosen = self.settings(settings)
        keep = chosen[CAPTURE]
        steps = lines(
            f"        a = User(name={name!r})",
            "        session.add(a)",
            "        await session.commit()",
            marked("        name = a.name  # read while it is loaded") if keep else None,
            "        session.add(User(name=None))  # NOT NULL: this commit fails",
            "        try:",
            "            await session.commit()",
            "        except IntegrityError as exc:",
            '            print("IntegrityError, as planned:", exc.orig, file=sys.stderr)',
            "            await session.rollback()",
            marked("        await session.refresh(a)") if chosen[REFRESH] else None,
            marked("        print(name)") if keep else "        print(a.name)",
        )
        body = lab_session_body(chosen[EXPIRE], steps)
        imports = (
            "import sys",
            "",
            "from sqlalchemy.exc import IntegrityError",
            "from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine",
            "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column",
        )
        return render_script(f"{self.title}: {self.summary}", chosen, url, imports, body)


SCENARIO = RollbackExpires()

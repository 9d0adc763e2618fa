"""Reading inside the greenlet: the same read, done through ``session.run_sync``.

``run_sync`` calls a plain function inside SQLAlchemy's greenlet, where the ORM may
await the driver; that is how every ``await session.x()`` works underneath.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..explain import failure, greenlet_error, how_raised, success
from ..models import User
from ..results import ExperimentResult, Explanation, Fix, Script
from .api import Option, Run, Scenario, expire_on_commit
from .script import (
    BASE_IMPORTS,
    lab_session_body,
    lines,
    marked,
    render_script,
)

EXPIRE = "expire_on_commit"
RUN_SYNC = "inside_run_sync"


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
        Option(
            key=RUN_SYNC,
            label="read inside run_sync",
            hint="await session.run_sync(...)",
            default=True,
            short="run_sync",
            fix=True,
        ),
    )

    async def run(self, run: Run) -> object:
        session = run.session
        user = User(name=run.user_input)
        await run.add_and_commit(user)
        run.reading = True
        if run.settings[RUN_SYNC]:
            run.step("await session.run_sync(lambda _: user.uid)")
            uid = await session.run_sync(lambda _: user.uid)
        else:
            run.step("user.uid")
            uid = user.uid
        run.observe()
        return uid

    def explain(self, result: ExperimentResult) -> Explanation:
        error = result.outcome.error
        if error is None:
            if not result.setting(EXPIRE):
                why = "Nothing was expired, so the read needed no IO at all, wherever it ran."
                return success(result, "nothing was expired", why)
            return success(
                result,
                "the SELECT ran inside the greenlet",
                "run_sync called the lambda inside SQLAlchemy's greenlet, so the lazy reload's "
                "SELECT could await the driver: see it in the SQL list, not marked attempted. "
                "Every `await session.x()` works this way; run_sync just lets your own "
                "synchronous code in.",
            )
        if error.involves_missing_greenlet:
            return greenlet_error(
                result,
                "MissingGreenlet: the read ran outside the greenlet",
                "the same read, outside run_sync, has no greenlet to await in",
                (
                    "The commit expired user; reading uid needs a SELECT. In plain async code "
                    "there is no greenlet, so SQLAlchemy cannot await the driver.",
                ),
                (
                    Fix("read inside the greenlet", "await session.run_sync(lambda _: user.uid)"),
                    Fix("or reload first", "await session.refresh(user)"),
                ),
            )
        return failure(result, how_raised(error))

    def script(self, settings: Mapping[str, bool], url: str, name: str = "Foo") -> Script:
        chosen = self.settings(settings)
        read = (
            marked("        uid = await session.run_sync(lambda sync_session: user.uid)")
            if chosen[RUN_SYNC]
            else marked("        uid = user.uid  # plain async code: no greenlet")
        )
        steps = lines(
            f"        user = User(name={name!r})",
            "        session.add(user)",
            "        await session.commit()",
            read,
            "        print(uid)",
        )
        body = lab_session_body(chosen[EXPIRE], steps)
        return render_script(f"{self.title}: {self.summary}", chosen, url, BASE_IMPORTS, body)


SCENARIO = ReadInsideGreenlet()

"""The first scenario: add a user, commit, maybe refresh, then read ``user.uid``.

This is the article's program run for real: with ``expire_on_commit=True`` and no
refresh, the read after the commit needs IO that plain async code cannot do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..explain import committed_rows, first_line, how_raised, reference, short_type
from ..models import User
from ..results import ExperimentResult, Explanation, Fix, Script
from .base import Option, Scenario
from .script import render_script

if TYPE_CHECKING:
    from ..lab import Run

EXPIRE = "expire_on_commit"
REFRESH = "auto_refresh"

FIX_NO_EXPIRE = Fix("keep values", "async_sessionmaker(engine, expire_on_commit=False)")
FIX_REFRESH = Fix("reload inside the greenlet", "await session.refresh(user)  # right after commit")


class AfterCommit(Scenario):
    """Read an attribute of a freshly committed object."""

    name = "after-commit"
    title = "After commit"
    summary = "session.add(user); await session.commit(); then read user.uid"
    read_expression = "user.uid"
    options = (
        Option(EXPIRE, "expire_on_commit", "commit expires loaded values", True),
        Option(REFRESH, "auto refresh after commit", "await session.refresh(user)", False),
    )

    async def run(self, run: Run) -> object:
        run.step("user = User(name=...)")
        user = User(name=run.user_input)
        run.track(user)
        run.observe()
        run.step("session.add(user)")
        run.session.add(user)
        run.observe()
        run.step("await session.commit()")
        await run.session.commit()
        run.record_commit(user, run.user_input)
        run.observe()
        if run.settings[REFRESH]:
            run.step("await session.refresh(user)")
            await run.session.refresh(user)
            run.observe()
        run.step("user.uid")
        run.reading = True
        # The article's print(user.uid): plain async code, no greenlet around the read.
        uid = user.uid
        run.observe()
        return uid

    def explain(self, result: ExperimentResult) -> Explanation:
        error = result.outcome.error
        expire, refresh = result.setting(EXPIRE), result.setting(REFRESH)
        if error is None:
            if refresh:
                why = "session.refresh(user) reloaded uid and name with a SELECT inside the "
                why += "greenlet, so reading them needed no IO."
                if not expire:
                    why += " (Nothing was expired anyway: expire_on_commit is off.)"
            else:
                why = "expire_on_commit=False kept the values the INSERT left on the object, "
                why += "so reading uid needed no IO."
            short = "refresh reloaded it in the greenlet" if refresh else "nothing was expired"
            return Explanation(
                f"{result.outcome.expression} = {result.outcome.value}", short, (why,)
            )
        if error.involves_missing_greenlet:
            return Explanation(
                "MissingGreenlet: reading user.uid needed a query",
                "the commit expired uid; reloading it needs a SELECT outside the greenlet",
                (
                    "The commit expired every attribute of user (expire_on_commit=True), so "
                    "uid was no longer in memory.",
                    "Reading it made the ORM emit a SELECT from plain async code, outside the "
                    "greenlet that lets SQLAlchemy await the driver, so it refused.",
                    committed_rows(result),
                    *how_raised(error),
                ),
                (FIX_NO_EXPIRE, FIX_REFRESH),
                reference(error),
            )
        outer = short_type(error.outer.type_name)
        return Explanation(
            f"{outer}: {first_line(error.outer.message)}",
            f"failed at {result.steps[-1] if result.steps else '?'}",
            (
                f"It failed at `{result.steps[-1] if result.steps else '?'}`; the session "
                "was rolled back where needed, and the next commit starts clean.",
                committed_rows(result),
            ),
            notes=reference(error),
        )

    def script(self, settings: Mapping[str, bool], url: str, name: str = "Foo") -> Script:
        chosen = self.settings(settings)
        expire, refresh = chosen[EXPIRE], chosen[REFRESH]
        refresh_line = (
            "        await session.refresh(user)  # <- auto refresh"
            if refresh
            else "        # <- no refresh (auto refresh is off)"
        )
        body = f'''
engine = create_async_engine(DATABASE_URL)
Session = async_sessionmaker(engine, expire_on_commit={expire})  # <-
session = Session()


class Model(DeclarativeBase):
    pass


class User(Model):
    __tablename__ = "playground_users"

    uid: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


async def create_tables() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Model.metadata.create_all)


async def main() -> None:
    await create_tables()
    try:
        user = User(name={name!r})
        session.add(user)
        await session.commit()
{refresh_line}
        print(user.uid)
    finally:
        await session.close()
        await engine.dispose()
'''
        return render_script(
            title=f"{self.title}: {self.summary}",
            settings=chosen,
            url=url,
            imports=(
                "from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine",
                "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column",
            ),
            body=body,
        )

"""The words the app shows are checked against what the run really captured.

Each test runs a scenario for real and reads its explanation: the step it blames, the fixes
it credits, the notes it adds, must match the recorded SQL, states, error and warnings.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import event
from sqlalchemy.exc import MissingGreenlet, StatementError
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.util import await_only

from playground.core.capture import describe_exception
from playground.core.explain import how_raised, refused_await
from playground.core.lab import Lab
from playground.core.models import Model, User
from playground.core.results import ExperimentResult, Explanation
from playground.core.scenarios import SCENARIOS
from playground.core.scenarios.rollback import EARLY_READ
from playground.core.scenarios.run_sync import ASYNC_READ_STEP

README = Path(__file__).resolve().parent.parent / "README.md"


async def run(lab: Lab, name: str, **settings: bool) -> tuple[ExperimentResult, Explanation]:
    result = await lab.run(SCENARIOS[name], "Foo", settings, seq=1)
    return result, SCENARIOS[name].explain(result)


def words(explanation: Explanation) -> str:
    return " ".join((explanation.headline, explanation.short, *explanation.why))


def fix_codes(explanation: Explanation) -> list[str]:
    return [fix.code for fix in explanation.fixes]


# 1. Rollback: the step that expired `a` is read from the states.


async def test_rollback_without_expire_on_commit_blames_the_rollback(lab: Lab):
    result, explanation = await run(lab, "rollback", expire_on_commit=False)
    after_commit = next(s for s in result.states if s.step == "await session.commit()")
    assert after_commit.expired == ()
    assert explanation.headline == "MissingGreenlet: the rollback expired a"
    assert "'after the failed commit' lists name, uid as expired" in words(explanation)
    assert "name = a.name  # before anything can fail" in fix_codes(explanation)


async def test_rollback_with_expire_on_commit_blames_the_first_commit(lab: Lab):
    result, explanation = await run(lab, "rollback", expire_on_commit=True)
    after_commit = next(s for s in result.states if s.step == "await session.commit()")
    assert set(after_commit.expired) == {"name", "uid"}
    assert explanation.headline == "MissingGreenlet: the first commit expired a"
    assert "loaded a moment ago" not in words(explanation)
    assert not any(code.startswith("name = a.name") for code in fix_codes(explanation))
    assert "await session.refresh(a)" in fix_codes(explanation)


async def test_an_early_read_that_fails_does_not_blame_a_rollback(lab: Lab):
    result, explanation = await run(lab, "rollback", expire_on_commit=True, read_before=True)
    assert result.failed_step == EARLY_READ
    assert "await session.rollback()" not in result.steps, "no rollback ran at all"
    assert "rollback expired" not in explanation.headline
    assert "before any rollback" in words(explanation)
    assert not any(code.startswith("name = a.name") for code in fix_codes(explanation))


async def test_rollback_explains_the_savepoint_caveat_from_the_sql(lab: Lab):
    result, explanation = await run(lab, "rollback")
    assert not any("SAVEPOINT" in s.sql for s in result.sql)
    text = words(explanation)
    assert "the SQL shows no SAVEPOINT" in text and "begin_nested" in text


# 2. The "never awaited" note appears exactly when this run left the warning.


async def test_the_unawaited_warning_note_follows_the_run(lab: Lab, backend: str):
    result, explanation = await run(lab, "after-commit")
    # Measured: only SQLAlchemy 2.1's aiosqlite adapter leaves aiosqlite's cursor coroutine.
    leaves_one = backend == "sqlite" and sqlalchemy.__version__.startswith("2.1")
    assert ("coroutine 'Connection.cursor' was never awaited" in result.stderr) == leaves_one
    noted = [note for note in explanation.notes if "never awaited" in note]
    assert bool(noted) == leaves_one
    if noted:
        assert "SQLAlchemy closed the awaitable it refused" in noted[0]
        assert "_aenter_cursor" in noted[0], "named from the traceback of this run"
    assert not any("can never await" in note for note in explanation.notes)


# 3 and 6. lazy="raise" loads nothing, and fails before any SQL.


async def test_lazy_raise_is_not_credited_for_loading_posts(lab: Lab):
    _, explanation = await run(lab, "lazy-relationship", lazy_raise=True, selectinload=True)
    (why,) = explanation.why
    assert "selectinload(User.posts)" in why
    assert 'lazy="raise" was on too, but it loads nothing' in why
    assert 'relationship(back_populates="user", lazy="raise")' not in why


async def test_only_the_step_that_loaded_posts_is_credited(lab: Lab):
    _, explanation = await run(lab, "lazy-relationship", refresh_posts=True, awaitable_attrs=True)
    (why,) = explanation.why
    assert 'await session.refresh(user, ["posts"])' in why
    assert "awaitable_attrs" not in why, "posts were already loaded before that await"


async def test_lazy_raise_refuses_before_any_connection_or_sql(lab: Lab):
    result, explanation = await run(lab, "lazy-relationship", lazy_raise=True)
    step = result.failed_step
    assert not [s for s in result.sql if s.step == step and s.sql.startswith("SELECT")]
    text = words(explanation)
    assert "deep inside the driver" not in text
    assert "before it checked out a connection or built any SQL" in text
    assert "inside run_sync" in text


# 4. The await keyword is not the test: run_sync works, an async def of your own does not.


async def test_an_awaited_async_def_still_fails_and_run_sync_works(lab: Lab):
    result, explanation = await run(lab, "run-sync", inside_run_sync=False, via_async_function=True)
    assert result.outcome.error is not None and result.outcome.error.involves_missing_greenlet
    assert result.failed_step == ASYNC_READ_STEP
    text = words(explanation)
    assert "there is no greenlet" not in text.lower()
    assert "There is always a current greenlet" in text and "greenlet_spawn()" in text
    worked, _ = await run(lab, "run-sync", inside_run_sync=True, via_async_function=True)
    assert worked.outcome.error is None and str(worked.outcome.value).isdigit()
    assert not any(s.attempted for s in worked.sql)


async def test_after_commit_says_which_greenlet_is_missing(lab: Lab):
    _, explanation = await run(lab, "after-commit")
    text = words(explanation)
    assert "greenlet_spawn()" in text and "even inside an `async def` you await" in text


# 5. Bare or wrapped, from where the await was refused.


async def test_wrapping_is_explained_from_where_the_await_was_refused(lab: Lab):
    result, explanation = await run(lab, "after-commit")
    error = result.outcome.error
    assert error is not None
    site = refused_await(error)
    assert site is not None
    assert error.wrapped_missing_greenlet == (site.phase == "cursor")
    if error.wrapped_missing_greenlet:
        assert any("cursor was being created" in line for line in explanation.why)
        assert any("wraps any error raised at that stage" in line for line in explanation.why)
    else:
        assert any("passes an error raised there through" in line for line in explanation.why)


async def read_expired_uid(url: str, **engine_options: object) -> BaseException:
    """Commit a user with expire_on_commit on, read user.uid outside any greenlet."""
    engine = create_async_engine(url, **engine_options)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Model.metadata.create_all)
        async with async_sessionmaker(engine)() as session:
            user = User(name="Foo")
            session.add(user)
            await session.commit()
            try:
                user.uid  # noqa: B018 - the read is the experiment
            except (MissingGreenlet, StatementError) as exc:
                return exc
        raise AssertionError("the read did not fail")
    finally:
        await engine.dispose()


async def test_nullpool_raises_bare_while_opening_a_connection(db_url: str):
    exc = await read_expired_uid(db_url, poolclass=NullPool)
    assert isinstance(exc, MissingGreenlet)
    info = describe_exception(exc)
    site = refused_await(info)
    assert site is not None and site.phase == "connect"
    said = " ".join(how_raised(info))
    assert "Raised as MissingGreenlet itself" in said
    assert "while the pool opened a new connection, before any statement" in said


# 7. Server defaults: RETURNING or a SELECT, read from the SQL that ran.


async def test_server_defaults_names_returning_when_the_sql_has_it(lab: Lab):
    result, explanation = await run(lab, "server-defaults", eager_defaults=True)
    update = next(s.sql for s in result.sql if s.sql.startswith("UPDATE"))
    assert "RETURNING" in update
    (why,) = explanation.why
    assert "the UPDATE fetched updated_at with RETURNING" in why


async def test_server_defaults_names_the_select_when_there_is_no_returning(lab: Lab):
    assert lab.engine is not None
    # What a backend without RETURNING (MySQL, MariaDB) makes SQLAlchemy do.
    lab.engine.dialect.insert_returning = False
    lab.engine.dialect.update_returning = False
    result, explanation = await run(lab, "server-defaults", eager_defaults=True)
    assert not any("RETURNING" in s.sql for s in result.sql)
    (why,) = explanation.why
    assert "with a SELECT right after it" in why and "with RETURNING" not in why
    failed, failed_words = await run(lab, "server-defaults")
    assert failed.failed_step == "row.created_at"
    assert "the INSERT fetched nothing back" in " ".join(failed_words.why)


async def test_server_defaults_failure_says_what_the_insert_fetched(lab: Lab):
    result, explanation = await run(lab, "server-defaults")
    insert = next(s.sql for s in result.sql if s.sql.startswith("INSERT"))
    assert "RETURNING" in insert
    text = words(explanation)
    assert "the INSERT fetched created_at with RETURNING" in text
    assert "but the UPDATE fetched nothing back" in text


# 8. The README quotes what users really see with the default setup.


async def test_the_readme_quotes_the_error_this_version_raises(tmp_path: Path):
    exc = await read_expired_uid(f"sqlite+aiosqlite:///{tmp_path / 'quote.db'}")
    last = describe_exception(exc).traceback.strip().splitlines()
    final = next(line for line in reversed(last) if line.startswith("sqlalchemy.exc."))
    final = final.split(" (Background on this error at:", 1)[0]
    assert final in README.read_text()


# 11. The bulk add is described as what runs.


def test_the_readme_describes_the_bulk_insert_as_an_executemany():
    text = README.read_text()
    assert "one INSERT of many rows" not in text
    assert "executemany" in text


# 12. SQL in the order it happened.


async def test_an_attempted_statement_comes_before_a_later_rollback(lab: Lab):
    result, _ = await run(lab, "lazy-relationship")
    step = [s for s in result.sql if s.step == result.failed_step]
    attempted = [i for i, s in enumerate(step) if s.attempted]
    rollbacks = [i for i, s in enumerate(step) if s.sql == "ROLLBACK"]
    assert attempted and rollbacks, "the session's close rolls back after the failed load"
    assert attempted[0] < rollbacks[0]


# #11, item 4, and 13. A failed commit is blamed on the commit, and its outcome told.


async def test_a_failed_commit_names_the_commit_not_the_recovery(lab: Lab, db_url: str):
    other = create_async_engine(db_url)
    async with other.begin() as conn:
        await conn.run_sync(Model.metadata.drop_all)
    await other.dispose()
    result, explanation = await run(lab, "after-commit")
    assert result.failed_step == "await session.commit()"
    assert result.steps[-1] == "await session.rollback()", "the lab did recover"
    assert explanation.short == "failed at await session.commit()"
    assert "It failed at `await session.commit()`." in explanation.why[0]
    assert "Nothing was committed." in explanation.why


async def test_a_connection_lost_during_commit_leaves_the_outcome_unknown(
    lab: Lab, db_url: str, backend: str
):
    if backend != "postgres":
        pytest.skip("a connection that drops mid-COMMIT needs a server")
    import asyncpg

    killer = await asyncpg.connect(re.sub(r"^postgresql\+asyncpg", "postgresql", db_url))
    terminate = (
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )

    def drop_the_connection(conn: object) -> None:
        await_only(killer.fetchval(terminate))

    assert lab.engine is not None
    event.listen(lab.engine.sync_engine, "commit", drop_the_connection)
    try:
        result, explanation = await run(lab, "after-commit")
    finally:
        event.remove(lab.engine.sync_engine, "commit", drop_the_connection)
        await killer.close()
    assert result.failed_step == "await session.commit()"
    assert any(s.sql == "COMMIT" and s.step == result.failed_step for s in result.sql)
    text = " ".join(explanation.why)
    assert "Whether the row was committed is UNKNOWN" in text
    assert "Nothing was committed." not in text
    again, _ = await run(lab, "after-commit", expire_on_commit=False)
    assert again.outcome.error is None, "the lab is usable again"

"""The core without Textual: every setting combination against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from playground.core.lab import Lab
from playground.core.scenarios import SCENARIOS

AFTER_COMMIT = SCENARIOS["after-commit"]


async def rows_in(db_url: str) -> list[tuple[int, str]]:
    """Read the table through an engine of its own: a second opinion, apart from the lab."""
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT uid, name FROM playground_users ORDER BY uid"))
            return [(uid, name) for uid, name in rows]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("expire", [True, False])
@pytest.mark.parametrize("refresh", [True, False])
async def test_each_combination_really_runs(lab: Lab, db_url: str, expire: bool, refresh: bool):
    settings = {"expire_on_commit": expire, "auto_refresh": refresh}
    result = await lab.run(AFTER_COMMIT, "Foo", settings, seq=1)

    assert dict(result.settings) == settings
    assert await rows_in(db_url) == [(1, "Foo")], "the commit reaches the database in every case"
    assert result.committed == ((1, "Foo"),)
    broken = expire and not refresh
    if broken:
        error = result.outcome.error
        assert error is not None and result.outcome.value is None
        assert error.involves_missing_greenlet
        # Known from the versions alone: 2.1 with aiosqlite wraps it in a StatementError.
        wrapped = not sqlalchemy.__version__.startswith("2.0") and lab.backend == "sqlite"
        outer = "sqlalchemy.exc.StatementError" if wrapped else "sqlalchemy.exc.MissingGreenlet"
        assert error.outer.type_name == outer
        assert error.wrapped_missing_greenlet is wrapped
        assert "user.uid" in error.traceback, "the traceback points at the read"
    else:
        assert result.outcome.error is None
        assert result.outcome.value == "1"


async def test_the_error_follows_the_installed_version(lab: Lab):
    """2.1 with aiosqlite wraps MissingGreenlet in a StatementError; asyncpg and 2.0 do not."""
    result = await lab.run(AFTER_COMMIT, "Foo", {"expire_on_commit": True}, seq=1)
    error = result.outcome.error
    assert error is not None
    names = [link.type_name for link in error.chain]
    wrapped = not sqlalchemy.__version__.startswith("2.0") and lab.backend == "sqlite"
    if wrapped:
        assert names == ["sqlalchemy.exc.StatementError", "sqlalchemy.exc.MissingGreenlet"]
        assert error.chain[1].relation == "caused by"
    else:
        assert names == ["sqlalchemy.exc.MissingGreenlet"]
    explanation = AFTER_COMMIT.explain(result)
    series = "".join(sqlalchemy.__version__.split(".")[:2])
    assert f"https://sqlalche.me/e/{series}/xd2s" in " ".join(explanation.notes)
    catches = " ".join(explanation.why)
    assert ("would NOT catch" in catches) is wrapped


async def test_sql_and_states_are_what_happened(lab: Lab):
    result = await lab.run(AFTER_COMMIT, "Foo", {"expire_on_commit": True}, seq=1)
    commit_sql = [s.sql for s in result.sql if s.step == "await session.commit()"]
    assert any(sql.startswith("INSERT INTO playground_users") for sql in commit_sql)
    assert commit_sql[-1] == "COMMIT"
    attempted = [s for s in result.sql if s.attempted]
    assert attempted and any("SELECT" in s.sql for s in attempted)
    assert all(s.step == "user.uid" for s in attempted)
    after_commit = next(s for s in result.states if s.step == "await session.commit()")
    assert after_commit.state == "persistent"
    assert set(after_commit.expired) == {"uid", "name"}
    assert [s.state for s in result.states[:2]] == ["transient", "pending"]

    refreshed = await lab.run(AFTER_COMMIT, "Bar", {"auto_refresh": True}, seq=2)
    refresh_sql = [s for s in refreshed.sql if s.step == "await session.refresh(user)"]
    assert any(s.sql.startswith("SELECT") and not s.attempted for s in refresh_sql)
    after_refresh = next(s for s in refreshed.states if s.step == "await session.refresh(user)")
    assert after_refresh.expired == () and dict(after_refresh.loaded)["uid"] == "2"


async def test_session_stays_usable_after_missing_greenlet(lab: Lab, db_url: str):
    first = await lab.run(AFTER_COMMIT, "one", {"expire_on_commit": True}, seq=1)
    second = await lab.run(AFTER_COMMIT, "two", {"expire_on_commit": False}, seq=2)
    third = await lab.run(AFTER_COMMIT, "three", {"expire_on_commit": True}, seq=3)
    assert first.outcome.error and third.outcome.error
    assert second.outcome.value == "2"
    assert await rows_in(db_url) == [(1, "one"), (2, "two"), (3, "three")]


async def test_fetch_users_does_not_touch_the_session(lab: Lab):
    await lab.run(AFTER_COMMIT, "Foo", {"expire_on_commit": False}, seq=1)
    assert await lab.fetch_users() == [(1, "Foo")]
    assert await lab.fetch_users(after_uid=1) == []
    assert (await lab.newest_users())[1] == 1


async def test_data_survives_a_new_lab(db_url: str):
    for name in ("a", "b"):
        lab = Lab(db_url)
        await lab.open()
        await lab.run(AFTER_COMMIT, name, {"expire_on_commit": False})
        await lab.close()
    lab = Lab(db_url)
    await lab.open()
    assert await lab.fetch_users() == [(1, "a"), (2, "b")]
    await lab.close()


async def test_memory_database_keeps_its_tables():
    lab = Lab("sqlite+aiosqlite://")
    await lab.open()
    result = await lab.run(AFTER_COMMIT, "Foo", {"expire_on_commit": False})
    assert result.outcome.value == "1"
    assert await lab.fetch_users() == [(1, "Foo")]
    await lab.close()


def test_default_database_lives_in_the_data_dir(private_data_dir: Path):
    from playground.core.database import default_database_path

    assert default_database_path().is_relative_to(private_data_dir)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://alice:S3cr3t@db.example/lab?application_name=x",
        "postgresql+asyncpg://alice@db.example/lab?password=S3cr3t&application_name=x",
        "postgresql+asyncpg://alice@db.example/lab?PassWord=S3cr3t&application_name=x",
        "postgresql+asyncpg://alice@db.example/lab?password=S3cr3t&password=S3cr3t2",
    ],
    ids=["userinfo", "query", "query-any-case", "query-twice"],
)
def test_where_the_data_lives_is_said_without_secrets(url: str):
    from playground.core.database import describe, parse_url

    shown = describe(parse_url(url))
    assert "S3cr3t" not in shown and "***" in shown
    assert shown.startswith("postgresql+asyncpg://alice") and "db.example/lab" in shown


@pytest.mark.parametrize(
    "typed",
    [
        "postgresql+asyncpg://alice:S3cr3t@host:notaport/db",
        "postgresql+asyncpg://alice:S3/cr@3t@host:notaport/db",
        "postgresql+asyncpg://alice@host:notaport/db?sslmode=x&password=S3cr3t",
        "alice:S3cr3t@host/db",
    ],
)
def test_a_url_that_does_not_parse_is_refused_without_its_secrets(typed: str):
    from playground.core.database import DatabaseProblem, parse_url

    with pytest.raises(DatabaseProblem, match="not a database URL") as refused:
        parse_url(typed)
    assert "S3" not in str(refused.value) and "3t" not in str(refused.value)
    assert "alice" in str(refused.value), "the rest of the URL is shown, to find the typo"


async def test_bulk_add_on_an_overwritten_file_says_why_and_never_raises(tmp_path: Path):
    from playground.core.bulk import bulk_add

    path = tmp_path / "lab.db"
    lab = Lab(f"sqlite+aiosqlite:///{path}")
    await lab.open()
    await lab.run(AFTER_COMMIT, "kept", {"expire_on_commit": False})
    try:
        path.write_bytes(b"not a database any more\n" * 200)
        result = await bulk_add(lab, 1000, batch_size=100)
    finally:
        await lab.close()
    assert (result.inserted, result.batches, result.cancelled) == (0, 0, False)
    assert result.error is not None and "file is not a database" in result.error.outer.message
    assert result.total is None and result.rows == (), "an unreadable table is not 'empty'"


async def test_bulk_add_reports_the_table_it_leaves(tmp_path: Path):
    from playground.core.bulk import bulk_add

    lab = Lab(f"sqlite+aiosqlite:///{tmp_path / 'lab.db'}")
    await lab.open()
    try:
        result = await bulk_add(lab, 250, batch_size=100)
    finally:
        await lab.close()
    assert (result.inserted, result.batches, result.error, result.total) == (250, 3, None, 250)
    assert [uid for uid, _ in result.rows] == list(range(51, 251)), "the newest 200 rows"


async def test_newest_users_reads_the_newest_rows_and_the_count(lab: Lab):
    assert await lab.newest_users() == ([], 0)
    for name in ["a", "b", "c"]:
        await lab.run(SCENARIOS["after-commit"], name, {"expire_on_commit": False})
    assert await lab.newest_users(limit=2) == ([(2, "b"), (3, "c")], 3)
    assert await lab.newest_users() == ([(1, "a"), (2, "b"), (3, "c")], 3)

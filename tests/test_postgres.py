"""PostgreSQL only: clear start-up errors, no password anywhere, and a server that goes away."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from playground.core.database import DatabaseProblem
from playground.core.lab import Lab
from playground.ui.commit_log import CommitLog
from playground.ui.widgets import UsersTable

from .conftest import drop_playground_tables, postgres_url
from .pilot import add, entries, log_text, settle
from .test_faults import start_bulk

ROOT = Path(__file__).resolve().parent.parent
SERVER_DIR_VAR = "PLAYGROUND_TEST_PG_DIR"


@pytest.fixture
def pg_url() -> str:
    return postgres_url()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "playground", *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"port": 1}, "Connect call failed"),
        ({"password": "wrong-secret-123"}, "password authentication failed"),
        ({"database": "no_such_database_here"}, "does not exist"),
    ],
    ids=["unreachable", "wrong-password", "missing-database"],
)
def test_bad_server_is_one_clear_line(pg_url: str, change: dict[str, object], says: str):
    url = make_url(pg_url).set(**change).render_as_string(hide_password=False)  # type: ignore
    result = run_cli("--db", url)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert says in line
    assert "wrong-secret-123" not in line and ":***@" in line


def test_missing_driver_names_the_extra():
    code = (
        "import sys; sys.modules['asyncpg'] = None\n"
        "from playground.__main__ import main\n"
        "sys.exit(main(['--db', 'postgresql+asyncpg://u:p@127.0.0.1/db']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert 'pip install "sqlalchemy-async-playground[postgres]"' in result.stderr


async def test_password_is_never_shown(pg_url: str, tmp_path: Path, app_factory_pg):
    secret = str(make_url(pg_url).password)
    app = await app_factory_pg(pg_url)
    async with app.run_test(size=(100, 32)) as pilot:
        await add(pilot, "Foo")
        await pilot.press("f9", "f10", "f7")
        await pilot.pause()
        status = str(app.query_one("#status").render())
        assert f":{secret}@" not in status and "***" in status
        assert f":{secret}@" not in log_text(app) + app.export_screenshot()
        for exported in tmp_path.glob("playground*"):
            assert f":{secret}@" not in exported.read_text()


async def count_rows(url: str) -> list[int]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT uid FROM playground_users ORDER BY uid"))
            return [uid for (uid,) in rows]
    finally:
        await engine.dispose()


async def test_server_stops_and_comes_back(pg_url: str, app_factory_pg):
    server_dir = os.environ.get(SERVER_DIR_VAR)
    if not server_dir:
        if os.environ.get("CI"):
            pytest.fail(f"CI runs the fault test, but {SERVER_DIR_VAR} is not set")
        pytest.skip(f"set {SERVER_DIR_VAR} to the .ci/postgres.sh cluster folder to run this")
    port = str(make_url(pg_url).port)
    script = str(ROOT / ".ci" / "postgres.sh")
    app = await app_factory_pg(pg_url, settings={"expire_on_commit": False})
    try:
        async with app.run_test(size=(100, 32)) as pilot:
            await add(pilot, "before")
            subprocess.run(["bash", script, "stop", server_dir], check=True, timeout=60)
            await add(pilot, "while-down")
            down = entries(app)[-1]
            assert down.outcome.error is not None and not down.committed
            assert app.is_running
            subprocess.run(["bash", script, "start", server_dir, port], check=True, timeout=120)
            await add(pilot, "after")
            assert entries(app)[-1].outcome.value is not None
            await settle(pilot, lambda: app.query_one(UsersTable).row_count >= 2)
            results = entries(app)
    finally:
        subprocess.run(["bash", script, "start", server_dir, port], check=True, timeout=120)
    reported = [uid for result in results for uid, _ in result.committed]
    assert len(reported) == 2
    assert set(reported) <= set(await count_rows(pg_url))


PROBE_SECRET = "Qz9-probe-S3cr3t"


@pytest.fixture
async def query_password_url(pg_url: str) -> AsyncIterator[str]:
    """The test database, as a role whose password is given only as ``?password=``.

    The role's password appears nowhere else (not in its name, the host or the
    database), so finding it anywhere on screen or on disk is a leak.
    """
    url = make_url(pg_url)
    role = f"playground_probe_{url.database}"
    await drop_playground_tables(pg_url)
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
            )
            verb = "ALTER" if exists else "CREATE"
            await conn.execute(text(f"{verb} ROLE {role} LOGIN PASSWORD '{PROBE_SECRET}'"))
            await conn.execute(text(f"GRANT ALL ON SCHEMA public TO {role}"))
    finally:
        await engine.dispose()
    probe = url.set(username=role, password=None).update_query_dict({"password": PROBE_SECRET})
    yield probe.render_as_string(hide_password=False)
    await drop_playground_tables(pg_url)


async def test_a_query_parameter_password_is_never_shown(
    query_password_url: str, tmp_path: Path, app_factory_pg
):
    app = await app_factory_pg(query_password_url)
    async with app.run_test(size=(100, 32)) as pilot:
        await add(pilot, "Foo")
        assert entries(app)[-1].committed, "the lab connected with the query password"
        await pilot.press("f9", "f10", "f7")
        await pilot.pause()
        status = str(app.query_one("#status").render())
        assert "password=***" in status
        shown = status + log_text(app) + app.export_screenshot() + str(app.sub_title)
        await pilot.press("ctrl+r")
        await pilot.pause()
        confirm = app.export_screenshot()
        assert "Drop" in confirm and "password=***" in confirm, "the reset names the database"
        await pilot.press("escape")
        assert PROBE_SECRET not in shown + confirm
        exported = list(tmp_path.glob("playground*"))
        assert len(exported) == 2
        for path in exported:
            assert PROBE_SECRET not in path.read_text()


def test_a_query_parameter_password_is_not_printed(query_password_url: str):
    script = run_cli("--print-script", "--db", query_password_url)
    assert script.returncode == 0 and PROBE_SECRET not in script.stdout + script.stderr
    wrong = make_url(query_password_url).update_query_dict({"password": "Wr0ng-S3cr3t-77"})
    result = run_cli("--db", wrong.render_as_string(hide_password=False))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "password authentication failed" in line and "password=***" in line
    assert "Wr0ng-S3cr3t-77" not in line


FOREIGN = "CREATE TABLE playground_users (id serial PRIMARY KEY, email text NOT NULL)"


async def tables_and_rows(url: str) -> tuple[list[str], list[tuple[int, str]]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            tables = await conn.execute(
                text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'playground%'")
            )
            rows = await conn.execute(text("SELECT id, email FROM playground_users"))
            return sorted(t for (t,) in tables), [tuple(r) for r in rows]  # type: ignore[misc]
    finally:
        await engine.dispose()


async def test_a_foreign_table_is_refused_and_left_alone(pg_url: str):
    await drop_playground_tables(pg_url)
    engine = create_async_engine(pg_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(FOREIGN))
            await conn.execute(text("INSERT INTO playground_users (email) VALUES ('a@b.org')"))
    finally:
        await engine.dispose()
    lab = Lab(pg_url)
    with pytest.raises(DatabaseProblem, match="playground_users that is not the playground's"):
        await lab.open()
    assert lab.engine is None
    result = run_cli("--db", pg_url)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "columns: id, email" in line and "never drops or alters it" in line
    assert await tables_and_rows(pg_url) == (["playground_users"], [(1, "a@b.org")])
    await drop_foreign_table(pg_url)


async def drop_foreign_table(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE IF EXISTS playground_users"))
    finally:
        await engine.dispose()


def own_server_dir() -> str:
    """The folder of a throwaway server (.ci/postgres.sh) that a test may stop."""
    server_dir = os.environ.get(SERVER_DIR_VAR)
    if not server_dir:
        if os.environ.get("CI"):
            pytest.fail(f"CI runs the fault tests, but {SERVER_DIR_VAR} is not set")
        pytest.skip(f"set {SERVER_DIR_VAR} to the .ci/postgres.sh cluster folder to run this")
    return server_dir


async def test_bulk_add_with_the_server_down_ends_with_a_log_entry(pg_url: str, app_factory_pg):
    server_dir = own_server_dir()
    port = str(make_url(pg_url).port)
    script = str(ROOT / ".ci" / "postgres.sh")
    app = await app_factory_pg(pg_url)
    try:
        async with app.run_test(size=(100, 32)) as pilot:
            await add(pilot, "before")
            subprocess.run(["bash", script, "stop", server_dir], check=True, timeout=60)
            await start_bulk(pilot, 1000, until_first_batch=False)
            log = app.query_one(CommitLog)
            await settle(pilot, lambda: "bulk add:" in log_text(app))
            note = log.entry_text(log.entry_count - 1)
            assert "0 of 1,000 users committed" in note and "stopped by" in note
            assert app.query_one("#message").display
            assert not app.query_one("#bulk-progress").display
            assert "1 row" in str(app.query_one("#users").border_subtitle), "the table is kept"
    finally:
        subprocess.run(["bash", script, "start", server_dir, port], check=True, timeout=120)
    assert await count_rows(pg_url) == [1]

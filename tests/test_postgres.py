"""PostgreSQL only: clear start-up errors, no password anywhere, and a server that goes away."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from .conftest import postgres_url
from .pilot import add, entries, log_text, settle

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
    assert 'pip install "playground[postgres]"' in result.stderr


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
            await settle(pilot, lambda: len(app.query_one("#users").rows) >= 2)
            results = entries(app)
    finally:
        subprocess.run(["bash", script, "start", server_dir, port], check=True, timeout=120)
    reported = [uid for result in results for uid, _ in result.committed]
    assert len(reported) == 2
    assert set(reported) <= set(await count_rows(pg_url))

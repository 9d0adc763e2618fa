"""Faults: the app stays alive, and every row it reported committed is in the database."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import Static

from playground.core.lab import Lab
from playground.core.scenarios import SCENARIOS
from playground.ui.app import make_app
from playground.ui.commit_log import CommitLog
from playground.ui.screens import ConfirmQuit
from playground.ui.widgets import UsersTable

from .pilot import add, entries, settle

SIZE = (100, 32)


def sqlite_rows(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT uid, name FROM playground_users ORDER BY uid").fetchall()


def reported(app) -> set[int]:
    return {uid for result in entries(app) for uid, _ in result.committed}


async def make_database(path: Path, names: list[str]) -> None:
    lab = Lab(f"sqlite+aiosqlite:///{path}")
    await lab.open()
    for name in names:
        await lab.run(SCENARIOS["after-commit"], name, {"expire_on_commit": False})
    await lab.close()


async def test_read_only_database(tmp_path: Path):
    """Read-only for real even as root: SQLite's own mode=ro URI parameter, not file modes."""
    path = tmp_path / "ro.db"
    await make_database(path, ["kept"])
    before = path.read_bytes()
    app = make_app(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true", exports_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await add(pilot, "refused")
        (result,) = entries(app)
        assert result.outcome.error is not None and not result.committed
        assert "readonly" in result.outcome.error.outer.message
        await add(pilot, "refused again")
        assert app.is_running and len(entries(app)) == 2
    assert path.read_bytes() == before
    assert sqlite_rows(path) == [(1, "kept")]


def hold_write_lock(path: Path) -> subprocess.Popen[str]:
    """Another process takes the database's write lock and keeps it until told on stdin."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            f"conn = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
            "conn.execute('BEGIN IMMEDIATE')  # a write lock: readers may still read\n"
            "print('locked', flush=True)\n"
            "sys.stdin.readline()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


async def wait_until(pilot, condition, timeout: float = 15.0) -> None:
    """Poll what the app shows, without waiting for workers (one may be blocked on purpose)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"condition not met within {timeout}s"
        await pilot.pause(0.02)


def message_text(app) -> str:
    return str(app.query_one("#message", Static).render())


async def test_database_locked_by_another_process(tmp_path: Path):
    path = tmp_path / "locked.db"
    await make_database(path, ["first"])
    holder = hold_write_lock(path)
    try:
        app = make_app(
            f"sqlite+aiosqlite:///{path}?timeout=0.2",
            exports_dir=tmp_path,
            settings={"expire_on_commit": False},
        )
        async with app.run_test(size=SIZE) as pilot:
            await add(pilot, "blocked")
            blocked = entries(app)[-1]
            assert blocked.outcome.error is not None and not blocked.committed
            assert "locked" in blocked.outcome.error.outer.message
            holder.communicate("\n", timeout=10)
            await add(pilot, "after")
            assert entries(app)[-1].outcome.value is not None
            assert app.is_running
            committed = reported(app)
    finally:
        holder.kill()
    names = dict(sqlite_rows(path))
    assert committed <= set(names) and "blocked" not in names.values()
    assert sorted(names.values()) == ["after", "first"]


async def start_bulk(pilot, count: int, *, until_first_batch: bool = True) -> None:
    """Ask for a bulk add through its dialog; by default, wait until a batch is in."""
    await pilot.press("ctrl+b")
    await pilot.pause()
    await pilot.press("ctrl+u", *str(count), "enter")
    if until_first_batch:
        await settle(pilot, lambda: (pilot.app.query_one("#bulk-progress").progress or 0) > 0)


async def test_bulk_add_can_be_stopped_between_batches(tmp_path: Path):
    path = tmp_path / "bulk.db"
    app = make_app(f"sqlite+aiosqlite:///{path}", exports_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await start_bulk(pilot, 1_000_000)
        assert stop_offered(app)
        await pilot.press("ctrl+g")
        await settle(pilot, lambda: "bulk add:" in last_note(app))
        note = last_note(app)
        assert "stopped on request" in note
    count = len(sqlite_rows(path))
    assert 0 < count < 1_000_000 and count % 500 == 0, "only whole batches are committed"
    assert f"{count:,} of 1,000,000" in note


async def test_bulk_add_completes_and_shows_the_newest_rows(tmp_path: Path):
    path = tmp_path / "bulk.db"
    app = make_app(f"sqlite+aiosqlite:///{path}", exports_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await start_bulk(pilot, 1200, until_first_batch=False)
        await settle(pilot, lambda: app.query_one("#users").row_count == UsersTable.MAX_ROWS)
        await settle(pilot, lambda: "1,200 rows" in str(app.query_one("#users").border_subtitle))
        await add(pilot, "after the bulk")
        assert entries(app)[-1].user_input == "after the bulk"
    assert len(sqlite_rows(path)) == 1201


async def test_quit_during_a_bulk_add_leaves_whole_batches(tmp_path: Path):
    path = tmp_path / "quit.db"
    app = make_app(f"sqlite+aiosqlite:///{path}", exports_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await start_bulk(pilot, 1_000_000)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmQuit))
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: not app.is_running)
    assert app.return_code == 0
    assert app.lab.engine is None, "the engine was disposed"
    count = len(sqlite_rows(path))
    assert 0 < count < 1_000_000 and count % 500 == 0, "the batch in flight finished whole"


async def test_quit_during_a_commit_waits_for_it(tmp_path: Path):
    """The commit is provably in flight (held up by another process's lock) when quitting."""
    path = tmp_path / "quit.db"
    await make_database(path, [])
    holder = hold_write_lock(path)
    try:
        app = make_app(f"sqlite+aiosqlite:///{path}?timeout=30", exports_dir=tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot)
            await pilot.press(*"last", "enter")
            await wait_until(pilot, app.lab.lock.locked)
            await pilot.press("ctrl+q")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmQuit))
            await pilot.press("ctrl+q")
            await wait_until(pilot, lambda: "Quitting after the commit of #1" in message_text(app))
            assert app.is_running, "it waits for the commit"
            holder.communicate("\n", timeout=10)
            await wait_until(pilot, lambda: not app.is_running)
    finally:
        holder.kill()
    assert app.return_code == 0 and app.lab.engine is None
    assert sqlite_rows(path) == [(1, "last")], "the commit in flight finished, whole"


async def test_flips_and_submits_during_a_long_job_apply_in_order(tmp_path: Path):
    path = tmp_path / "order.db"
    app = make_app(f"sqlite+aiosqlite:///{path}", exports_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await start_bulk(pilot, 100_000)
        await pilot.press(*"a", "enter", "f2", *"b", "enter", "f2", "f3", *"c", "enter")
        await settle(pilot, lambda: len(entries(app)) == 3)
        a, b, c = entries(app)
    assert [r.user_input for r in (a, b, c)] == ["a", "b", "c"]
    assert dict(a.settings) == {"expire_on_commit": True, "auto_refresh": False}
    assert dict(b.settings) == {"expire_on_commit": False, "auto_refresh": False}
    assert dict(c.settings) == {"expire_on_commit": True, "auto_refresh": True}
    assert a.outcome.error is not None and b.outcome.ok and c.outcome.ok
    uids = [a.committed[0][0], b.committed[0][0], c.committed[0][0]]
    assert uids == sorted(uids) and uids[0] > 100_000 - 1, "they ran after the bulk, in order"


def test_not_a_database_is_left_unchanged(tmp_path: Path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 40)
    before = path.read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "playground", "--db", f"sqlite+aiosqlite:///{path}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "file is not a database" in result.stderr
    assert "Traceback" not in result.stderr
    assert path.read_bytes() == before


@pytest.mark.parametrize("where", ["missing-dir/x.db", "missing-dir/deeper/x.db"])
def test_missing_directory_is_one_clear_line(tmp_path: Path, where: str):
    result = subprocess.run(
        [sys.executable, "-m", "playground", "--db", f"sqlite+aiosqlite:///{tmp_path / where}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "missing-dir").exists()


FOREIGN_TABLE = "CREATE TABLE playground_users (id INTEGER PRIMARY KEY, email TEXT NOT NULL)"


def replace_with_a_foreign_table(path: Path) -> None:
    """Another program drops the playground's users table and puts its own there."""
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE playground_posts")
        conn.execute("DROP TABLE playground_users")
        conn.execute(FOREIGN_TABLE)
        conn.execute("INSERT INTO playground_users (email) VALUES ('someone@example.org')")


def foreign_rows(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT id, email FROM playground_users").fetchall()


def last_note(app) -> str:
    log = app.query_one(CommitLog)
    return log.entry_text(log.entry_count - 1) if log.entry_count else ""


def stop_offered(app) -> bool:
    """Whether Ctrl+G (stop the bulk add) is an active binding, as the footer shows it."""
    binding = app.active_bindings.get("ctrl+g")
    return binding is not None and binding.enabled


async def loaded(pilot) -> None:
    """Wait until the database is open and the users table is on screen."""
    await settle(pilot, lambda: "row" in str(pilot.app.query_one("#users").border_subtitle))


async def bulk_ends_with_a_log_entry(pilot, says: str) -> str:
    """Ask for a failing bulk add; the log names the rows in and the cause, the form recovers."""
    app = pilot.app
    await start_bulk(pilot, 1000, until_first_batch=False)
    await settle(pilot, lambda: "bulk add:" in last_note(app))
    note = last_note(app)
    assert "0 of 1,000 users committed" in note and says in note
    message = app.query_one("#message", Static)
    assert message.display and not app.query_one("#bulk-progress").display
    assert "0 of 1,000 users committed" in str(message.render())
    assert not stop_offered(app), "Ctrl+G is not offered any more"
    return note


async def test_bulk_add_on_an_overwritten_file_ends_with_a_log_entry(tmp_path: Path):
    path = tmp_path / "overwritten.db"
    app = make_app(f"sqlite+aiosqlite:///{path}", exports_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        path.write_bytes(b"overwritten by another program\n" * 200)
        await bulk_ends_with_a_log_entry(pilot, "file is not a database")
        assert app.is_running


async def test_bulk_add_into_a_foreign_table_ends_with_a_log_entry(tmp_path: Path):
    path = tmp_path / "swapped.db"
    app = make_app(f"sqlite+aiosqlite:///{path}", exports_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        replace_with_a_foreign_table(path)
        note = await bulk_ends_with_a_log_entry(pilot, "OperationalError")
        assert "column" in note and "playground_users" in note, "the log names the mismatch"
    assert foreign_rows(path) == [(1, "someone@example.org")]


def test_a_foreign_table_at_start_is_one_line_and_left_alone(tmp_path: Path):
    path = tmp_path / "theirs.db"
    with sqlite3.connect(path) as conn:
        conn.execute(FOREIGN_TABLE)
        conn.execute("INSERT INTO playground_users (email) VALUES ('someone@example.org')")
    before = path.read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "playground", "--db", f"sqlite+aiosqlite:///{path}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert "playground_users that is not the playground's" in line
    assert "columns: id, email" in line and "never drops or alters it" in line
    assert path.read_bytes() == before, "no table was created, dropped or altered"


async def test_the_app_refuses_a_foreign_table_at_start(tmp_path: Path):
    """The app's own open refuses too (the table may appear after the command line's check)."""
    path = tmp_path / "theirs.db"
    with sqlite3.connect(path) as conn:
        conn.execute(FOREIGN_TABLE)
    app = make_app(f"sqlite+aiosqlite:///{path}", exports_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: not app.is_running)
    assert app.return_code == 2
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert tables == ["playground_users"]


async def test_reset_refuses_a_foreign_table(tmp_path: Path):
    path = tmp_path / "swapped.db"
    app = make_app(f"sqlite+aiosqlite:///{path}", exports_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        replace_with_a_foreign_table(path)
        await pilot.press("ctrl+r")
        await pilot.pause()
        await pilot.press("y")
        message = app.query_one("#message", Static)
        await settle(pilot, lambda: "reset failed" in str(message.render()))
        assert "playground_users that is not the playground's" in str(message.render())
    assert foreign_rows(path) == [(1, "someone@example.org")]

"""Where the lab's database lives, and turning a URL into a clear yes or no.

Every failure here becomes a ``DatabaseProblem`` with one readable line, so the command
line can exit cleanly instead of printing a traceback.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from platformdirs import user_data_path
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

APP_NAME = "playground"
EXTRA_FOR_DRIVER = {"asyncpg": "postgres"}


class DatabaseProblem(Exception):
    """A database URL or connection the lab cannot use, said in one line."""


def default_database_path() -> Path:
    """The SQLite file used when no ``--db`` is given, in the user's data directory."""
    return user_data_path(APP_NAME) / f"{APP_NAME}.db"


def default_url() -> str:
    return f"sqlite+aiosqlite:///{default_database_path()}"


def parse_url(text: str) -> URL:
    """Parse and check a URL: it must name an installed asyncio driver."""
    try:
        url = make_url(text)
    except (sa_exc.ArgumentError, ValueError) as exc:
        raise DatabaseProblem(f"not a database URL: {text!r} ({exc})") from None
    try:
        dialect_cls = url.get_dialect()
    except sa_exc.NoSuchModuleError:
        raise DatabaseProblem(
            f"unknown database driver {url.drivername!r}; "
            "try sqlite+aiosqlite:// or postgresql+asyncpg://"
        ) from None
    if not getattr(dialect_cls, "is_async", False):
        raise DatabaseProblem(
            f"{url.drivername!r} is not an asyncio driver; "
            "the lab needs one, e.g. sqlite+aiosqlite:// or postgresql+asyncpg://"
        )
    try:
        dialect_cls.import_dbapi()
    except ImportError as exc:
        driver = url.get_driver_name()
        extra = EXTRA_FOR_DRIVER.get(driver)
        hint = f'; install it with: pip install "playground[{extra}]"' if extra else ""
        raise DatabaseProblem(f"the {driver} driver is not installed ({exc}){hint}") from None
    return url


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def is_memory(url: URL) -> bool:
    """True for an in-memory SQLite database, which must keep one shared connection."""
    database = url.database or ""
    return is_sqlite(url) and (
        database in ("", ":memory:") or "mode=memory" in str(url.query.get("mode", ""))
    )


def sqlite_path(url: URL) -> Path | None:
    """The file behind a SQLite URL, or None for memory and ``file:`` URIs."""
    if not is_sqlite(url) or is_memory(url) or not url.database:
        return None
    if url.database.startswith("file:"):
        return None
    return Path(url.database)


def describe(url: URL) -> str:
    """A one-line, password-free description of where the data lives."""
    if is_memory(url):
        return "in-memory SQLite (gone when the app quits)"
    path = sqlite_path(url)
    if path is not None:
        return f"SQLite file {path}"
    return url.render_as_string(hide_password=True)


def explain_connect_error(url: URL, exc: BaseException) -> str:
    """One line saying why the database could not be opened, never with the password."""
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = detail[0] if detail else type(exc).__name__
    if url.password:
        first = first.replace(str(url.password), "***")
    return f"cannot open {describe(url)}: {first}"


def check_sqlite_file(url: URL) -> None:
    """Open a SQLite file with the standard library first, to fail fast and cleanly.

    A failed connect through aiosqlite can leave its worker thread reporting to a loop
    that is already closed; the stdlib check finds missing folders, unreadable files
    and files that are not databases without that noise, and changes nothing on disk
    beyond creating a missing database file, as the lab would anyway.
    """
    path = sqlite_path(url)
    if path is None:
        return
    try:
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA schema_version")
    except sqlite3.Error as exc:
        raise DatabaseProblem(f"cannot open {describe(url)}: {exc}") from None

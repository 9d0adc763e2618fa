"""Where the lab's database lives, and turning a URL into a clear yes or no.

Every failure here becomes a ``DatabaseProblem`` with one readable line, so the command
line can exit cleanly instead of printing a traceback.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path

from platformdirs import user_data_path
from sqlalchemy import Connection, inspect
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

from .models import Model
from .names import visible

APP_NAME = "playground"
EXTRA_FOR_DRIVER = {"asyncpg": "postgres"}
MASK = "***"

SECRET_KEY = re.compile(r"pass|pwd|secret|token", re.IGNORECASE)
"""Query parameters whose value is a secret: asyncpg takes ``?password=`` as the password."""

_USERINFO_SECRET = re.compile(r"^([^\s:/@]*):\S*@")
_QUERY_SECRET = re.compile(
    r"([?&;][^=&;#\s]*(?:pass|pwd|secret|token)[^=&;#\s]*=)[^&;#\s]*", re.IGNORECASE
)


class DatabaseProblem(Exception):
    """A database URL or connection the lab cannot use, said in one line."""


def default_database_path() -> Path:
    """The SQLite file used when no ``--db`` is given, in the user's data directory."""
    return user_data_path(APP_NAME) / f"{APP_NAME}.db"


def default_url() -> str:
    return f"sqlite+aiosqlite:///{default_database_path()}"


def redact(text: str) -> str:
    """A URL typed by a user, shown safely even when it does not parse.

    The password between ``user:`` and ``@`` and every secret-looking query value are
    masked, and control characters are written as escapes, so nothing typed reaches the
    terminal as a password or as an escape sequence.
    """
    scheme, separator, rest = text.strip().partition("://")
    if not separator:
        scheme, rest = "", scheme
    rest = _USERINFO_SECRET.sub(lambda m: f"{m[1]}:{MASK}@", rest, count=1)
    return visible(scheme + separator + _QUERY_SECRET.sub(lambda m: f"{m[1]}{MASK}", rest))


def secrets_of(url: URL) -> list[str]:
    """Every secret the URL carries: its password and secret-looking query values."""
    found = [str(url.password)] if url.password else []
    for key, value in url.query.items():
        if SECRET_KEY.search(key):
            found += [value] if isinstance(value, str) else list(value)
    return [secret for secret in found if secret]


def safe_url(url: URL, *, keep_secret_query: bool = True) -> str:
    """The URL as text with every secret masked (or, if asked, secret query keys dropped).

    ``render_as_string(hide_password=True)`` hides only the password between ``:`` and
    ``@``; a password given as ``?password=`` would show, so the query is filtered too.
    """
    query = {
        key: (MASK if keep_secret_query else None) if SECRET_KEY.search(key) else value
        for key, value in url.query.items()
    }
    bare = URL.create(
        url.drivername,
        url.username,
        MASK if url.password else None,
        url.host,
        url.port,
        url.database,
        {key: value for key, value in query.items() if value is not None},
    )
    return visible(bare.render_as_string(hide_password=False).replace("%2A%2A%2A", MASK))


def without_secrets(text: str, url: URL) -> str:
    """``text`` with every secret of ``url`` replaced by the mask."""
    for secret in sorted(secrets_of(url), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def parse_url(text: str) -> URL:
    """Parse and check a URL: it must name an installed asyncio driver."""
    if not text.strip():
        raise DatabaseProblem("the database URL is empty; give one, or leave out --db")
    try:
        url = make_url(text)
    except (sa_exc.ArgumentError, ValueError) as exc:
        raise DatabaseProblem(f"not a database URL: {redact(text)} ({redact(str(exc))})") from None
    try:
        dialect_cls = url.get_dialect()
    except sa_exc.NoSuchModuleError:
        raise DatabaseProblem(
            f"unknown database driver {visible(url.drivername)!r}; "
            "try sqlite+aiosqlite:// or postgresql+asyncpg://"
        ) from None
    if not getattr(dialect_cls, "is_async", False):
        raise DatabaseProblem(
            f"{visible(url.drivername)!r} is not an asyncio driver; "
            "the lab needs one, e.g. sqlite+aiosqlite:// or postgresql+asyncpg://"
        )
    try:
        dialect_cls.import_dbapi()
    except ImportError as exc:
        driver = url.get_driver_name()
        extra = EXTRA_FOR_DRIVER.get(driver)
        package = f"sqlalchemy-async-playground[{extra}]"
        hint = f'; install it with: pip install "{package}"' if extra else ""
        raise DatabaseProblem(
            f"the {visible(driver)} driver is not installed ({visible(str(exc))}){hint}"
        ) from None
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
    """A one-line, password-free description of where the data lives, safe to print."""
    if is_memory(url):
        return "in-memory SQLite (gone when the app quits)"
    path = sqlite_path(url)
    if path is not None:
        return f"SQLite file {visible(str(path))}"
    return safe_url(url)


def explain_connect_error(url: URL, exc: BaseException) -> str:
    """One line saying why the database could not be opened, never with the password."""
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = detail[0] if detail else type(exc).__name__
    return f"cannot open {describe(url)}: {visible(without_secrets(first, url))}"


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
    if path.exists() and not path.is_file():
        # A folder, a device such as /dev/null or a pipe: SQLite fails later, or blocks.
        raise DatabaseProblem(f"cannot open {describe(url)}: it is not a regular file")
    try:
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA schema_version")
            found = {
                name: [
                    row[0] for row in conn.execute("SELECT name FROM pragma_table_info(?)", (name,))
                ]
                for name in Model.metadata.tables
            }
    except sqlite3.Error as exc:
        raise DatabaseProblem(f"cannot open {describe(url)}: {visible(str(exc))}") from None
    problem = schema_problem({name: cols for name, cols in found.items() if cols}, describe(url))
    if problem is not None:
        raise DatabaseProblem(problem)


def existing_columns(conn: Connection) -> dict[str, list[str]]:
    """The columns of each playground table that already exists, read without changing it.

    On SQLite one query reads them all: through aiosqlite each query is four trips to
    the driver's thread, and at start-up each trip waits for the screen being drawn.
    """
    names = list(Model.metadata.tables)
    if conn.dialect.name == "sqlite":
        found: dict[str, list[str]] = {}
        rows = conn.exec_driver_sql(
            "SELECT m.name, p.name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p "
            f"WHERE m.type = 'table' AND m.name IN ({', '.join('?' * len(names))}) "
            "ORDER BY m.name, p.cid",
            tuple(names),
        )
        for table, column in rows:
            found.setdefault(table, []).append(column)
        return found
    inspector = inspect(conn)
    found = {}
    for name in names:
        try:  # one query per table: asking has_table first would double them
            found[name] = [column["name"] for column in inspector.get_columns(name)]
        except sa_exc.NoSuchTableError:
            continue
    return found


def schema_problem(found: Mapping[str, list[str]], where: str) -> str | None:
    """Why an existing table of the playground's name is someone else's, or None.

    A table is the playground's when its columns are exactly the model's; anything else
    belongs to someone, and the lab refuses to write to it, drop it or alter it.
    """
    for name, table in Model.metadata.tables.items():
        if name not in found:
            continue
        columns = list(found[name])
        ours = [column.name for column in table.columns]
        if sorted(columns) == sorted(ours):
            continue
        shown = ", ".join(visible(column) for column in columns[:6])
        if len(columns) > 6:
            shown += f" and {len(columns) - 6} more"
        return (
            f"{where} already has a table {name} that is not the playground's "
            f"(columns: {shown or 'none'}; the playground's: {', '.join(ours)}); "
            "the lab never drops or alters it: give another database with --db"
        )
    return None

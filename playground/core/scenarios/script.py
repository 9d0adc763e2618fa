"""The frame every exported script shares: docstring, imports, database URL, entry point.

A line that ends in ``# <-`` is one a setting changes; the app highlights those.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy.engine import URL, make_url

from ..database import SECRET_KEY
from ..results import Script

MARK = "# <-"
ENV_VAR = "PLAYGROUND_DB"

BASE_IMPORTS = (
    "from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine",
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column",
)

USER_MODEL = """
class Model(DeclarativeBase):
    pass


class User(Model):
    __tablename__ = "playground_users"

    uid: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
"""

CREATE_TABLES = """
async def create_tables() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Model.metadata.create_all)
"""


def marked(line: str, when: bool = True) -> str:
    """Tag a line as one that a setting changes."""
    return f"{line}  {MARK}" if when else line


def sessionmaker_line(expire_on_commit: bool) -> str:
    return marked(f"Session = async_sessionmaker(engine, expire_on_commit={expire_on_commit})")


def lines(*parts: str | None) -> str:
    """Join the lines that are not None, so optional steps simply vanish."""
    return "\n".join(part for part in parts if part is not None)


def script_url(url: str) -> str:
    """The URL a script should default to: never a password, never the lab's own file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:"):
            return "sqlite+aiosqlite://"
        return "sqlite+aiosqlite:///playground_demo.db"
    # asyncpg reads PGPASSWORD from the environment, so the password never needs writing.
    return without_password(parsed)


def without_password(url: URL) -> str:
    """The URL as text with no password at all, nor a ``?password=`` or other secret.

    ``URL.set(password=None)`` keeps the password, so the URL is built afresh.
    """
    query = {key: value for key, value in url.query.items() if not SECRET_KEY.search(key)}
    bare = URL.create(url.drivername, url.username, None, url.host, url.port, url.database, query)
    return bare.render_as_string(hide_password=False)


def lab_session_body(expire_on_commit: bool, steps: str) -> str:
    """The article's shape: one module-level session, the User model, ``main()`` around steps."""
    return f"""
engine = create_async_engine(DATABASE_URL)
{sessionmaker_line(expire_on_commit)}
session = Session()

{USER_MODEL}
{CREATE_TABLES}

async def main() -> None:
    await create_tables()
    try:
{steps}
    finally:
        await session.close()
        await engine.dispose()
"""


def render_script(
    title: str,
    settings: Mapping[str, bool],
    url: str,
    imports: Iterable[str],
    body: str,
) -> Script:
    shown = ", ".join(f"{key}={value}" for key, value in settings.items())
    text = f'''"""{title}

Settings: {shown}.
Exported by playground; run it with python. {ENV_VAR} picks
another database URL (PostgreSQL: password in PGPASSWORD).
"""

import asyncio
import os

{chr(10).join(imports)}

DATABASE_URL = os.environ.get({ENV_VAR!r}, {script_url(url)!r})
{body.rstrip()}


if __name__ == "__main__":
    asyncio.run(main())
'''
    numbered = enumerate(text.splitlines(), start=1)
    return Script(text, frozenset(i for i, line in numbered if MARK in line))

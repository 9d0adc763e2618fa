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


def lines(*parts: str | None) -> str:
    """Join the lines that are not None, so optional steps simply vanish."""
    return "\n".join(part for part in parts if part is not None)


ENGINE_LINE = "engine = create_async_engine(DATABASE_URL)"
PLAIN_SESSIONMAKER = "Session = async_sessionmaker(engine)"
KEEPING_SESSIONMAKER = "Session = async_sessionmaker(engine, expire_on_commit=False)"


def engine_lines(session_line: str = PLAIN_SESSIONMAKER) -> str:
    """The script's async engine on ``DATABASE_URL`` and its ``Session`` factory."""
    return f"{ENGINE_LINE}\n{session_line}"


def user_model(
    *more: str,
    base_line: str = "class Model(DeclarativeBase):",
    name_line: str = "    name: Mapped[str]",
) -> str:
    """The declarative base and ``User`` over ``playground_users``; ``more`` ends the class."""
    return lines(
        "",
        base_line,
        "    pass",
        "",
        "",
        "class User(Model):",
        '    __tablename__ = "playground_users"',
        "",
        "    uid: Mapped[int] = mapped_column(primary_key=True)",
        name_line,
        *more,
        "",
    )


USER_MODEL = user_model()

ORM_NAMES = "DeclarativeBase, Mapped, mapped_column, relationship"
"""What a script with a relationship imports from ``sqlalchemy.orm``."""

POSTS_LINE = '    posts: Mapped[list["Post"]] = relationship(back_populates="user")'

TWO_POSTS = 'posts=[Post(title="first"), Post(title="second")]'
"""The posts a script's new user is written with, as ``Run.write_user_with_posts`` makes them."""

POST_MODEL = """
class Post(Model):
    __tablename__ = "playground_posts"

    pid: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    user_id: Mapped[int] = mapped_column(ForeignKey("playground_users.uid"))
    user: Mapped[User] = relationship(back_populates="posts")
"""


def user_with_posts_model(
    base_line: str = "class Model(DeclarativeBase):", posts_line: str = POSTS_LINE
) -> str:
    """``User`` with its ``posts`` relationship, and ``Post`` over ``playground_posts``."""
    return f"{user_model(posts_line, base_line=base_line)}\n{POST_MODEL}"


CREATE_TABLES = """
async def create_tables() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Model.metadata.create_all)
"""


def marked(line: str, when: bool = True) -> str:
    """Tag a line as one that a setting changes."""
    return f"{line}  {MARK}" if when else line


def switched(code: str, on: bool, switch: str, indent: int = 8) -> str:
    """``code`` while its switch is on, else the line commented out saying so; marked always."""
    return marked(" " * indent + (code if on else f"# {code}  ({switch} is off)"))


def sessionmaker_line(expire_on_commit: bool) -> str:
    return marked(f"Session = async_sessionmaker(engine, expire_on_commit={expire_on_commit})")


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


def add_user_lines(
    new_user: str, indent: int, *, flush: bool = True, variable: str = "user"
) -> str:
    """Add ``user = new_user`` to ``session`` and commit; with ``flush``, keep its ``uid``."""
    pad = " " * indent
    return lines(
        f"{pad}{variable} = {new_user}",
        f"{pad}session.add({variable})",
        f"{pad}await session.flush()" if flush else None,
        f"{pad}uid = user.uid" if flush else None,
        f"{pad}await session.commit()",
    )


def load_user_lines(indent: int, loader: str | None = None) -> str:
    """Select the user with key ``uid`` into ``user``; ``loader`` is a marked ``.options()``."""
    pad = " " * indent
    query = "select(User).where(User.uid == uid)"
    return lines(
        marked(f"{pad}query = {query}.options({loader})") if loader else f"{pad}query = {query}",
        f"{pad}user = (await session.execute(query)).scalar_one()",
    )


def orm_import(names: str, extra: str, when: bool) -> str:
    """``from sqlalchemy.orm import names``, with ``extra`` added and marked ``when`` asked."""
    return (
        marked(f"from sqlalchemy.orm import {names}, {extra}")
        if when
        else (f"from sqlalchemy.orm import {names}")
    )


def new_session_adding(new_user: str, indent: int, *, flush: bool = True) -> str:
    """A session of its own that adds a new user and commits it."""
    opening = " " * indent + "async with Session() as session:"
    return lines(opening, add_user_lines(new_user, indent + 4, flush=flush))


MAIN_OPENING = """async def main() -> None:
    await create_tables()
    try:"""

IN_SESSION = "        async with Session() as session:"
"""``main()``'s own session, whose block holds the lines the lab runs step by step."""


def main_function(steps: str, *closing: str) -> str:
    """``main()``: the tables, ``steps`` in its ``try``, then ``closing`` and the engine's end."""
    return lines(
        MAIN_OPENING,
        steps,
        "    finally:",
        *(f"        {line}" for line in closing),
        "        await engine.dispose()",
        "",
    )


def user_script(setup: str, main_body: str, *, after_model: str = "", functions: str = "") -> str:
    """A script on the ``User`` model: ``setup`` (the engine), tables, ``functions``, ``main()``.

    ``after_model`` follows the class directly; ``main_body`` runs inside ``main()``'s
    ``try``, and the engine is disposed of at the end.
    """
    return f"""
{setup}

{USER_MODEL}{after_model}
{CREATE_TABLES}
{functions}
{main_function(main_body)}"""


def write_then_show(writer: str, new_user: str, reads: str, name: str) -> str:
    """Tables, a function that writes a user and one that reads it back, and ``main()``."""
    return f"""{CREATE_TABLES}

async def {writer}(name: str) -> int:
{new_session_adding(new_user, 4)}
    return uid


async def show_user(uid: int) -> None:
    async with Session() as session:
{reads}


{main_function(f"        await show_user(await {writer}({name!r}))")}"""


def lab_session_body(expire_on_commit: bool, steps: str, *model_more: str) -> str:
    """The article's shape: one module-level session, the User model, ``main()`` around steps.

    ``model_more`` are lines that end the ``User`` class, such as a ``__repr__``.
    """
    return f"""
{ENGINE_LINE}
{sessionmaker_line(expire_on_commit)}
session = Session()

{user_model(*model_more)}
{CREATE_TABLES}

{main_function(steps, "await session.close()")}"""


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

"""The frame every exported script shares: docstring, imports, database URL, entry point.

A line that ends in ``# <-`` is one a setting changes; the app highlights those.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.engine import make_url

from ..results import Script

MARK = "# <-"
ENV_VAR = "PLAYGROUND_DB"


def script_url(url: str) -> str:
    """The URL a script should default to: never a password, never the lab's own file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:"):
            return "sqlite+aiosqlite://"
        return "sqlite+aiosqlite:///playground_demo.db"
    # asyncpg reads PGPASSWORD from the environment, so the password never needs writing.
    return parsed.set(password=None).render_as_string(hide_password=False)


def render_script(
    title: str, settings: Mapping[str, bool], url: str, imports: tuple[str, ...], body: str
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
{body}

if __name__ == "__main__":
    asyncio.run(main())
'''
    marked = frozenset(i for i, line in enumerate(text.splitlines(), start=1) if MARK in line)
    return Script(text, marked)

"""`schema-diff`: list the columns the models declare but the database lacks."""

import argparse
import asyncio
import sys

from schema_diff import missing_columns
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


async def schema_diff(url: str) -> int:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE teams (id INTEGER PRIMARY KEY, name VARCHAR(80))"))
        await conn.execute(text("CREATE TABLE players (id INTEGER PRIMARY KEY, name VARCHAR(80))"))
    try:
        async with engine.connect() as conn:
            missing = await conn.run_sync(missing_columns)
    finally:
        await engine.dispose()
    for table, columns in missing.items():
        print(f"{table}: missing {', '.join(columns)}")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="schema-diff")
    parser.add_argument("--url", default="sqlite+aiosqlite://")
    args = parser.parse_args(sys.argv[1:])
    sys.exit(asyncio.run(schema_diff(args.url)))


if __name__ == "__main__":
    main()

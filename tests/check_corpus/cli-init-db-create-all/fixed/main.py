"""A to-do CLI whose first run creates the schema: `todo init`, `todo add TITLE`."""

import argparse
import asyncio
import sys

from db import Session, engine
from models import Base, Todo
from sqlalchemy import func, select


async def init_db() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    print("schema ready")


async def add(title: str) -> None:
    async with Session() as session:
        session.add(Todo(title=title))
        await session.commit()
        count = await session.scalar(select(func.count()).select_from(Todo))
    print(f"{count} todo(s)")


async def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="todo")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("init")
    adder = commands.add_parser("add")
    adder.add_argument("title")
    args = parser.parse_args(argv)
    try:
        if args.command == "init":
            await init_db()
        else:
            await add(args.title)
    finally:
        await engine.dispose()


def main() -> None:
    for argv in [sys.argv[1:]] if sys.argv[1:] else [["init"], ["add", "water the plants"]]:
        asyncio.run(run(argv))


if __name__ == "__main__":
    main()

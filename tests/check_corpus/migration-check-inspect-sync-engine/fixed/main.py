"""Create the schema with the app's async engine, then run the pre-deploy check."""

import asyncio
import sys

from checks import pending_tables
from config import DATABASE_URL
from models import Base
from sqlalchemy.ext.asyncio import create_async_engine


async def migrate() -> None:
    engine = create_async_engine(DATABASE_URL)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()


def main() -> None:
    asyncio.run(migrate())
    pending = pending_tables()
    print("pending tables:", ", ".join(pending) or "none")
    sys.exit(1 if pending else 0)


if __name__ == "__main__":
    main()

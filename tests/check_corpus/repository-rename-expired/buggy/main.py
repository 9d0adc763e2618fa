"""Create a user, rename it through the repository, show the new name."""

import asyncio

from models import Base
from repo import UserRepository
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine


async def main() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine)

    async with sessions() as session:
        repo = UserRepository(session)
        user = await repo.add("Ada")
        user_id = user.id
        await session.commit()

    async with sessions() as session:
        repo = UserRepository(session)
        renamed = await repo.rename(user_id, "Ada Lovelace")
        print(f"renamed to {renamed.name}")

    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

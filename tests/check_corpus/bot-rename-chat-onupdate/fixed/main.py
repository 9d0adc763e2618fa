"""Feed the group bot one /rename command."""

import asyncio

from handlers import ChatHandlers
from models import Base, Chat
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine


async def main() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as session:
        session.add(Chat(id=-100, title="book club"))
        await session.commit()
    handlers = ChatHandlers(sessions)
    text = "/rename Book Club (Tuesdays)"
    command, *args = text.split()
    if command == "/rename":
        print(await handlers.rename(-100, args))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

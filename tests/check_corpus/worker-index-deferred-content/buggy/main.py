"""An indexing worker: count the words of every document that has no count yet."""

import asyncio

from models import Base, Document
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine


async def index_pending(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        pending = (await session.scalars(select(Document).where(Document.words.is_(None)))).all()
        for document in pending:
            document.words = len(document.content.split())
        await session.commit()
        return len(pending)


async def run_worker(sessions: async_sessionmaker[AsyncSession], rounds: int) -> None:
    for _ in range(rounds):
        indexed = await index_pending(sessions)
        print(f"indexed {indexed} documents")
        await asyncio.sleep(0)


async def main() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine)
    async with sessions() as session:
        session.add_all(
            [
                Document(name="a.txt", content="the quick brown fox"),
                Document(name="b.txt", content="jumps over the lazy dog"),
            ]
        )
        await session.commit()
    await asyncio.create_task(run_worker(sessions, rounds=2))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

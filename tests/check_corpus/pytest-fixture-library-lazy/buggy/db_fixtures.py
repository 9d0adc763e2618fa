"""Fixtures, loaded as a pytest plugin: a fresh database and a stored author."""

from collections.abc import AsyncIterator

import pytest_asyncio
from models import Author, Base, Book
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine


@pytest_asyncio.fixture
async def sessions() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


@pytest_asyncio.fixture
async def author_id(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        author = Author(
            name="Le Guin", books=[Book(title="Lavinia"), Book(title="Always Coming Home")]
        )
        session.add(author)
        await session.commit()
        return author.id

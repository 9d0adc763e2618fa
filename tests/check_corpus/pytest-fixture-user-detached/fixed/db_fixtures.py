"""Fixtures, loaded as a pytest plugin: a fresh database per check and a stored user."""

from collections.abc import AsyncIterator

import pytest_asyncio
from models import Base, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine


@pytest_asyncio.fixture
async def sessions() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


@pytest_asyncio.fixture
async def user(sessions: async_sessionmaker[AsyncSession]) -> User:
    async with sessions() as session:
        user = User(email="ada@example.com", display_name="Ada")
        session.add(user)
        await session.commit()
    return user

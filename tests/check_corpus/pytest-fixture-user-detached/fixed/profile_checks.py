"""Checks of the profile lookup, collected by pytest from main.py."""

import pytest
from models import User
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def display_name_for(session: AsyncSession, user_id: int) -> str | None:
    return await session.scalar(select(User.display_name).where(User.id == user_id))


@pytest.mark.asyncio
async def test_display_name(sessions: async_sessionmaker[AsyncSession], user: User) -> None:
    async with sessions() as session:
        assert await display_name_for(session, user.id) == "Ada"

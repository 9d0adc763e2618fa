"""Checks of the library queries, collected by pytest from main.py."""

import pytest
from library import titles_of
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@pytest.mark.asyncio
async def test_titles_are_sorted(
    sessions: async_sessionmaker[AsyncSession], author_id: int
) -> None:
    async with sessions() as session:
        assert await titles_of(session, author_id) == ["Always Coming Home", "Lavinia"]


@pytest.mark.asyncio
async def test_unknown_author_has_no_titles(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        assert await titles_of(session, 999) == []

"""The code under test: queries of the library."""

from models import Author
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.interfaces import ORMOption


def with_books() -> list[ORMOption]:
    return [selectinload(Author.books)]


async def titles_of(session: AsyncSession, author_id: int) -> list[str]:
    author = await session.get(Author, author_id, options=with_books())
    if author is None:
        return []
    return [book.title for book in author.books]

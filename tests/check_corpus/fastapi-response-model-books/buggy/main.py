"""A FastAPI app that returns an author with the books, through a response_model."""

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, HTTPException
from models import Author, Base, Book
from schemas import AuthorOut
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
Session = async_sessionmaker(engine, expire_on_commit=False)
app = FastAPI()


async def get_session() -> AsyncIterator[AsyncSession]:
    async with Session() as session:
        yield session


@app.get("/authors/{author_id}", response_model=AuthorOut)
async def read_author(
    author_id: int, session: Annotated[AsyncSession, Depends(get_session)]
) -> Author:
    author = await session.get(Author, author_id)
    if author is None:
        raise HTTPException(status_code=404)
    return author


async def main() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with Session() as session:
        session.add(Author(name="Le Guin", books=[Book(title="The Dispossessed")]))
        await session.commit()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/authors/1")
        print(response.status_code, response.json())
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

"""A FastAPI blog with a Markdown export of every article."""

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI
from fastapi.responses import PlainTextResponse
from models import Article, Base
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
Session = async_sessionmaker(engine, expire_on_commit=False)
app = FastAPI()


async def get_session() -> AsyncIterator[AsyncSession]:
    async with Session() as session:
        yield session


@app.get("/export.md", response_class=PlainTextResponse)
async def export(session: Annotated[AsyncSession, Depends(get_session)]) -> str:
    articles = await session.scalars(select(Article).order_by(Article.published))
    return "\n\n".join(f"# {a.title}\n_{a.published}_\n\n{a.body}" for a in articles)


async def main() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with Session() as session:
        session.add_all(
            [
                Article(slug="hello", title="Hello", published=date(2024, 1, 2), body="Hi."),
                Article(slug="again", title="Again", published=date(2024, 2, 3), body="More."),
            ]
        )
        await session.commit()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/export.md")
        print(response.status_code, len(response.text), "characters")
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

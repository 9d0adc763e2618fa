"""A FastAPI app whose POST /projects answers with the created project."""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict
from sqlalchemy import String, func
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import StaticPool


class Base(DeclarativeBase):
    pass


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ProjectIn(BaseModel):
    name: str


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    created_at: datetime


engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
Session = async_sessionmaker(engine)
app = FastAPI()


async def get_session() -> AsyncIterator[AsyncSession]:
    async with Session() as session:
        yield session


@app.post("/projects", response_model=ProjectOut, status_code=201)
async def create_project(
    payload: ProjectIn, session: Annotated[AsyncSession, Depends(get_session)]
) -> Project:
    project = Project(name=payload.name)
    session.add(project)
    await session.commit()
    return project


async def main() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/projects", json={"name": "lab"})
        print(response.status_code, sorted(response.json()))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

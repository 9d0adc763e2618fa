"""A FastAPI app that creates users; driven once through httpx."""

import asyncio
from typing import Annotated

import httpx
from db import engine, get_session
from fastapi import Depends, FastAPI
from models import Base, User
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

app = FastAPI()
SessionDep = Annotated[AsyncSession, Depends(get_session)]


class UserIn(BaseModel):
    email: str
    name: str


@app.post("/users", status_code=201)
async def create_user(payload: UserIn, session: SessionDep) -> dict:
    user = User(email=payload.email, name=payload.name)
    session.add(user)
    await session.commit()
    return {"id": user.id, "email": user.email, "name": user.name}


async def main() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/users", json={"email": "ada@example.com", "name": "Ada"})
        response.raise_for_status()
        print(response.json())
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

"""A FastAPI route that changes a user's e-mail and answers 409 when it is taken."""

import asyncio
from typing import Annotated

import httpx
from db import SessionLocal, engine, get_session
from fastapi import Depends, FastAPI, HTTPException
from models import Base, User
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

app = FastAPI()


class EmailChange(BaseModel):
    email: str


@app.patch("/users/{user_id}/email")
async def change_email(
    user_id: int, change: EmailChange, session: Annotated[AsyncSession, Depends(get_session)]
) -> dict[str, object]:
    user = await session.get(User, user_id)
    if user is None:
        raise HTTPException(status_code=404)
    user.email = change.email
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise HTTPException(
            status_code=409, detail=f"{change.email} is taken; {user.name} keeps {user.email}"
        ) from None
    return {"id": user.id, "email": user.email}


async def main() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with SessionLocal() as session:
        session.add_all(
            [User(email="ada@example.com", name="Ada"), User(email="bo@example.com", name="Bo")]
        )
        await session.commit()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.patch("/users/2/email", json={"email": "ada@example.com"})
        print(response.status_code, response.json())
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

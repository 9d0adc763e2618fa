"""A FastAPI app whose /me route shows the caller and their organization."""

import asyncio
from typing import Annotated

import httpx
from auth import current_user
from db import SessionLocal, engine
from fastapi import Depends, FastAPI
from models import Base, Organization, User

app = FastAPI()


@app.get("/me")
async def me(user: Annotated[User, Depends(current_user)]) -> dict[str, str]:
    return {"name": user.name, "organization": user.organization.name}


async def main() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with SessionLocal() as session:
        acme = Organization(name="Acme", plan="team")
        session.add(User(token="s3cret", name="Ada", organization=acme))
        await session.commit()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/me", headers={"Authorization": "Bearer s3cret"})
        print(response.status_code, response.json())
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

"""A FastAPI dashboard whose three figures are queried at the same time."""

import asyncio
from typing import Annotated

import httpx
from db import SessionLocal, engine, get_session
from fastapi import Depends, FastAPI
from models import Base, Order, User
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

app = FastAPI()


USERS = select(func.count()).select_from(User)
ORDERS = select(func.count()).select_from(Order)
REVENUE = select(func.coalesce(func.sum(Order.cents), 0))


@app.get("/dashboard")
async def dashboard(session: Annotated[AsyncSession, Depends(get_session)]) -> dict[str, int]:
    users, orders, revenue = await asyncio.gather(
        session.scalar(USERS), session.scalar(ORDERS), session.scalar(REVENUE)
    )
    return {"users": users or 0, "orders": orders or 0, "revenue_cents": revenue or 0}


async def main() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with SessionLocal() as session:
        ada = User(name="Ada")
        session.add(ada)
        await session.flush()
        session.add_all([Order(user_id=ada.id, cents=500), Order(user_id=ada.id, cents=700)])
        await session.commit()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/dashboard")
        print(response.status_code, response.json())
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

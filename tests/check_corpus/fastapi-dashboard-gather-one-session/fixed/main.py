"""A FastAPI dashboard whose three figures are queried at the same time."""

import asyncio

import httpx
from db import SessionLocal, engine
from fastapi import FastAPI
from models import Base, Order, User
from sqlalchemy import Select, func, select

app = FastAPI()


USERS = select(func.count()).select_from(User)
ORDERS = select(func.count()).select_from(Order)
REVENUE = select(func.coalesce(func.sum(Order.cents), 0))


async def scalar_in_own_session(statement: Select[tuple[int]]) -> int:
    async with SessionLocal() as session:
        return await session.scalar(statement) or 0


@app.get("/dashboard")
async def dashboard() -> dict[str, int]:
    users, orders, revenue = await asyncio.gather(
        scalar_in_own_session(USERS),
        scalar_in_own_session(ORDERS),
        scalar_in_own_session(REVENUE),
    )
    return {"users": users, "orders": orders, "revenue_cents": revenue}


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

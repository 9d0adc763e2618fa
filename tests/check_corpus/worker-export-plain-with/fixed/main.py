"""Nightly export: write every order as a CSV line."""

import asyncio
import csv
import io

from db import Session, engine
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer: Mapped[str] = mapped_column(String(80))
    total_cents: Mapped[int] = mapped_column(Integer)


async def seed() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with Session() as session:
        session.add_all(
            [Order(customer="ada", total_cents=1200), Order(customer="bo", total_cents=450)]
        )
        await session.commit()


async def export() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    async with Session() as session:
        rows = await session.stream_scalars(select(Order).order_by(Order.id))
        async for order in rows:
            writer.writerow([order.id, order.customer, order.total_cents])
    return out.getvalue()


async def main() -> None:
    try:
        await seed()
        print(await export(), end="")
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

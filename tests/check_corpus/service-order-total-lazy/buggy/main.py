"""An order service that totals an order from its lines."""

import asyncio

from models import Base, Order, OrderLine
from queries import order_by_id
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine


class OrderService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def place(self, customer: str, items: list[tuple[str, int, int]]) -> int:
        async with self.sessions() as session:
            order = Order(customer=customer)
            order.lines = [OrderLine(product=p, quantity=q, unit_cents=c) for p, q, c in items]
            session.add(order)
            await session.flush()
            order_id = order.id
            await session.commit()
            return order_id

    async def total_cents(self, order_id: int) -> int:
        async with self.sessions() as session:
            order = (await session.scalars(order_by_id(order_id))).one()
            return sum(line.quantity * line.unit_cents for line in order.lines)


async def main() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    service = OrderService(async_sessionmaker(engine))
    order_id = await service.place("Ada", [("pen", 3, 150), ("pad", 1, 400)])
    print("total:", await service.total_cents(order_id))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

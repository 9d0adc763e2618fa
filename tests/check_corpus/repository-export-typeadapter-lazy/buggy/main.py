"""Export the largest orders as JSON with a pydantic TypeAdapter."""

import asyncio

from models import Base, Customer, Order
from pydantic import TypeAdapter
from repo import OrderRepository
from schemas import OrderOut
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

EXPORT = TypeAdapter(list[OrderOut])


async def main() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine)
    async with sessions() as session:
        ada, bo = Customer(name="Ada", country="GB"), Customer(name="Bo", country="SE")
        session.add_all([Order(cents=900, customer=ada), Order(cents=300, customer=bo)])
        await session.commit()
    async with sessions() as session:
        orders = await OrderRepository(session).largest(limit=10)
        exported = EXPORT.validate_python(orders, from_attributes=True)
    print(EXPORT.dump_json(exported).decode())
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

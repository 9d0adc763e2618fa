"""A health service that reports tables the schema expects but the database lacks."""

import asyncio

from sqlalchemy import ForeignKey, String, inspect
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    cents: Mapped[int]


class HealthService:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def missing_tables(self) -> list[str]:
        async with self.engine.connect() as conn:
            names = await conn.run_sync(lambda sync_conn: inspect(sync_conn).get_table_names())
        present = set(names)
        return sorted(set(Base.metadata.tables) - present)

    async def report(self) -> dict[str, object]:
        missing = await self.missing_tables()
        return {"status": "ok" if not missing else "degraded", "missing_tables": missing}


async def main() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Customer.__table__.create)
    print(await HealthService(engine).report())
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

"""Dispatch a shipment in one transaction block, then notify the carrier."""

import asyncio
from dataclasses import dataclass

from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking: Mapped[str] = mapped_column(String(40), unique=True)
    carrier: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="packed")


@dataclass
class CarrierNotice:
    carrier: str
    tracking: str


async def dispatch(session: AsyncSession, shipment_id: int) -> CarrierNotice:
    async with session.begin():
        shipment = await session.get(Shipment, shipment_id)
        if shipment is None:
            raise LookupError(shipment_id)
        shipment.status = "dispatched"
        notice = CarrierNotice(carrier=shipment.carrier, tracking=shipment.tracking)
    return notice


async def main() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine)
    async with sessions() as session, session.begin():
        session.add(Shipment(tracking="ZX-1001", carrier="postal"))
    async with sessions() as session:
        print(await dispatch(session, 1))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

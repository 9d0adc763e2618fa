"""A scheduled job: lapse overdue subscriptions, then tell each subscriber."""

import asyncio
from datetime import date

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncAttrs, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(AsyncAttrs, DeclarativeBase):
    pass


class Subscription(Base):
    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(120))
    paid_until: Mapped[date]
    active: Mapped[bool] = mapped_column(default=True)


sent: list[str] = []


async def notify(email: str) -> None:
    await asyncio.sleep(0)
    sent.append(email)


async def lapse_overdue(session: AsyncSession, today: date) -> int:
    overdue = list(
        await session.scalars(
            select(Subscription).where(Subscription.active, Subscription.paid_until < today)
        )
    )
    for subscription in overdue:
        subscription.active = False
    await session.commit()
    for subscription in overdue:
        await notify(subscription.email)
    return len(overdue)


async def every(interval: float, runs: int, sessions: async_sessionmaker[AsyncSession]) -> None:
    for _ in range(runs):
        async with sessions() as session:
            print("lapsed:", await lapse_overdue(session, date(2024, 6, 1)))
        await asyncio.sleep(interval)


async def main() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine)
    async with sessions() as session:
        session.add_all(
            [
                Subscription(email="ada@example.com", paid_until=date(2024, 5, 1)),
                Subscription(email="bo@example.com", paid_until=date(2024, 9, 1)),
            ]
        )
        await session.commit()
    await every(0.01, runs=2, sessions=sessions)
    print("notified:", sent)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

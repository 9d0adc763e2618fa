"""A notification worker: every pending notification is sent by its own task."""

import asyncio

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(120))
    sent: Mapped[bool] = mapped_column(default=False)


async def deliver(recipient: str) -> None:
    await asyncio.sleep(0.01)


async def send_one(session: AsyncSession, notification_id: int) -> None:
    notification = await session.get(Notification, notification_id)
    if notification is None or notification.sent:
        return
    await deliver(notification.recipient)
    notification.sent = True
    await session.commit()


async def run_once(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        pending = await session.scalars(select(Notification.id).where(~Notification.sent))
        tasks = [asyncio.create_task(send_one(session, nid)) for nid in pending]
        await asyncio.gather(*tasks)
        return len(tasks)


async def main() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as session:
        session.add_all([Notification(recipient=f"user{n}@example.com") for n in range(4)])
        await session.commit()
    print("sent", await run_once(sessions))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

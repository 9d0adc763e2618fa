"""A notification worker: every pending notification is sent by its own task."""

import asyncio
import logging
import sys

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

log = logging.getLogger("notifier")


class Base(DeclarativeBase):
    pass


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(120))
    sent: Mapped[bool] = mapped_column(default=False)


async def deliver(recipient: str) -> None:
    await asyncio.sleep(0.01)


async def send_one(sessions: async_sessionmaker[AsyncSession], notification_id: int) -> None:
    async with sessions() as session:
        notification = await session.get(Notification, notification_id)
        if notification is None or notification.sent:
            return
        await deliver(notification.recipient)
        notification.sent = True
        await session.commit()


async def run_once(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessions() as session:
        pending = list(await session.scalars(select(Notification.id).where(~Notification.sent)))
        tasks = [asyncio.create_task(send_one(sessions, nid)) for nid in pending]
        results = await asyncio.gather(*tasks, return_exceptions=True)
    failed = 0
    for notification_id, result in zip(pending, results, strict=True):
        if isinstance(result, BaseException):
            log.error("notification %s failed", notification_id, exc_info=result)
            failed += 1
    return len(pending) - failed, failed


async def main() -> int:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as session:
        session.add_all([Notification(recipient=f"user{n}@example.com") for n in range(4)])
        await session.commit()
    sent, failed = await run_once(sessions)
    print(f"sent {sent}, failed {failed}")
    await engine.dispose()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

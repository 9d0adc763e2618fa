"""An import worker: each batch's SKUs go in one by one, duplicates are skipped and logged."""

import asyncio
import logging

from sqlalchemy import ForeignKey, String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

log = logging.getLogger("importer")


class Base(DeclarativeBase):
    pass


class Batch(Base):
    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(20), unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))


async def import_batch(session: AsyncSession, batch_id: int, skus: list[str]) -> int:
    batch = await session.get(Batch, batch_id)
    if batch is None:
        raise LookupError(batch_id)
    imported = 0
    for sku in skus:
        session.add(Item(sku=sku, batch_id=batch.id))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            log.warning("duplicate %s skipped in batch %s", sku, batch.name)
        else:
            imported += 1
    return imported


async def worker(
    jobs: asyncio.Queue[tuple[int, list[str]] | None],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    while (job := await jobs.get()) is not None:
        batch_id, skus = job
        async with sessions() as session:
            count = await import_batch(session, batch_id, skus)
        print(f"batch {batch_id}: {count} of {len(skus)} imported")


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as session:
        session.add(Batch(name="spring"))
        await session.commit()

    jobs: asyncio.Queue[tuple[int, list[str]] | None] = asyncio.Queue()
    jobs.put_nowait((1, ["A-1", "A-2", "A-1", "A-3"]))
    jobs.put_nowait(None)
    await asyncio.gather(worker(jobs, sessions))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

"""A job runner that claims queued jobs and logs each one it starts."""

import asyncio
import logging

from models import Base, Job
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger("runner")


async def claim_next(session: AsyncSession) -> Job | None:
    job = await session.scalar(select(Job).where(Job.state == "queued").order_by(Job.id).limit(1))
    if job is not None:
        job.state = "running"
        await session.flush()
        log.info("claimed %r", job)
    return job


async def run_worker(sessions: async_sessionmaker[AsyncSession]) -> int:
    done = 0
    while True:
        async with sessions() as session:
            job = await claim_next(session)
            if job is None:
                return done
            job.state = "done"
            await session.commit()
            done += 1


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine)
    async with sessions() as session:
        session.add_all([Job(kind="thumbnail"), Job(kind="email")])
        await session.commit()
    print("jobs done:", await asyncio.create_task(run_worker(sessions)))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

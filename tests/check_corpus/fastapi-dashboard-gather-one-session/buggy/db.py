"""Engine with a pool that pings connections before handing them out."""

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

DATA_DIR = tempfile.TemporaryDirectory(prefix="dash-")
engine = create_async_engine(
    f"sqlite+aiosqlite:///{Path(DATA_DIR.name) / 'app.db'}", pool_pre_ping=True
)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session

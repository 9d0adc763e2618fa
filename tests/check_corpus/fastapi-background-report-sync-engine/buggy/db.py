"""The database URL and the app's async engine."""

import tempfile
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

DATA_DIR = tempfile.TemporaryDirectory(prefix="sales-")
DATABASE_URL = f"sqlite+aiosqlite:///{Path(DATA_DIR.name) / 'sales.db'}"
engine = create_async_engine(DATABASE_URL)
Session = async_sessionmaker(engine, expire_on_commit=False)

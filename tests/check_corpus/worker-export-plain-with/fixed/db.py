"""The worker's engine and session factory, on a file in a temporary folder."""

import tempfile
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

DATA_DIR = tempfile.TemporaryDirectory(prefix="export-")
engine = create_async_engine(f"sqlite+aiosqlite:///{Path(DATA_DIR.name) / 'shop.db'}")
Session = async_sessionmaker(engine, expire_on_commit=False)

"""The application's engine, on a database file in a private temporary folder."""

import tempfile
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

DATA_DIR = tempfile.TemporaryDirectory(prefix="todo-")
engine = create_async_engine(f"sqlite+aiosqlite:///{Path(DATA_DIR.name) / 'todo.db'}")
Session = async_sessionmaker(engine, expire_on_commit=False)

"""Database setup for the shop bot."""

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

engine = create_async_engine("sqlite+aiosqlite://")
Session = async_sessionmaker(engine)

"""Pre-deploy checks, synchronous like the migration tool that runs them."""

from config import DATABASE_URL
from models import Base
from sqlalchemy import create_engine, inspect


def pending_tables() -> list[str]:
    engine = create_engine(DATABASE_URL)
    try:
        existing = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    return sorted(set(Base.metadata.tables) - existing)

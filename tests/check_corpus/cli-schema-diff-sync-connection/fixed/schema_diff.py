"""Compare the mapped tables with what the database has, on a synchronous connection."""

from models import Base
from sqlalchemy import Connection, inspect


def missing_columns(sync_conn: Connection) -> dict[str, list[str]]:
    inspector = inspect(sync_conn)
    existing = set(inspector.get_table_names())
    missing: dict[str, list[str]] = {}
    for name, table in Base.metadata.tables.items():
        have = {c["name"] for c in inspector.get_columns(name)} if name in existing else set()
        lacking = [column.name for column in table.columns if column.name not in have]
        if lacking:
            missing[name] = lacking
    return missing

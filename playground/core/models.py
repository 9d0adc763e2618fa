"""The mapped class every experiment commits, and the tables of the others.

Every table carries the ``playground_`` prefix, so the lab can live in a database that
holds other tables and never touch them. ``User`` is mapped here; the other tables are
plain ``Table`` objects of the same metadata, mapped in :mod:`.mappings` only when a
scenario that needs them is loaded: mapping a class costs time at import, which every
start-up paid for scenarios it might never open.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

TABLE_PREFIX = "playground_"


def peek(obj: object, *keys: str) -> str:
    """A repr built from ``__dict__`` only, so printing an object never loads anything."""
    shown = ", ".join(f"{key}={obj.__dict__.get(key, '<expired>')!r}" for key in keys)
    return f"{type(obj).__name__}({shown})"


class Model(DeclarativeBase):
    """Declarative base whose metadata holds only the playground's own tables."""


class User(Model):
    """A user, mapped as in the article: an integer primary key and a name, nothing more."""

    __tablename__ = f"{TABLE_PREFIX}users"

    uid: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]

    def __repr__(self) -> str:
        return peek(self, "uid", "name")


POSTS = Table(
    f"{TABLE_PREFIX}posts",
    Model.metadata,
    Column("pid", Integer, primary_key=True),
    Column("title", String, nullable=False),
    Column("user_id", Integer, ForeignKey(User.uid), nullable=False),
)
"""A post of a user (mapped as ``Post`` and, with relationships, in other registries)."""

STAMPED = Table(
    f"{TABLE_PREFIX}stamped",
    Model.metadata,
    Column("sid", Integer, primary_key=True),
    Column("name", String, nullable=False),
    Column("created_at", DateTime, nullable=False, server_default=func.now()),
    Column("updated_at", DateTime, nullable=False, server_default=func.now(), onupdate=func.now()),
)
"""A row whose timestamps the database writes: server default and on-update value."""

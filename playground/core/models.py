"""The mapped classes the experiments commit.

Every table carries the ``playground_`` prefix, so the lab can live in a database that
holds other tables and never touch them.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

TABLE_PREFIX = "playground_"


class Model(DeclarativeBase):
    """Declarative base whose metadata holds only the playground's own tables."""


class User(Model):
    """A user, mapped as in the article: an integer primary key and a name."""

    __tablename__ = f"{TABLE_PREFIX}users"

    uid: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]

    def __repr__(self) -> str:
        # Read from __dict__ so that repr() never triggers a lazy load.
        uid = self.__dict__.get("uid", "<expired>")
        name = self.__dict__.get("name", "<expired>")
        return f"User(uid={uid!r}, name={name!r})"

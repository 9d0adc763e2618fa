"""The mapped classes the experiments commit.

Every table carries the ``playground_`` prefix, so the lab can live in a database that
holds other tables and never touch them. Some scenarios need the same tables mapped
with another setting (``lazy="raise"``, ``eager_defaults=True``); those mappings live in
registries of their own over the very same ``Table`` objects, so what runs is exactly
the configuration the exported script shows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, func
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

TABLE_PREFIX = "playground_"


def _peek(obj: object, *keys: str) -> str:
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
        return _peek(self, "uid", "name")


class Post(Model):
    """A post of a user; its relationships are mapped in the registries below."""

    __tablename__ = f"{TABLE_PREFIX}posts"

    pid: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    user_id: Mapped[int] = mapped_column(ForeignKey(User.uid))

    def __repr__(self) -> str:
        return _peek(self, "pid", "title")


class Stamped(Model):
    """A row whose timestamps the database writes: server default and on-update value."""

    __tablename__ = f"{TABLE_PREFIX}stamped"

    sid: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    def __repr__(self) -> str:
        return _peek(self, "sid", "name", "created_at", "updated_at")


class PostsModel(AsyncAttrs, DeclarativeBase):
    """A second registry: users with their posts, lazy-loaded as by default."""


class UserWithPosts(PostsModel):
    __table__ = User.__table__

    posts: Mapped[list[PostOfUser]] = relationship(back_populates="user")

    def __repr__(self) -> str:
        return _peek(self, "uid", "name")


class PostOfUser(PostsModel):
    __table__ = Post.__table__

    user: Mapped[UserWithPosts] = relationship(back_populates="posts")

    def __repr__(self) -> str:
        return _peek(self, "pid", "title")


class RaiseModel(AsyncAttrs, DeclarativeBase):
    """A third registry: users and posts again, with ``posts`` as ``lazy="raise"``.

    Its relationships are view-only (the lab writes posts through ``UserWithPosts``),
    which keeps SQLAlchemy from warning that two mappings write the same foreign key.
    """


class RaisingUser(RaiseModel):
    __table__ = User.__table__

    posts: Mapped[list[RaisingPost]] = relationship(
        back_populates="user", lazy="raise", viewonly=True
    )

    def __repr__(self) -> str:
        return _peek(self, "uid", "name")


class RaisingPost(RaiseModel):
    __table__ = Post.__table__

    user: Mapped[RaisingUser] = relationship(back_populates="posts", viewonly=True)


class EagerModel(DeclarativeBase):
    """A fourth registry: the stamped table with ``eager_defaults=True``."""


class EagerStamped(EagerModel):
    __table__ = Stamped.__table__
    __mapper_args__ = {"eager_defaults": True}

    def __repr__(self) -> str:
        return _peek(self, "sid", "name", "created_at", "updated_at")

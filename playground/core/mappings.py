"""The mappings only some scenarios use, loaded with the first of them.

``Post`` and ``Stamped`` map the tables of :mod:`.models` in the same registry as
``User``; the other registries map the very same ``Table`` objects with another setting
(relationships, ``lazy="raise"``, ``eager_defaults=True``), so what runs is exactly the
configuration the exported script shows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, relationship

from .models import POSTS, STAMPED, Model, User, peek


class Post(Model):
    """A post of a user; its relationships are mapped in the registries below."""

    __table__ = POSTS

    pid: Mapped[int]
    title: Mapped[str]
    user_id: Mapped[int]

    def __repr__(self) -> str:
        return peek(self, "pid", "title")


class Stamped(Model):
    """A row whose timestamps the database writes: server default and on-update value."""

    __table__ = STAMPED

    sid: Mapped[int]
    name: Mapped[str]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    def __repr__(self) -> str:
        return peek(self, "sid", "name", "created_at", "updated_at")


class PostsModel(AsyncAttrs, DeclarativeBase):
    """A second registry: users with their posts, lazy-loaded as by default."""


class UserWithPosts(PostsModel):
    __table__ = User.__table__

    posts: Mapped[list[PostOfUser]] = relationship(back_populates="user")

    def __repr__(self) -> str:
        return peek(self, "uid", "name")


class PostOfUser(PostsModel):
    __table__ = Post.__table__

    user: Mapped[UserWithPosts] = relationship(back_populates="posts")

    def __repr__(self) -> str:
        return peek(self, "pid", "title")


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
        return peek(self, "uid", "name")


class RaisingPost(RaiseModel):
    __table__ = Post.__table__

    user: Mapped[RaisingUser] = relationship(back_populates="posts", viewonly=True)


class EagerModel(DeclarativeBase):
    """A fourth registry: the stamped table with ``eager_defaults=True``."""


class EagerStamped(EagerModel):
    __table__ = Stamped.__table__
    __mapper_args__ = {"eager_defaults": True}

    def __repr__(self) -> str:
        return peek(self, "sid", "name", "created_at", "updated_at")

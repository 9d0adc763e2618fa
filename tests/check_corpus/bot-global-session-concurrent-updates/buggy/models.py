"""Karma counters and banned users of the karma bot."""

from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Karma(Base):
    __tablename__ = "karma"

    user_id: Mapped[int] = mapped_column(primary_key=True)
    points: Mapped[int] = mapped_column(default=0)


class Ban(Base):
    __tablename__ = "bans"

    user_id: Mapped[int] = mapped_column(primary_key=True)

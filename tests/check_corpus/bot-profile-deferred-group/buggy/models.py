"""Members whose long profile fields load only on request, as one deferred group."""

from sqlalchemy import String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(String(40), unique=True)
    bio: Mapped[str] = mapped_column(Text, default="", deferred=True, deferred_group="profile")
    website: Mapped[str] = mapped_column(
        String(200), default="", deferred=True, deferred_group="profile"
    )

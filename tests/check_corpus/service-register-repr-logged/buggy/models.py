"""Users, with a repr for logs and the debugger."""

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(120), unique=True)
    plan: Mapped[str] = mapped_column(String(20), default="free")

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, email={self.email!r}, plan={self.plan!r})"

"""Orders placed through the bot."""

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int]
    item: Mapped[str] = mapped_column(String(80))
    quantity: Mapped[int] = mapped_column(default=1)

"""Support tickets and their comments."""

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="open")
    comments: Mapped[list["Comment"]] = relationship(back_populates="ticket")

    def __repr__(self) -> str:
        return f"<Ticket #{self.id} {self.status} {self.title!r} comments={len(self.comments)}>"


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    body: Mapped[str] = mapped_column(Text)
    ticket: Mapped[Ticket] = relationship(back_populates="comments")

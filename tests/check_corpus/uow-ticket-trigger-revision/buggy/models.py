"""Tickets whose revision a database trigger bumps on every update."""

from sqlalchemy import DDL, FetchedValue, String, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="open")
    revision: Mapped[int] = mapped_column(server_default="1", server_onupdate=FetchedValue())


event.listen(
    Ticket.__table__,
    "after_create",
    DDL(
        "CREATE TRIGGER tickets_revision AFTER UPDATE OF title, status ON tickets "
        "BEGIN UPDATE tickets SET revision = old.revision + 1 WHERE id = new.id; END"
    ),
)

"""Close a ticket through the unit of work and report its new revision."""

import asyncio
from dataclasses import dataclass

from models import Base, Ticket
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from uow import UnitOfWork


@dataclass
class TicketView:
    id: int
    status: str
    revision: int


async def close_ticket(uow: UnitOfWork, ticket_id: int) -> TicketView:
    async with uow:
        ticket = await uow.tickets.get(ticket_id)
        ticket.status = "closed"
        await uow.commit()
        await uow.session.refresh(ticket, ["revision"])
        return TicketView(id=ticket.id, status=ticket.status, revision=ticket.revision)


async def main() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with UnitOfWork(sessions) as uow:
        uow.tickets.add(Ticket(title="printer on fire"))
        await uow.commit()
    print(await close_ticket(UnitOfWork(sessions), 1))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

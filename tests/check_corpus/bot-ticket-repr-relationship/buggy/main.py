"""A helpdesk bot: `/ticket N` answers with the ticket's title and status."""

import asyncio
import logging
from dataclasses import dataclass

from models import Base, Comment, Ticket
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger("helpdesk")


@dataclass
class Update:
    chat_id: int
    text: str


async def on_ticket(update: Update, session: AsyncSession) -> str:
    ticket_id = int(update.text.split()[1])
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        return f"No ticket #{ticket_id}."
    log.info("chat %s looks at %r", update.chat_id, ticket)
    return f"#{ticket.id} [{ticket.status}] {ticket.title}"


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine)
    async with sessions() as session:
        session.add(Ticket(title="VPN drops", comments=[Comment(body="since Monday")]))
        await session.commit()
    async with sessions() as session:
        print(await on_ticket(Update(chat_id=7, text="/ticket 1"), session))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

"""A unit of work: one session, its repositories, commit or roll back as a whole."""

from types import TracebackType

from models import Ticket
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class TicketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, ticket_id: int) -> Ticket:
        ticket = await self.session.get(Ticket, ticket_id)
        if ticket is None:
            raise LookupError(ticket_id)
        return ticket

    def add(self, ticket: Ticket) -> None:
        self.session.add(ticket)


class UnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def __aenter__(self) -> "UnitOfWork":
        self.session = self.sessions()
        self.tickets = TicketRepository(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            await self.session.rollback()
        await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()

"""A repository that opens a short session per call."""

from models import Account
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class AccountRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def by_email(self, email: str) -> Account | None:
        async with self.sessions() as session:
            return await session.scalar(select(Account).where(Account.email == email))

    async def add(self, account: Account) -> None:
        async with self.sessions() as session:
            session.add(account)
            await session.commit()

"""A registration service that logs every new user."""

import asyncio
import logging

from models import Base, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger("accounts")


class RegistrationService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def register(self, email: str) -> int:
        async with self.sessions() as session:
            user = User(email=email.lower())
            session.add(user)
            await session.flush()
            user_id = user.id
            await session.commit()
            log.info("registered %r", user)
            return user_id


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    service = RegistrationService(async_sessionmaker(engine))
    print("new user", await service.register("Ada@Example.com"))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

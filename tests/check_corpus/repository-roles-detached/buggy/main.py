"""An authorization check built on the account repository."""

import asyncio

from models import Account, Base, Role
from repo import AccountRepository
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine


async def can_publish(repo: AccountRepository, email: str) -> bool:
    account = await repo.by_email(email)
    if account is None:
        return False
    return any(role.name in {"editor", "admin"} for role in account.roles)


async def main() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    repo = AccountRepository(async_sessionmaker(engine))
    await repo.add(Account(email="ada@example.com", roles=[Role(name="editor")]))
    print("ada may publish:", await can_publish(repo, "ada@example.com"))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

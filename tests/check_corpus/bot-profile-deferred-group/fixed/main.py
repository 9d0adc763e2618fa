"""A community bot: `/whois HANDLE` answers with the member's bio and website."""

import asyncio

from models import Base, Member
from queries import member_by_handle, with_profile
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine


async def whois(session: AsyncSession, text: str) -> str:
    handle = text.removeprefix("/whois").strip().lstrip("@")
    member = await session.scalar(with_profile(member_by_handle(handle)))
    if member is None:
        return f"Nobody called @{handle} here."
    return f"@{member.handle}: {member.bio or 'no bio'} ({member.website or 'no website'})"


async def main() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine)
    async with sessions() as session:
        session.add(Member(handle="ada", bio="counts things", website="https://example.com"))
        await session.commit()
    async with sessions() as session:
        print(await whois(session, "/whois @ada"))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

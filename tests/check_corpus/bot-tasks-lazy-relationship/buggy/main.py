"""The to-do bot: `/tasks` answers with the member's open tasks."""

import asyncio

from bot import Dispatcher, Message
from models import Base, Member, Task
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

dp = Dispatcher()


@dp.command("tasks")
async def list_tasks(message: Message, session: AsyncSession) -> str:
    member = await session.scalar(select(Member).where(Member.chat_id == message.chat_id))
    if member is None:
        return "Say /start first."
    open_tasks = [task.title for task in member.tasks if not task.done]
    return f"{member.name}, you have {len(open_tasks)} open: " + "; ".join(open_tasks)


async def main() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine)
    async with sessions() as session:
        member = Member(chat_id=42, name="Ada")
        member.tasks = [Task(title="write notes"), Task(title="buy milk", done=True)]
        session.add(member)
        await session.commit()

    async with sessions() as session:
        print(await dp.feed(Message(chat_id=42, text="/tasks"), session))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

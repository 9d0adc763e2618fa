"""Command handlers of the group bot."""

from models import Chat
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class ChatHandlers:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def rename(self, chat_id: int, args: list[str]) -> str:
        title = " ".join(args).strip()
        if not title:
            return "Usage: /rename NEW TITLE"
        async with self.sessions() as session:
            chat = await session.get(Chat, chat_id)
            if chat is None:
                return "Unknown chat."
            chat.title = title
            await session.commit()
            await session.refresh(chat, ["updated_at"])
            return f"Renamed to {chat.title!r} at {chat.updated_at:%H:%M:%S}."

"""A tiny command dispatcher in the style of chat-bot frameworks."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass
class Message:
    chat_id: int
    text: str


Handler = Callable[[Message, AsyncSession], Awaitable[str]]


class Dispatcher:
    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}

    def command(self, name: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.handlers[name] = handler
            return handler

        return register

    async def feed(self, message: Message, session: AsyncSession) -> str:
        name = message.text.split()[0].lstrip("/")
        return await self.handlers[name](message, session)

"""Data access for users, one repository per session."""

from models import User
from sqlalchemy.ext.asyncio import AsyncSession


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, name: str) -> User:
        user = User(name=name)
        self.session.add(user)
        await self.session.flush()
        return user

    async def rename(self, user_id: int, name: str) -> User:
        user = await self.session.get(User, user_id)
        if user is None:
            raise LookupError(f"no user {user_id}")
        user.name = name
        await self.session.commit()
        return user

"""The current-user dependency: look the bearer token up in its own short session."""

from typing import Annotated

from db import SessionLocal
from fastapi import Header, HTTPException
from models import User
from sqlalchemy import select


async def current_user(authorization: Annotated[str, Header()]) -> User:
    token = authorization.removeprefix("Bearer ")
    async with SessionLocal() as session:
        user = await session.scalar(select(User).where(User.token == token))
    if user is None:
        raise HTTPException(status_code=401)
    return user

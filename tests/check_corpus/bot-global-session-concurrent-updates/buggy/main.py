"""A karma bot that handles the updates of one poll concurrently, like bot frameworks do."""

import asyncio
import logging
import sys
from dataclasses import dataclass

import db
from models import Ban, Base, Karma
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger("karma-bot")
SORRY = "Something went wrong, try again."


@dataclass
class Update:
    from_user: int
    text: str


async def on_plus(update: Update, session: AsyncSession) -> str:
    target = int(update.text.split()[1])
    karma = await session.get(Karma, target)
    if karma is None:
        return f"user {target} has no karma yet"
    karma.points += 1
    await session.commit()
    return f"user {target} now has {karma.points} karma"


async def poll_once(updates: list[Update]) -> list[str]:
    async with db.Session() as session:
        banned = set(await session.scalars(select(Ban.user_id)))
        allowed = [update for update in updates if update.from_user not in banned]
        results = await asyncio.gather(
            *(on_plus(update, session) for update in allowed), return_exceptions=True
        )
    replies = []
    for update, result in zip(allowed, results, strict=True):
        if isinstance(result, BaseException):
            log.error("update from %s failed", update.from_user, exc_info=result)
            replies.append(SORRY)
        else:
            replies.append(result)
    return replies


async def main() -> int:
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with db.Session() as seed:
        seed.add_all([Karma(user_id=user_id, points=5) for user_id in (10, 11, 12)])
        seed.add(Ban(user_id=4))
        await seed.commit()
    updates = [Update(1, "/plus 10"), Update(2, "/plus 11"), Update(3, "/plus 12")]
    replies = await poll_once([*updates, Update(4, "/plus 10")])
    print("\n".join(replies))
    await db.engine.dispose()
    return 1 if SORRY in replies else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

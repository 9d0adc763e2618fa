"""A note repository; the caller shows when a note was last edited."""

import asyncio

from db import Session, engine
from models import Base, Note
from sqlalchemy.ext.asyncio import AsyncSession


class NoteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, title: str, body: str = "") -> Note:
        note = Note(title=title, body=body)
        self.session.add(note)
        await self.session.commit()
        return note

    async def edit(self, note_id: int, body: str) -> Note:
        note = await self.session.get(Note, note_id)
        if note is None:
            raise LookupError(note_id)
        note.body = body
        await self.session.commit()
        return note


async def main() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with Session() as session:
        notes = NoteRepository(session)
        note = await notes.create("groceries", "milk")
        print(f"note {note.id} created at {note.created_at:%Y-%m-%d}")
        note = await notes.edit(note.id, "milk, bread")
        print(f"note {note.id} edited at {note.updated_at:%H:%M}: {note.body}")
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

"""A project service that hands out pydantic views of its projects."""

import asyncio

from models import Base, Member, Project
from schemas import ProjectOut
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session


class ProjectService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, name: str, logins: list[str]) -> int:
        project = Project(name=name, members=[Member(login=login) for login in logins])
        self.session.add(project)
        await self.session.flush()
        return project.id

    async def view(self, project_id: int) -> ProjectOut:
        project = await self.session.get(Project, project_id)
        if project is None:
            raise LookupError(project_id)

        def to_view(_sync_session: Session) -> ProjectOut:
            return ProjectOut.model_validate(project)

        return await self.session.run_sync(to_view)


async def main() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine)
    async with sessions() as session:
        project_id = await ProjectService(session).create("lab", ["ada", "grace"])
        await session.commit()
    async with sessions() as session:
        view = await ProjectService(session).view(project_id)
        print(view.model_dump_json())
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

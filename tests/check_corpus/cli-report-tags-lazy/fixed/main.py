"""`blog-report`: list the latest posts with their tags."""

import argparse
import asyncio
import sys

from sqlalchemy import Column, ForeignKey, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, selectinload


class Base(DeclarativeBase):
    pass


post_tags = Table(
    "post_tags",
    Base.metadata,
    Column("post_id", ForeignKey("posts.id"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id"), primary_key=True),
)


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)


class Post(Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    tags: Mapped[list[Tag]] = relationship(secondary=post_tags)


async def report(session: AsyncSession, limit: int) -> None:
    posts = await session.scalars(
        select(Post).options(selectinload(Post.tags)).order_by(Post.id.desc()).limit(limit)
    )
    for post in posts:
        tags = ", ".join(sorted(tag.name for tag in post.tags)) or "-"
        print(f"{post.title} [{tags}]")


async def run(limit: int) -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine)
    async with sessions() as session:
        python, sql = Tag(name="python"), Tag(name="sql")
        session.add_all(
            [Post(title="Async ORM", tags=[python, sql]), Post(title="Indexes", tags=[sql])]
        )
        await session.commit()
    async with sessions() as session:
        await report(session, limit)
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="blog-report")
    parser.add_argument("--limit", type=int, default=10)
    args = parser.parse_args(sys.argv[1:])
    asyncio.run(run(args.limit))


if __name__ == "__main__":
    main()

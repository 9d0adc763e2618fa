"""Benchmark: ``playground check`` over a generated project of 50,000 lines.

Usage: python bench/check.py [--lines N] [--budget SECONDS]
Writes a synthetic project into a temporary folder (models, a session factory, pydantic
schemas, FastAPI routes, repositories, workers, CLIs, from varied templates, some with
bugs and some without), checks it as ``playground check`` does (discovery, reading,
parsing, both passes, the text report) three times and prints the times. Exits with
status 1 when the best of the three is over the budget (5 s): the best run is the one
least disturbed by other work on the machine; its processor time is printed beside it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playground.core.codesigns import check_paths  # noqa: E402
from playground.core.codesigns.output import render_text  # noqa: E402

DB = """\
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

engine = create_async_engine("postgresql+asyncpg://app@localhost/app", pool_size=5)
Session = async_sessionmaker(engine, expire_on_commit={expire})


async def get_session():
    async with Session() as session:
        yield session
"""

MODELS = """\
from datetime import datetime

from sqlalchemy import ForeignKey, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column, relationship


class Base{n}(DeclarativeBase):
    pass


class Author{n}(Base{n}):
    __tablename__ = "authors_{n}"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    bio: Mapped[str] = mapped_column(deferred=True)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    books: Mapped[list["Book{n}"]] = relationship(back_populates="author")

    def __repr__(self) -> str:
        return f"<Author{n} {{self.id}} {{self.name}}>"


class Book{n}(Base{n}):
    __tablename__ = "books_{n}"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors_{n}.id"))
    author: Mapped[Author{n}] = relationship(back_populates="books", lazy="selectin")
"""

SCHEMAS = """\
from pydantic import BaseModel, ConfigDict


class BookOut{n}(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str


class AuthorOut{n}(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    books: list[BookOut{n}] = []
"""

SERVICE = """\
import asyncio
import logging

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload, undefer

from .db import Session, get_session
from .models_{n} import Author{n}, Book{n}
from .schemas_{n} import AuthorOut{n}

log = logging.getLogger(__name__)
router = APIRouter()


def authors_with_books_{n}():
    return select(Author{n}).options(selectinload(Author{n}.books))


class AuthorRepository{n}:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, author_id: int) -> Author{n} | None:
        return await self.session.scalar(
            authors_with_books_{n}().where(Author{n}.id == author_id)
        )

    async def rename(self, author_id: int, name: str) -> Author{n}:
        author = await self.session.get(Author{n}, author_id)
        if author is None:
            raise LookupError(author_id)
        author.name = name
        await self.session.commit()
        await self.session.refresh(author)
        return author


@router.get("/authors/{{author_id}}", response_model=AuthorOut{n})
async def read_author_{n}(author_id: int, session: AsyncSession = Depends(get_session)):
    author = await AuthorRepository{n}(session).get(author_id)
    if author is None:
        raise HTTPException(status_code=404)
    return author


@router.post("/authors")
async def create_author_{n}(name: str, session: AsyncSession = Depends(get_session)) -> dict:
    author = Author{n}(name=name)
    session.add(author)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise HTTPException(status_code=409, detail=name)
    return {{"id": author.id, "name": author.name}}


# One deliberate bug per service module: books is read but only bio was loaded eagerly.
async def titles_{n}(session: AsyncSession, author_id: int) -> list[str]:
    result = await session.execute(
        select(Author{n}).where(Author{n}.id == author_id).options(undefer(Author{n}.bio))
    )
    author = result.scalar_one()
    log.info("author %s has a bio of %d characters", author, len(author.bio))
    return [book.title for book in author.books]


async def nightly_{n}() -> int:
    renamed = 0
    async with Session() as session:
        rows = await session.scalars(select(Book{n}).where(Book{n}.title.like("draft%")))
        for book in rows.all():
            book.title = book.title.removeprefix("draft ")
            renamed += 1
            if renamed % 100 == 0:
                await session.commit()
        await session.commit()
    return renamed


async def report_{n}(ids: list[int]) -> list[int]:
    async def one(author_id: int) -> int:
        async with Session() as session:
            author = await session.get(Author{n}, author_id)
            return 0 if author is None else len(author.name)

    return list(await asyncio.gather(*(one(i) for i in ids)))


def summarize_{n}(values: list[int]) -> dict[str, float]:
    total = 0
    for value in values:
        if value < 0:
            continue
        total += value
    mean = total / len(values) if values else 0.0
    spread = max(values) - min(values) if values else 0
    return {{"total": total, "mean": mean, "spread": spread}}
"""

TEMPLATES = (("models", MODELS), ("schemas", SCHEMAS), ("service", SERVICE))


def generate(folder: Path, lines: int) -> int:
    """Write the project; return how many lines it has."""
    package = folder / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "db.py").write_text(DB.format(expire="False"))
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "bench"\ndependencies = ["sqlalchemy[asyncio]>=2"]\n'
    )
    written = 0
    n = 0
    while written < lines:
        for stem, template in TEMPLATES:
            text = template.format(n=n)
            (package / f"{stem}_{n}.py").write_text(text)
            written += text.count("\n")
        n += 1
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--budget", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        lines = generate(folder, args.lines)
        times: list[tuple[float, float]] = []
        findings = 0
        files = 0
        for _ in range(3):
            start, cpu = time.perf_counter(), time.process_time()
            report = check_paths([folder / "app"])
            render_text(report)
            times.append((time.perf_counter() - start, time.process_time() - cpu))
            findings, files = len(report.signs), report.files
    best, best_cpu = min(times)
    slowest = max(wall for wall, _ in times)
    print(
        f"playground check: {lines:,} lines in {files} files: best {best:.2f} s "
        f"({best_cpu:.2f} s of processor time, {lines / best:,.0f} lines/s), slowest "
        f"{slowest:.2f} s of 3 runs; {findings} findings; budget {args.budget:.1f} s"
    )
    if best > args.budget:
        print(f"over budget: {best:.2f} s > {args.budget:.1f} s")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

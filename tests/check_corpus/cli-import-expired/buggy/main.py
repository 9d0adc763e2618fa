"""A catalog CLI: `import SKU...` adds products and lists what it imported."""

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(20), unique=True)
    price_cents: Mapped[int] = mapped_column(default=0)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="catalog")
    commands = parser.add_subparsers(dest="command", required=True)
    importer = commands.add_parser("import", help="add products by SKU")
    importer.add_argument("skus", nargs="+")
    importer.add_argument("--price", type=int, default=100)
    return parser.parse_args(argv)


async def import_products(session: AsyncSession, skus: list[str], price: int) -> None:
    products = [Product(sku=sku, price_cents=price) for sku in skus]
    session.add_all(products)
    await session.commit()
    print("imported:", ", ".join(product.sku for product in products))


async def run(args: argparse.Namespace, database: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{database}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine)
    try:
        async with sessions() as session:
            await import_products(session, args.skus, args.price)
    finally:
        await engine.dispose()


def main() -> None:
    args = parse_args(sys.argv[1:] or ["import", "A-100", "B-200", "C-300"])
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args, Path(tmp) / "catalog.db"))


if __name__ == "__main__":
    main()

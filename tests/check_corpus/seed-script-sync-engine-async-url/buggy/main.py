"""Seed the database, then list the products with the app's async engine."""

import asyncio

from models import Product
from seed import seed
from settings import DATABASE_URL
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine


async def list_products() -> None:
    engine = create_async_engine(DATABASE_URL)
    async with AsyncSession(engine) as session:
        for product in await session.scalars(select(Product).order_by(Product.name)):
            print(f"{product.name}: {product.price_cents / 100:.2f}")
    await engine.dispose()


if __name__ == "__main__":
    seed()
    asyncio.run(list_products())

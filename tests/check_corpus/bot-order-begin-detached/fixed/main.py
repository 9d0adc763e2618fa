"""The shop bot: `/order ITEM [N]` places an order and answers with its number."""

import asyncio
from dataclasses import dataclass

from db import Session, engine
from models import Base, Order


@dataclass
class Update:
    chat_id: int
    text: str


async def on_order(update: Update) -> str:
    _, item, *rest = update.text.split()
    quantity = int(rest[0]) if rest else 1
    async with Session.begin() as session:
        order = Order(chat_id=update.chat_id, item=item, quantity=quantity)
        session.add(order)
    return f"Order #{order.id}: {order.quantity} x {order.item}. Thank you!"


async def main() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    print(await on_order(Update(chat_id=7, text="/order pizza 2")))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

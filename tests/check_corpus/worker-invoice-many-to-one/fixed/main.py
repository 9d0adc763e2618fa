"""A mail worker: tasks take invoice ids off a queue and send each to its customer."""

import asyncio

from sqlalchemy import ForeignKey, String
from sqlalchemy.ext.asyncio import AsyncAttrs, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(AsyncAttrs, DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(120))


class Invoice(Base):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    customer: Mapped[Customer] = relationship()


outbox: list[tuple[str, str]] = []


async def send_mail(to: str, subject: str) -> None:
    await asyncio.sleep(0)
    outbox.append((to, subject))


async def mail_worker(
    queue: asyncio.Queue[int | None], sessions: async_sessionmaker[AsyncSession]
) -> None:
    while (invoice_id := await queue.get()) is not None:
        async with sessions() as session:
            invoice = await session.get(Invoice, invoice_id)
            if invoice is not None:
                customer = await invoice.awaitable_attrs.customer
                await send_mail(customer.email, f"Invoice {invoice.number}")


async def main() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as session:
        ada = Customer(email="ada@example.com")
        session.add_all([Invoice(number=f"2024-{n}", customer=ada) for n in (1, 2, 3)])
        await session.commit()

    queue: asyncio.Queue[int | None] = asyncio.Queue()
    workers = [asyncio.create_task(mail_worker(queue, sessions)) for _ in range(2)]
    for invoice_id in (1, 2, 3):
        queue.put_nowait(invoice_id)
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    print(f"sent {len(outbox)} invoices")
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

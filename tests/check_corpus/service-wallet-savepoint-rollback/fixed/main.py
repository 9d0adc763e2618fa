"""A wallet service that charges a list of amounts, each in its own savepoint."""

import asyncio

from sqlalchemy import CheckConstraint, String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Wallet(Base):
    __tablename__ = "wallets"
    __table_args__ = (CheckConstraint("balance >= 0", name="no_negative_balance"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(80))
    balance: Mapped[int]


class WalletService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def charge_each(self, wallet_id: int, amounts: list[int]) -> list[str]:
        wallet = await self.session.get(Wallet, wallet_id)
        if wallet is None:
            raise LookupError(wallet_id)
        receipts = []
        for amount in amounts:
            try:
                async with self.session.begin_nested():
                    wallet.balance -= amount
                    await self.session.flush()
            except IntegrityError:
                await self.session.refresh(wallet, ["balance"])
                receipts.append(f"declined {amount}, balance stays {wallet.balance}")
            else:
                receipts.append(f"charged {amount}")
        await self.session.commit()
        return receipts


async def main() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as session:
        session.add(Wallet(owner="ada", balance=100))
        await session.commit()
    async with sessions() as session:
        for receipt in await WalletService(session).charge_each(1, [30, 90, 50]):
            print(receipt)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

"""A bank CLI: `transfer SOURCE TARGET AMOUNT`; the database refuses an overdraft."""

import argparse
import asyncio
import sys

from sqlalchemy import CheckConstraint, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("balance >= 0", name="no_overdraft"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(80), unique=True)
    balance: Mapped[int]


async def transfer(session: AsyncSession, source: str, target: str, amount: int) -> None:
    accounts = {
        account.owner: account
        for account in await session.scalars(
            select(Account).where(Account.owner.in_([source, target]))
        )
    }
    debit, credit = accounts[source], accounts[target]
    debit.balance -= amount
    credit.balance += amount
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        await session.refresh(debit)
        print(f"refused: {debit.owner} has only {debit.balance}")
        return
    print(f"moved {amount} from {source} to {target}")


async def run(args: argparse.Namespace) -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine)
    async with sessions() as session:
        session.add_all([Account(owner="ada", balance=50), Account(owner="bob", balance=10)])
        await session.commit()
    try:
        async with sessions() as session:
            await transfer(session, args.source, args.target, args.amount)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="bank")
    commands = parser.add_subparsers(dest="command", required=True)
    move = commands.add_parser("transfer")
    move.add_argument("source")
    move.add_argument("target")
    move.add_argument("amount", type=int)
    args = parser.parse_args(sys.argv[1:] or ["transfer", "ada", "bob", "80"])
    asyncio.run(run(args))


if __name__ == "__main__":
    main()

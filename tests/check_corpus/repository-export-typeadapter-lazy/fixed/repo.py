"""Order queries."""

from models import Order
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def _with_customer(statement: Select[tuple[Order]]) -> Select[tuple[Order]]:
        return statement.options(joinedload(Order.customer))

    async def largest(self, limit: int) -> list[Order]:
        statement = select(Order).order_by(Order.cents.desc()).limit(limit)
        return list(await self.session.scalars(self._with_customer(statement)))

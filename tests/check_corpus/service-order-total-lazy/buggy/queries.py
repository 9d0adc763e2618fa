"""Statements the services share."""

from models import Order
from sqlalchemy import Select, select


def order_by_id(order_id: int) -> Select[tuple[Order]]:
    return select(Order).where(Order.id == order_id)

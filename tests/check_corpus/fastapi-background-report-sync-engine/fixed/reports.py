"""The report job, run on the app's async engine."""

from db import Session
from models import Report, Sale
from sqlalchemy import func, select


async def build_report(region: str) -> None:
    async with Session() as session:
        total = await session.scalar(select(func.sum(Sale.cents)).where(Sale.region == region))
        session.add(Report(region=region, total_cents=total or 0))
        await session.commit()

"""The report job, written as a plain function the way a batch script would be."""

from db import DATABASE_URL
from models import Report, Sale
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session


def build_report(region: str) -> None:
    engine = create_engine(DATABASE_URL)
    with Session(engine) as session:
        total = session.scalar(select(func.sum(Sale.cents)).where(Sale.region == region))
        session.add(Report(region=region, total_cents=total or 0))
        session.commit()
    engine.dispose()

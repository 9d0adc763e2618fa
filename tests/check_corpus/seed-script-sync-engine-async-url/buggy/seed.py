"""A synchronous seed script: create the schema and the demo products."""

from models import Base, Product
from settings import DATABASE_URL
from sqlalchemy import create_engine
from sqlalchemy.orm import Session


def seed() -> None:
    engine = create_engine(DATABASE_URL)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(
            [Product(name="tea", price_cents=350), Product(name="mug", price_cents=900)]
        )
        session.commit()
    engine.dispose()

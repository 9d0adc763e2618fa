"""Documents, mapped in the classic style with the content deferred."""

from sqlalchemy import Column, Integer, String, Text
from sqlalchemy.orm import declarative_base, deferred

Base = declarative_base()


class Document(Base):
    __tablename__ = "documents"

    id = Column(Integer, primary_key=True)
    name = Column(String(120), nullable=False)
    content = deferred(Column(Text, nullable=False))
    words = Column(Integer)

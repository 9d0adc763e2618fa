"""Jobs and their attempts, mapped as dataclasses."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedAsDataclass, mapped_column, relationship


class Base(MappedAsDataclass, DeclarativeBase):
    pass


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[list["Attempt"]] = relationship(
        default_factory=list, back_populates="job", repr=False
    )


class Attempt(Base):
    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), init=False)
    outcome: Mapped[str] = mapped_column(String(20))
    job: Mapped[Job | None] = relationship(default=None, back_populates="attempts")

"""Statements the handlers share."""

from models import Member
from sqlalchemy import Select, select
from sqlalchemy.orm import undefer_group


def member_by_handle(handle: str) -> Select[tuple[Member]]:
    return select(Member).where(Member.handle == handle)


def with_profile(statement: Select[tuple[Member]]) -> Select[tuple[Member]]:
    return statement.options(undefer_group("profile"))

"""Messages that carry database results from workers back to the app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from ..core.results import ExperimentResult

if TYPE_CHECKING:
    from ..core.bulk import BulkResult


@dataclass
class ExperimentDone(Message):
    """One experiment finished (either way); its log entry need not wait for the table."""

    result: ExperimentResult


@dataclass
class UsersAdded(Message):
    """Rows new in the users table since it was last read, read after an experiment."""

    rows: list[tuple[int, str]]


@dataclass
class RowsLoaded(Message):
    """The users table as read from the database, to show instead, with the total row count."""

    rows: list[tuple[int, str]]
    total: int
    note: str = ""


@dataclass
class LabProblem(Message):
    """Work on the database failed outside an experiment (e.g. reading the table)."""

    text: str


@dataclass
class BulkProgress(Message):
    """A batch of a bulk add is committed."""

    done: int
    total: int


@dataclass
class BulkDone(Message):
    """A bulk add ended (finished, stopped or failed), with the table as it now is."""

    result: BulkResult
    rows: list[tuple[int, str]]
    total: int | None
    """None when the table could not be read after the bulk add."""

"""Adding many users at once without freezing the loop that runs the UI.

One flush of ten thousand ORM objects keeps the event loop busy for a quarter of a
second. Here the rows go in batches, each in its own transaction: one single-row
INSERT run with executemany over up to 500 parameter sets, with a pause for the loop
between batches. Every batch is either fully in the database or not at all, and a stop
request takes effect at the next boundary.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, insert, select

from .capture import describe_exception
from .lab import Lab, LabClosed
from .models import User
from .results import ExceptionInfo

BATCH_SIZE = 500


@dataclass(frozen=True)
class BulkResult:
    """How a bulk add ended: rows and batches committed, and why it stopped."""

    requested: int
    inserted: int
    batches: int
    cancelled: bool
    duration_ms: float
    error: ExceptionInfo | None = None
    """What stopped it: a failed batch, or failing to read the table afterwards."""
    rows: tuple[tuple[int, str], ...] = ()
    """The newest rows of the users table once it ended."""
    total: int | None = None
    """How many rows the users table holds once it ended; None when it could not be read."""


async def read_table(lab: Lab) -> tuple[list[tuple[int, str]], int | None, ExceptionInfo | None]:
    """The newest rows and the row count, or the reason they could not be read.

    After a failed batch the database may be gone (a server down, a file overwritten,
    a table replaced), so reading it can fail too; the caller still gets an answer.
    """
    try:
        rows, total = await lab.newest_users()
        return rows, total, None
    except LabClosed:
        return [], None, None
    except Exception as exc:
        return [], None, describe_exception(exc)


async def bulk_add(
    lab: Lab,
    count: int,
    *,
    prefix: str = "bulk",
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> BulkResult:
    """Insert ``count`` users named ``f"{prefix} {n}"``, one transaction per batch.

    ``n`` counts on from the highest uid in the table, so a second bulk add does not
    repeat the names of the first (``bulk 1`` twice would look like one user).

    It never raises for a database failure: the result says how many rows are in, why
    it stopped, and what the table holds afterwards, so the screen can always recover.
    """
    t0 = time.perf_counter()
    inserted = batches = 0
    error = None
    start: int | None = None
    while inserted < count and not should_stop():
        size = min(batch_size, count - inserted)
        try:
            async with lab.lock:
                if lab.engine is None:
                    raise LabClosed("the lab is not open")
                async with lab.engine.begin() as conn:
                    if start is None:
                        start = await conn.scalar(select(func.max(User.uid))) or 0
                    first = start + inserted + 1
                    rows = [{"name": f"{prefix} {first + n}"} for n in range(size)]
                    await conn.execute(insert(User), rows)
        except LabClosed:
            break
        except Exception as exc:
            error = describe_exception(exc)
            break
        inserted += size
        batches += 1
        if progress is not None:
            progress(inserted, count)
        await asyncio.sleep(0)
    cancelled = inserted < count and error is None
    table, total, read_error = await read_table(lab)
    return BulkResult(
        requested=count,
        inserted=inserted,
        batches=batches,
        cancelled=cancelled,
        duration_ms=(time.perf_counter() - t0) * 1000,
        error=error or read_error,
        rows=tuple(table),
        total=total,
    )

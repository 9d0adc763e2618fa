"""The lab: one engine, one long-lived AsyncSession, and experiments run one at a time.

All work happens on the caller's asyncio loop. A lock serializes every use of the
session, because an ``AsyncSession`` must never serve two operations at once.
"""

from __future__ import annotations

import asyncio
import re
import time
import traceback
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy
from sqlalchemy import func, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool

from .capture import SqlRecorder, describe_exception
from .database import (
    DatabaseProblem,
    check_sqlite_file,
    describe,
    existing_columns,
    explain_connect_error,
    is_memory,
    is_sqlite,
    parse_url,
    schema_problem,
)
from .models import Model, User
from .results import ExceptionInfo, ExperimentResult, Outcome, SqlStatement
from .scenarios import Run, Scenario

# After a MissingGreenlet, a driver coroutine may be left behind unawaited (aiosqlite's
# Connection.cursor under SQLAlchemy 2.1's adapter); Python would then warn on stderr and
# scribble over a full-screen app. Each run records the warning instead (see below).
UNAWAITED = "coroutine '(Connection.cursor|connect)' was never awaited"
warnings.filterwarnings("ignore", message=UNAWAITED, category=RuntimeWarning)


def release_frames(error: BaseException) -> None:
    """Clear the locals of every finished frame in ``error``'s tracebacks, chain included.

    What they held (a refused coroutine, say) is then freed as soon as nothing else holds
    it. A full collection would do the same, at a cost that grows with the heap.
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        traceback.clear_frames(current.__traceback__)
        pending += [current.__cause__, current.__context__]


@contextmanager
def unawaited_coroutines(into: list[str]) -> Iterator[None]:
    """Record the "coroutine ... was never awaited" warnings raised inside, as Python prints them.

    Whether a run leaves one behind depends on the driver and the version, so the warning
    is recorded per run (the explanation says so only when it fired) instead of guessed.
    The caller releases the error's frames before leaving, so the coroutine is freed inside.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("always", message=UNAWAITED, category=RuntimeWarning)
        yield
    for warning in caught:
        if issubclass(warning.category, RuntimeWarning) and re.match(
            UNAWAITED, str(warning.message)
        ):
            into.append(f"{warning.category.__name__}: {warning.message}\n")
        else:
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno
            )


TRANSACTION_MARKERS = ("BEGIN (implicit)", "COMMIT", "ROLLBACK")


def mark_attempted(
    statements: tuple[SqlStatement, ...],
    failed_step: str,
    candidates: list[tuple[SqlStatement, int]],
) -> tuple[SqlStatement, ...]:
    """Flag the SQL that a failed greenlet bridge never delivered to the database.

    Where the failure struck decides what was recorded: when the await is refused inside
    the driver call, the cursor event has already fired, so the SELECT is in
    ``statements``; when it is refused while the cursor is created, only the
    ``StatementError`` carries it; when it is refused while checking out a connection
    (a pool pre-ping), only the ORM statement noted before execution is left.
    ``candidates`` holds those last two, best first, each with the position in
    ``statements`` where the failure happened; one is put back there (not at the end,
    which a later ROLLBACK may have reached first) when the step shows no statement.
    """

    def tried(s: SqlStatement) -> bool:
        return s.step == failed_step and s.sql not in TRANSACTION_MARKERS

    marked = tuple(
        SqlStatement(s.step, s.sql, s.parameters, attempted=True) if tried(s) else s
        for s in statements
    )
    if any(tried(s) for s in statements):
        return marked
    for candidate, position in candidates:
        if candidate.step == failed_step:
            at = min(position, len(marked))
            lost = SqlStatement(failed_step, candidate.sql, candidate.parameters, True)
            return (*marked[:at], lost, *marked[at:])
    return marked


def refused_by_greenlet(error: ExceptionInfo) -> bool:
    """True when a missing greenlet refused the failed step's IO, chained or only named.

    pydantic's ``ValidationError`` keeps no chain, only the text of what it caught, so
    its message is the one place that says a lazy load was refused.
    """
    return error.involves_missing_greenlet or "MissingGreenlet" in error.outer.message


CONNECT_TIMEOUT = 10


class LabClosed(Exception):
    """The lab was closed (the app is quitting) before this work could start."""


class Lab:
    """Owns the engine and the session; runs scenarios and reads the users table."""

    def __init__(self, url: str) -> None:
        self.url: URL = parse_url(url)
        self.engine: AsyncEngine | None = None
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._session: AsyncSession | None = None
        self._recorder: SqlRecorder | None = None
        self._opening: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise LabClosed("the lab is not open")
        return self._session

    @property
    def recorder(self) -> SqlRecorder:
        assert self._recorder is not None, "Lab.open() first"
        return self._recorder

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    @property
    def where(self) -> str:
        """Where the data lives, in one line with no password: safe to show anywhere."""
        return describe(self.url)

    async def open(self) -> None:
        """Create the engine, make the tables if missing, and start the session.

        The work runs in a task of its own that a cancelled caller does not cancel: a
        connection cancelled half-way through aiosqlite's connect leaves SQLAlchemy a
        close that never finishes, and the event loop then never closes (an app quit in
        its first tenth of a second hung). :meth:`close` waits for it instead.
        """
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._open())
        await asyncio.shield(self._opening)

    async def _open(self) -> None:
        check_sqlite_file(self.url)
        kwargs: dict[str, Any] = {}
        if is_memory(self.url):
            # One connection for the whole app, or each checkout would see an empty database.
            kwargs["poolclass"] = StaticPool
        elif not is_sqlite(self.url):
            # A server restarted under an idle pool is noticed before the next commit, and
            # an unreachable one fails in seconds instead of asyncpg's default minute.
            kwargs["pool_pre_ping"] = True
            if self.url.get_driver_name() == "asyncpg":
                kwargs["connect_args"] = {"timeout": CONNECT_TIMEOUT}
        try:
            engine = create_async_engine(self.url, **kwargs)
        except Exception as exc:  # arguments the dialect refuses, e.g. a password for SQLite
            raise DatabaseProblem(explain_connect_error(self.url, exc)) from exc
        problem = None
        try:
            async with engine.begin() as conn:
                # Someone else's table under the playground's name is left exactly as it is.
                found = await conn.run_sync(existing_columns)
                problem = schema_problem(found, self.where)
                missing = [t for name, t in Model.metadata.tables.items() if name not in found]
                if problem is None and missing:  # checked just above: no need to check again
                    await conn.run_sync(Model.metadata.create_all, tables=missing, checkfirst=False)
        except Exception as exc:
            problem = explain_connect_error(self.url, exc)
        if problem is not None:
            await engine.dispose()
            # Let the driver's worker finish closing before anyone closes the loop.
            await asyncio.sleep(0.05)
            raise DatabaseProblem(problem)
        self.engine = engine
        self._recorder = SqlRecorder(engine.sync_engine)
        self._sessionmaker = async_sessionmaker(engine, expire_on_commit=True)
        self._session = self._sessionmaker()

    async def close(self) -> None:
        """Wait for the running experiment, then close the session and the engine."""
        opening = self._opening
        if opening is not None and not opening.done():
            await asyncio.wait([opening])
        if opening is not None and opening.done() and not opening.cancelled():
            opening.exception()  # its outcome is the opener's to report, not the loop's
        async with self.lock:
            if self._session is not None:
                await self._session.close()
                self._session = None
            if self._recorder is not None:
                self._recorder.close()
                self._recorder = None
            if self.engine is not None:
                await self.engine.dispose()
                self.engine = None

    async def _configure(self, expire_on_commit: bool) -> None:
        """Give the session the asked-for ``expire_on_commit``, as the sessionmaker would."""
        assert self._sessionmaker is not None
        if self._sessionmaker.kw.get("expire_on_commit") == expire_on_commit:
            return
        self._sessionmaker.configure(expire_on_commit=expire_on_commit)
        if self._session is not None:
            await self._session.close()
        self._session = self._sessionmaker()

    async def run(
        self,
        scenario: Scenario,
        user_input: str,
        settings: Mapping[str, bool] | None = None,
        seq: int = 0,
    ) -> ExperimentResult:
        """Run one experiment of ``scenario`` and return everything it did, error or not."""
        chosen = scenario.settings(settings)
        async with self.lock:
            if self._session is None:
                raise LabClosed("the lab is not open")
            if scenario.uses_lab_session:
                await self._configure(chosen.get("expire_on_commit", True))
            run = Run(self, chosen, user_input)
            started_at = datetime.now()
            t0 = time.perf_counter()
            self.recorder.start()
            value: object = None
            error: ExceptionInfo | None = None
            statements: tuple[SqlStatement, ...] = ()
            with unawaited_coroutines(run.stderr):
                try:
                    value = await scenario.run(run)
                except Exception as exc:
                    error = describe_exception(exc)
                    failed_step = run.steps[-1] if run.steps else ""
                    run.failed_step = failed_step
                    run.observe(f"after the error in {failed_step}")
                    if not run.reading:
                        await self._recover(run)
                    statements = self.recorder.stop()
                    if refused_by_greenlet(error):
                        candidates = self._attempt_candidates(error, failed_step)
                        statements = mark_attempted(statements, failed_step, candidates)
                    # A refused coroutine lives in a local of the error's frames, which
                    # the error and its traceback hold in a cycle: cleared here, it is
                    # freed (and warns) at once, not at the next collection.
                    release_frames(exc)
                else:
                    statements = self.recorder.stop()
            return ExperimentResult(
                seq=seq,
                scenario=scenario.name,
                started_at=started_at,
                settings=tuple(chosen.items()),
                user_input=user_input,
                steps=tuple(run.steps),
                outcome=Outcome(
                    expression=scenario.read_expression,
                    value=None if error else repr(value),
                    error=error,
                    printed=None if error else str(value),
                ),
                committed=tuple(run.committed),
                sql=statements,
                states=tuple(run.states),
                duration_ms=(time.perf_counter() - t0) * 1000,
                sqlalchemy_version=sqlalchemy.__version__,
                backend=self.backend,
                notes=tuple(run.notes),
                key_name=scenario.key_name,
                table=scenario.table,
                failed_step=run.failed_step,
                stderr="".join(run.stderr),
            )

    def _attempt_candidates(
        self, error: ExceptionInfo, step: str
    ) -> list[tuple[SqlStatement, int]]:
        """What SQLAlchemy exposes of the statement it could not run, best first, each with
        the position in the SQL list where the attempt failed."""
        recorder = self.recorder
        stated = []
        if error.statement:
            failed = [at for failed_step, at in recorder.failures if failed_step == step]
            noted = [at for s, at in recorder.orm_statements if s.step == step]
            position = (failed or noted or [1 << 30])[-1]
            stated.append((SqlStatement(step, error.statement, error.parameters or ""), position))
        return [*stated, *reversed(recorder.orm_statements)]

    async def _recover(self, run: Run) -> None:
        """Roll back after a failed write so the session is usable for the next commit."""
        run.step("await session.rollback()")
        try:
            await self.session.rollback()
        except Exception:
            # A dead connection can fail the rollback too; a fresh session starts clean.
            await self.session.close()

    async def reset(self) -> None:
        """Drop the playground's own tables (and nothing else), then create them afresh.

        A table of the playground's name with other columns is someone else's: the reset
        refuses with a ``DatabaseProblem`` before dropping anything.
        """
        async with self.lock:
            if self.engine is None or self._session is None:
                raise LabClosed("the lab is not open")
            await self._session.close()
            async with self.engine.begin() as conn:
                problem = schema_problem(await conn.run_sync(existing_columns), self.where)
                if problem is not None:
                    raise DatabaseProblem(problem)
                await conn.run_sync(Model.metadata.drop_all)
                await conn.run_sync(Model.metadata.create_all)

    async def newest_users(self, limit: int = 200) -> tuple[list[tuple[int, str]], int]:
        """The newest ``limit`` rows, oldest first, and how many rows the table holds.

        One statement on one connection: at start-up every trip to the driver waits for
        the screen being drawn, and reading rows and count apart took twice the trips.
        """
        async with self.lock:
            if self.engine is None:
                raise LabClosed("the lab is not open")
            total = select(func.count()).select_from(User).scalar_subquery()
            query = select(User.uid, User.name, total).order_by(User.uid.desc()).limit(limit)
            async with self.engine.connect() as conn:
                rows = (await conn.execute(query)).all()
            return [(uid, name) for uid, name, _ in reversed(rows)], rows[0][2] if rows else 0

    async def fetch_users(self, after_uid: int = 0, limit: int = 200) -> list[tuple[int, str]]:
        """Read the rows after ``after_uid``, oldest first, without touching the session.

        A Core query on its own connection leaves the session's objects (and their
        expired state) exactly as the experiment left them. The newest rows of a table
        come from :meth:`newest_users`.
        """
        async with self.lock:
            if self.engine is None:
                raise LabClosed("the lab is not open")
            query = select(User.uid, User.name).where(User.uid > after_uid)
            async with self.engine.connect() as conn:
                rows = await conn.execute(query.order_by(User.uid).limit(limit))
                return [(r.uid, r.name) for r in rows.all()]

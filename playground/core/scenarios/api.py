"""The small API every scenario file is written against: switches, the run, the base class.

It lives beside the scenarios (not in the lab) so that a scenario imports nothing but
this module, the models and the script helpers; the lab imports the scenarios, never
the other way round.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import event, select
from sqlalchemy.engine import URL, Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from ..capture import instance_state, snapshot
from ..results import ExperimentResult, Explanation, Script, SqlStatement, StateSnapshot
from .script import render_script

if TYPE_CHECKING:
    from ..lab import Lab
    from ..mappings import UserWithPosts

T = TypeVar("T")

Program = tuple[str, Iterable[str]]
"""A script's body (what follows ``DATABASE_URL``) and the imports it needs."""

GROUPS = (
    "After a commit",
    "Loading related data",
    "Serializing and logging",
    "Concurrency",
    "Engine and setup",
)
"""The picker's headings, in the order it shows them; every scenario names one."""


@dataclass(frozen=True, kw_only=True)
class Option:
    """A switch of a scenario: a setting, or a fix the user can turn on and off.

    ``fix`` marks a switch that makes the read work when turned on; the tour asks the
    learner to find one of those, and the diagnosis never turns them on. ``fix_off``
    marks one that makes it work when turned off (``expire_on_commit`` where keeping the
    loaded values is the cure). Every other switch is a variation of the situation.
    """

    key: str
    label: str
    hint: str
    default: bool = False
    short: str = ""
    fix: bool = False
    fix_off: bool = False

    @property
    def fixing_value(self) -> bool | None:
        """The position that fixes the read (True for on, False for off), or None."""
        if self.fix:
            return True
        if self.fix_off:
            return False
        return None

    @property
    def flag(self) -> str:
        """The command-line flag for this switch, e.g. ``--expire-on-commit``."""
        return "--" + self.key.replace("_", "-")


def fix(key: str, label: str, hint: str, short: str, default: bool = False) -> Option:
    """A switch that makes the read work when turned on."""
    return Option(key=key, label=label, hint=hint, short=short, default=default, fix=True)


def variation(key: str, label: str, hint: str, short: str, default: bool = False) -> Option:
    """A switch that changes the situation, neither causing nor curing the failure."""
    return Option(key=key, label=label, hint=hint, short=short, default=default)


def expire_on_commit(default: bool = True, *, fix_off: bool = False) -> Option:
    """The switch most scenarios share: the sessionmaker's ``expire_on_commit``.

    ``fix_off`` where turning it off is a fix of the scenario (the values then survive).
    """
    return Option(
        key="expire_on_commit",
        label="expire_on_commit",
        hint="commit expires loaded values",
        default=default,
        short="expire",
        fix_off=fix_off,
    )


class Scenario(ABC):
    """One experiment the lab can run for real, with the words and script that go with it.

    A scenario is one module in this package defining ``SCENARIO``; the registry names it
    after its file (``after_commit.py`` is ``after-commit``).
    """

    name: str = ""
    title: str
    summary: str
    shows: str = ""
    """One line for the README table: what you see, and what fixes it."""
    group: str = GROUPS[0]
    order: int = 100
    """Position in the picker and the tour (teaching order), lowest first."""
    options: tuple[Option, ...] = ()
    read_expression: str
    key_name = "uid"
    """The primary key of the rows it commits, and their table."""
    table = "playground_users"
    uses_lab_session = True
    """True when it runs on the lab's long-lived session (configured per run)."""

    def settings(self, given: Mapping[str, bool] | None = None) -> dict[str, bool]:
        """The scenario's settings: its defaults, overridden by ``given`` (unknown keys dropped)."""
        chosen = {option.key: option.default for option in self.options}
        for key, value in (given or {}).items():
            if key in chosen:
                chosen[key] = bool(value)
        return chosen

    @abstractmethod
    async def run(self, run: Run) -> object:
        """Perform the experiment in ``run`` and return the value read at the end."""

    @abstractmethod
    def explain(self, result: ExperimentResult) -> Explanation:
        """Say what happened in ``result`` and why, in the project's own words."""

    def script(self, settings: Mapping[str, bool], url: str, name: str = "Foo") -> Script:
        """A standalone program that does what ``run`` does with these settings."""
        chosen = self.settings(settings)
        body, imports = self.program(chosen, name)
        return render_script(f"{self.title}: {self.summary}", chosen, url, imports, body)

    @abstractmethod
    def program(self, chosen: Mapping[str, bool], name: str) -> Program:
        """The script's own part for these settings: its body and its imports.

        ``script`` puts them in the frame every script shares (docstring, URL, entry point).
        """


CONNECT_TIMEOUT = 10
"""Seconds an engine a scenario makes itself waits to connect, so a dead server fails fast."""


def own_async_engine(url: URL, **kwargs: Any) -> AsyncEngine:
    """An engine of the scenario's own on the lab's database, as an application would make."""
    if url.get_driver_name() == "asyncpg":
        kwargs["connect_args"] = {"timeout": CONNECT_TIMEOUT}
    return create_async_engine(url, **kwargs)


def record_sql(engine: Engine, run: Run) -> Callable[[], None]:
    """File the statements of an engine the scenario made under the run's current step.

    The lab listens to its own engine only; a scenario that builds another one (as an
    application would) forwards that engine's SQL here, and calls the result to stop.
    """
    recorder = run.lab.recorder

    def on_execute(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        shown = "" if parameters in (None, (), {}) else repr(parameters)[:200]
        recorder.add(SqlStatement(recorder.step, statement.strip(), shown))

    def marker(text: str) -> Callable[[Any], None]:
        return lambda conn: recorder.add(SqlStatement(recorder.step, text))

    listeners: list[tuple[str, Callable[..., None]]] = [
        ("before_cursor_execute", on_execute),
        ("begin", marker("BEGIN (implicit)")),
        ("commit", marker("COMMIT")),
        ("rollback", marker("ROLLBACK")),
    ]
    for name, listener in listeners:
        event.listen(engine, name, listener)

    def stop() -> None:
        for name, listener in listeners:
            event.remove(engine, name, listener)

    return stop


READ_BACK = "async with Session() as session:  # a new request reads it back"
"""The step that opens the second session of the request-per-session scenarios."""


WITH_POSTS = "user = User(name=..., posts=[Post(...), Post(...)])"
"""The step that makes a user with two posts (``TWO_POSTS`` in the script)."""


class Step:
    """What ``Run.step`` gives back: as a ``with`` block, it observes the state at its end.

    Called as a plain statement it does nothing more than announce the step.
    """

    def __init__(self, run: Run) -> None:
        self.run = run

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.run.observe()


class Run:
    """The live context of one experiment: its session, settings, steps and observations.

    Scenarios announce each line of code with ``step`` before running it, so the SQL
    and object states are filed under the line that caused them.
    """

    def __init__(self, lab: Lab, settings: Mapping[str, bool], user_input: str) -> None:
        self.lab = lab
        self.settings = dict(settings)
        self.user_input = user_input
        self.steps: list[str] = []
        self.states: list[StateSnapshot] = []
        self.committed: list[tuple[int, str]] = []
        self.tracked: object | None = None
        self.reading = False
        """True once the final read started: an error then needs no rollback."""
        self.notes: list[str] = []
        self.failed_step = ""
        """The step that raised, set by the lab before it rolls back."""
        self.stderr: list[str] = []
        """Text the experiment wrote to stderr (a logging error), captured for the result."""

    @property
    def session(self) -> AsyncSession:
        return self.lab.session

    @property
    def engine(self) -> AsyncEngine:
        assert self.lab.engine is not None
        return self.lab.engine

    def sessionmaker(self, **options: Any) -> async_sessionmaker[AsyncSession]:
        """A new ``async_sessionmaker`` on the lab's engine, for per-request sessions."""
        return async_sessionmaker(self.engine, **options)

    def note(self, text: str) -> None:
        """Keep a remark for the result, such as an error the scenario expected."""
        self.notes.append(text)

    def step(self, label: str, *, reading: bool = False) -> Step:
        """Announce the code about to run, so SQL and states are filed under it.

        Used as ``with run.step(label):`` the block's end observes the tracked object
        (when the block raises, the lab observes instead). ``reading`` marks the final
        read: an error from then on needs no rollback.
        """
        self.steps.append(label)
        self.lab.recorder.step = label
        self.reading = self.reading or reading
        return Step(self)

    def glance(self, label: str, reader: Callable[[], T]) -> T:
        """A read along the way (not the final one), announced: an error in it needs no
        rollback, but once it has passed the run goes on as before."""
        self.step(label, reading=True)
        value = reader()
        self.reading = False
        return value

    def track(self, obj: object) -> None:
        """Name the object whose state the timeline follows."""
        self.tracked = obj

    def observe(self, label: str | None = None) -> None:
        """Snapshot the tracked object's state, without IO."""
        if self.tracked is not None:
            self.states.append(snapshot(label or self.steps[-1], self.tracked))

    def read(self, label: str, reader: Callable[[], T]) -> T:
        """The final read, in plain code (no greenlet): announced, run, then observed."""
        with self.step(label, reading=True):
            return reader()

    async def awaited(self, label: str, awaitable: Awaitable[T], *, reading: bool = False) -> T:
        """An awaited step (inside SQLAlchemy's greenlet): announced, awaited, observed."""
        with self.step(label, reading=reading):
            return await awaitable

    async def refresh(
        self,
        obj: object,
        attributes: list[str] | None = None,
        *,
        session: AsyncSession | None = None,
        variable: str = "user",
    ) -> None:
        """``await session.refresh(obj[, attributes])`` as a step of its own."""
        shown = f", {attributes!r}" if attributes else ""
        target = session or self.session
        await self.awaited(
            f"await session.refresh({variable}{shown})", target.refresh(obj, attributes)
        )

    async def add_and_commit(
        self, obj: object, variable: str = "user", session: AsyncSession | None = None
    ) -> None:
        """The opening most scenarios share: create, add, commit, observed at each step."""
        session = session or self.session
        with self.step(f"{variable} = {type(obj).__name__}(name=...)"):
            self.track(obj)
        with self.step(f"session.add({variable})"):
            session.add(obj)
        with self.step("await session.commit()"):
            await session.commit()
            self.record_commit(obj, self.user_input)

    async def write_new(
        self,
        opening: str,
        created: str,
        make: Callable[[], Any],
        session_factory: async_sessionmaker[AsyncSession] | None = None,
    ) -> int:
        """The opening of the request-per-session scenarios: one session writes a new user.

        ``make`` builds the object after its step is announced; the new key is returned so
        a later session can read the row back.
        """
        async with self.request(opening, session_factory) as session:
            with self.step(created):
                obj = make()
                self.track(obj)
            session.add(obj)
            self.step("await session.flush(); uid = user.uid")
            await session.flush()
            uid: int = obj.uid
            with self.step("await session.commit()"):
                await session.commit()
                self.record_commit(obj, self.user_input)
        return uid

    async def write_user_with_posts(
        self, opening: str, session_factory: async_sessionmaker[AsyncSession] | None = None
    ) -> int:
        """``write_new`` of a user with two posts, so reading ``user.posts`` has rows to load."""
        from ..mappings import PostOfUser, UserWithPosts  # loaded with the first that has posts

        def make() -> UserWithPosts:
            posts = [PostOfUser(title="first"), PostOfUser(title="second")]
            return UserWithPosts(name=self.user_input, posts=posts)

        return await self.write_new(opening, WITH_POSTS, make, session_factory)

    def session_factory(self, expire_on_commit: bool) -> async_sessionmaker[AsyncSession]:
        """``Session = async_sessionmaker(...)`` as a step: the factory a request opens."""
        self.step("Session = async_sessionmaker(engine, expire_on_commit=...)")
        return self.sessionmaker(expire_on_commit=expire_on_commit)

    @asynccontextmanager
    async def request(
        self, opening: str, session_factory: async_sessionmaker[AsyncSession] | None = None
    ) -> AsyncIterator[AsyncSession]:
        """``async with Session() as session:`` announced as ``opening``, as a request opens.

        Without a factory, a plain ``async_sessionmaker`` on the lab's engine makes it.
        """
        self.step(opening)
        async with (session_factory or self.sessionmaker())() as session:
            yield session

    @asynccontextmanager
    async def read_back(
        self,
        cls: Any,
        uid: int,
        label: str,
        *loaders: Any,
        opening: str = READ_BACK,
        session_factory: async_sessionmaker[AsyncSession] | None = None,
    ) -> AsyncIterator[tuple[AsyncSession, Any]]:
        """A new request's session, with row ``uid`` of ``cls`` loaded in it as step ``label``.

        ``loaders`` (``selectinload(...)``, ``undefer(...)``) become the query's options.
        """
        query = select(cls).where(cls.uid == uid)
        if loaders:
            query = query.options(*loaders)
        async with self.request(opening, session_factory) as session:
            yield session, await self.load_one(session, label, query)

    async def load_one(self, session: AsyncSession, label: str, query: Any) -> Any:
        """``(await session.execute(query)).scalar_one()`` as a step, the object then tracked."""
        with self.step(label):
            obj = (await session.execute(query)).scalar_one()
            self.track(obj)
        return obj

    def record_commit(self, obj: object, name: str) -> None:
        """Note a row the database now holds; the key comes from the identity, not a load."""
        identity = instance_state(obj).identity
        if identity is not None:
            self.committed.append((int(identity[0]), name))

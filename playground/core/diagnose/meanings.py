"""What SQLAlchemy's frames and messages mean, as named pieces of evidence (signals).

Each detector says which text or frame it looks for and why that matters. The names
come from SQLAlchemy's own sources, 1.4 to 2.1: ``await_only()`` became ``await_()``,
``load_scalar_attributes`` became ``_load_scalar_attributes``, ``LazyLoader`` became
``_LazyLoader``, and the error links moved from ``/e/20/`` to ``/e/21/``; both spellings
are listed. The rules (``rules.py``) combine these signals into a pitfall.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..results import LOGGING_ERROR
from .reader import Frame, Reading

MAX_HITS = 3
"""A signal keeps at most this many lines as evidence."""


@dataclass(frozen=True)
class Signal:
    """One piece of evidence: what it is, the input line it was seen on, and why it counts."""

    kind: str
    line: int
    text: str
    why: str


@dataclass(frozen=True)
class TextMeaning:
    """A message or piece of code whose presence anywhere in the input means something."""

    kind: str
    anchors: tuple[str, ...]
    why: str
    confirm: re.Pattern[str] | None = None
    """When given, a line holding an anchor counts only if this pattern is found in it."""


@dataclass(frozen=True)
class FrameMeaning:
    """A stack frame (or a frame and the one it calls) that names a mechanism."""

    kind: str
    test: Callable[[Frame, Frame | None], bool]
    why: str


TEXT_MEANINGS: tuple[TextMeaning, ...] = (
    TextMeaning(
        "missing-greenlet",
        (
            "MissingGreenl",
            "greenlet_spawn has not",
            "can't call await_only()",
            "can't call await_()",
            "/xd2s",
            "#error-xd2s",
            "Missing greenlet",
            "missing greenlet",
            "Was IO attempted in an unexpected place",
        ),
        "SQLAlchemy had to wait for the async driver from plain synchronous code, outside "
        "the greenlet that an awaited call on the async API provides",
    ),
    TextMeaning(
        "greenlet-absent",
        (
            "the greenlet library is required",
            "greenlet library is required",
            "No module named 'greenlet'",
            'No module named "greenlet"',
            "'greenlet' library is installed",
            "distribution found for greenlet",
            "building wheel for greenlet",
            "build wheels for greenlet",
            "greenlet is not installed",
        ),
        "the greenlet package, which SQLAlchemy's asyncio layer runs on, cannot be imported",
    ),
    TextMeaning(
        "detached",
        ("DetachedInstanceError", "is not bound to a Session", "/bhk3", "#error-bhk3"),
        "the object belongs to no session any more, so nothing can load its missing values",
    ),
    TextMeaning(
        "other-session",
        ("' is already attached to session '", "' is not persistent within this Session"),
        "the object belongs to another session than the one it was handed to (one loaded "
        "in a dependency or task and used in another session)",
    ),
    TextMeaning(
        "concurrent-state",
        (
            "IllegalStateChangeError",
            "concurrent operations are not permitted",
            "provisioning a new connection",
            "Session is already flushing",
            "is already in progress and this would cause",
            "()' is already in progress",  # SQLAlchemy's form: "method 'begin()' is ..."
            "/isce",
            "#error-isce",
        ),
        "the session's own guard: an operation started on it while another was still running",
    ),
    TextMeaning(
        "driver-never-awaited",
        (
            "coroutine 'AsyncAdapt_",
            "coroutine 'Connection.cursor' was never awaited",
            "coroutine 'Connection.execute' was never awaited",
            "coroutine 'Cursor.execute' was never awaited",
        ),
        "a call into the async driver was made and never awaited: SQLAlchemy refuses to "
        "await it outside the greenlet (MissingGreenlet), and Python reports the dropped "
        "coroutine when it is collected",
    ),
    TextMeaning(
        "async-call-in-library",
        (
            "coroutine 'AsyncSession.",
            "coroutine 'AsyncConnection.",
            "coroutine 'AsyncEngine.",
            "coroutine 'AsyncResult.",
            "coroutine 'async_scoped_session.",
        ),
        "synchronous code inside a library called a method of an asyncio object and never "
        "awaited it: the library expects a plain Session, Connection or Engine",
        # Python's warning names the calling line; only a library's own line counts (a
        # missing await in one's own code is a different mistake).
        re.compile(r"(?:site|dist)-packages[\\/][^:]*:\d+: RuntimeWarning"),
    ),
    TextMeaning(
        "busy-connection",
        ("another operation is in progress",),
        "asyncpg refuses a second command on a connection that is still busy with one",
    ),
    TextMeaning(
        "committed-state",
        # Only the committed state: the inactive one ("due to the SQL transaction being
        # rolled back") is a rollback, not a hook.
        ("is in 'committed' state",),
        "SQL was attempted after the transaction committed, from inside the commit: an "
        "after_commit listener (or a hook it calls) loading attributes or querying",
    ),
    TextMeaning(
        "greenlet-word",
        ("greenlet",),
        "the text speaks of greenlet, which only SQLAlchemy's asyncio layer needs here",
        re.compile(r"greenlet(?!_spawn|\.py|/|[A-Za-z0-9_])|greenlet_spawn has", re.IGNORECASE),
    ),
    TextMeaning(
        "loop-mismatch",
        (
            "attached to a different loop",
            "Event loop is closed",
            "different event loop",
            "bound to a different event loop",
        ),
        "an engine or connection outlived the event loop it was made in (typical of test "
        "setups), which is an event-loop lifetime problem rather than lazy IO",
    ),
    TextMeaning(
        "other-orm",
        ("tortoise", "Tortoise", "from databases import", "gino", "Gino", "django.db", "peewee"),
        "another database library than SQLAlchemy's ORM is in use",
    ),
    TextMeaning(
        "sqlalchemy",
        (
            "sqlalchemy",
            "SQLAlchemy",
            "AsyncSession",
            "sqlmodel",
            "SQLModel",
            "expire_on_commit",
            "selectinload",
            "joinedload",
            "sessionmaker",
            "mapped_column",
            "DeclarativeBase",
            "create_async_engine",
            "AsyncAttrs",
            "awaitable_attrs",
            "before_flush",
            "after_flush",
            "get_history(",
            "with_polymorphic",
            "subqueryload",
            "raiseload",
        ),
        "SQLAlchemy is involved",
    ),
    TextMeaning(
        "lazy-raise",
        ("is not available due to lazy=",),
        "a relationship configured with lazy='raise' (or 'raise_on_sql') was read unloaded",
    ),
    TextMeaning(
        "deferred-raise",
        ("is not available due to raiseload=True", "deferred load operation of attribute"),
        "a deferred column was read before it was loaded",
    ),
    TextMeaning(
        "lazy-message",
        ("lazy load operation of attribute",),
        "SQLAlchemy names a lazy load of a relationship",
    ),
    TextMeaning(
        "expired-message",
        ("attribute refresh operation cannot proceed",),
        "SQLAlchemy names the reload of expired attributes",
    ),
    TextMeaning(
        "async-engine-attr",
        (
            "'AsyncEngine' object has no attribute",
            "'AsyncConnection' object has no attribute",
            "'AsyncSession' object has no attribute",
            "'async_scoped_session' object has no attribute",
            "AsyncEngine expected",
            "got <class 'sqlalchemy.ext.asyncio.",
        ),
        "a synchronous API (create_all, run_callable, query...) was handed an asyncio object",
    ),
    TextMeaning(
        "sync-protocol",
        (
            "'AsyncSession' object does not support the context manager protocol",
            "'AsyncConnection' object does not support the context manager protocol",
            "'AsyncResult' object is not iterable",
            "'AsyncScalarResult' object is not iterable",
            "'AsyncMappingResult' object is not iterable",
        ),
        "Python refused a plain with or for on an asyncio object: it is entered with "
        "async with and iterated with async for",
    ),
    TextMeaning(
        "no-inspection",
        ("Inspection on an AsyncEngine", "Inspection on an AsyncConnection", "/xd3s"),
        "inspect() was called on an AsyncEngine or AsyncConnection, which it cannot reflect",
    ),
    TextMeaning(
        "repr-raised",
        ("raised in repr()",),
        "an error was raised inside the object's __repr__ and caught by whoever was "
        "formatting it (pytest's assertion message does this)",
    ),
    TextMeaning(
        "pydantic-extract",
        ("Error extracting attribute", "get_attribute_error"),
        "pydantic read an attribute of the ORM object (from_attributes) and the read raised",
    ),
    TextMeaning(
        "validation-error",
        ("validation error for", "ResponseValidationError", "from_orm(", "model_validate("),
        "a pydantic model was being built from the object",
    ),
    TextMeaning(
        "logging-error",
        (LOGGING_ERROR, "Unable to print the message and arguments - possible formatting error"),
        "the logging module caught an error while formatting a message and printed it "
        "instead of raising it",
    ),
    TextMeaning(
        "rollback",
        (
            "IntegrityError",
            ".rollback()",
            "PendingRollbackError",
            "rolled back due to",
            "due to the SQL transaction being rolled back",
        ),
        "a failed statement or a rollback: a rollback expires every object in the session",
    ),
    TextMeaning(
        "commit",
        (".commit()", "expire_on_commit"),
        "a commit: with expire_on_commit=True (the default) it expires every loaded value",
        # A line that turns expiry off is no commit that expired anything.
        re.compile(r"\.commit\(\)|expire_on_commit(?!`?\s*[=:]\s*False)"),
    ),
    TextMeaning(
        "expiry-setting",
        ("expire_on_commit",),
        "the text speaks of expire_on_commit, the setting behind this family of errors",
    ),
    TextMeaning(
        "server-generated",
        (
            "onupdate",
            "on_update",
            "server_default",
            "server_onupdate",
            "FetchedValue",
            "Computed(",
            "eager_defaults",
        ),
        "columns the database fills in: after an INSERT or UPDATE they stay expired unless fetched",
    ),
    TextMeaning(
        "async-url",
        (
            "+asyncpg",
            "+aiosqlite",
            "+asyncmy",
            "+aiomysql",
            "+psycopg_async",
            "+aioodbc",
            "asyncpg ==",
            "asyncpg==",
        ),
        "an asyncio driver",
    ),
    TextMeaning(
        "sync-engine-ctor",
        ("create_engine", "engine_from_config(", "database_exists(", "create_database("),
        "a plain, synchronous Engine is created (sqlalchemy-utils' database_exists() and "
        "create_database() make one from the URL they are given)",
        # A call or a frame of one, not an import line.
        re.compile(
            r"(?:create_engine|engine_from_config|database_exists|create_database)\s*\(|"
            r"in create_engine\b"
        ),
    ),
    TextMeaning(
        "async-api",
        ("create_async_engine", "AsyncEngine", "async_sessionmaker", "AsyncSession"),
        "the asyncio API (AsyncEngine, AsyncSession) is in use",
    ),
    TextMeaning(
        "create-all-call",
        ("metadata.create_all(", "metadata.drop_all("),
        "metadata.create_all()/drop_all() is called directly, not through run_sync()",
    ),
    TextMeaning(
        "inspect-call",
        ("inspect(", "Inspector.from_engine("),
        "inspect() is called on an engine",
        re.compile(r"(?:inspect|from_engine)\(\s*[\w.]*engine", re.IGNORECASE),
    ),
    TextMeaning(
        "relationship-code",
        ("relationship(", "Relationship(", "back_populates", "selectinload", "joinedload"),
        "the code around the error works with relationships",
    ),
    TextMeaning(
        "sync-engine-attr",
        (".sync_engine", ".sync_session", ".sync_connection"),
        "the synchronous object behind an asyncio one is used directly",
        # Registering a listener on it, or SQLAlchemy's own greenlet_spawn(self.sync_session
        # ...) line, is how it is meant to be used.
        re.compile(r"^(?!.*(?:listens_for|event\.listen\(|run_sync|greenlet_spawn\())"),
    ),
    TextMeaning(
        "hook-words",
        (
            "listens_for",
            "event.listen(",
            "@validates",
            "before_flush",
            "after_flush",
            "before_insert",
            "before_update",
            "after_insert",
            "after_update",
            "callbacks",
            "hybrid_property",
        ),
        "an ORM event listener, validator or hook",
    ),
)

_OTHER_ERRORS = (
    (
        "A transaction is already begun on this Session",
        "a transaction was begun twice on one session (session.begin() on a session a request "
        "or an outer block had already begun)",
    ),
    (
        "QueuePool limit of size",
        "the connection pool ran out (sessions left open, or more work at once than "
        "pool_size + max_overflow)",
    ),
    ("Could not parse SQLAlchemy URL", "the database URL is malformed"),
    ("Could not parse rfc1738 URL", "the database URL is malformed"),
    ("Can't load plugin: sqlalchemy.dialects", "the URL names a dialect that is not installed"),
    ("Textual SQL expression", "a raw SQL string has to be wrapped in text()"),
    ("Not an executable object", "a raw SQL string has to be wrapped in text()"),
    ("One or more mappers failed to initialize", "the mapped classes are misconfigured"),
    ("No row was found when one was required", "a query found no row where one was required"),
    (
        "Multiple rows were found when exactly one",
        "a query found several rows where exactly one was required",
    ),
    (
        "This Session's transaction has been rolled back due to a previous exception",
        "a flush failed earlier (its error is further up) and the session was used again "
        "without rollback(): roll back, or end the session, after the failed flush",
    ),
    (
        "Can't reconnect until invalid transaction is rolled back",
        "a statement failed earlier and the connection was used again without rollback()",
    ),
    (
        "coroutine 'AsyncSession.",
        "a call on the AsyncSession was not awaited (await session.commit(), "
        "await session.execute(stmt))",
    ),
    (
        "coroutine 'AsyncConnection.",
        "a call on the AsyncConnection was not awaited (await conn.execute(stmt))",
    ),
    (
        "Result can't be used in 'await' expression",
        "a synchronous Session or Connection ran the statement and its result was awaited: "
        "build the session with create_async_engine() and async_sessionmaker(), or drop "
        "the await",
    ),
    (
        "'async_sessionmaker' object does not support the asynchronous context manager",
        "the session factory itself was used in async with; call it: "
        "async with factory() as session",
    ),
    (
        "'Session' object does not support the asynchronous context manager",
        "a synchronous Session was used in async with: build it with async_sessionmaker()",
    ),
    (
        "Can't operate on closed transaction inside context manager",
        "commit() or rollback() was called inside an async with session.begin() block, "
        "which ends the transaction itself when the block ends; anything after it inside "
        "the block (a query, or reading an attribute the commit expired) is refused: drop "
        "the inner commit() and let the block commit",
    ),
    (
        "The asyncio extension requires an async driver",
        "create_async_engine() was given a synchronous driver; its URL needs an async one "
        "(postgresql+asyncpg://, sqlite+aiosqlite://, mysql+aiomysql://)",
    ),
)
"""SQLAlchemy errors that name a different problem: with nothing of the asyncio family
beside them, the answer is none, and says which problem it is."""
TEXT_MEANINGS += tuple(TextMeaning("other-error", (anchor,), why) for anchor, why in _OTHER_ERRORS)


def _sa(frame: Frame, module: str, *funcs: str) -> bool:
    return (
        frame.library == "sqlalchemy"
        and module in frame.sqlalchemy_module
        and (not funcs or frame.func.rpartition(".")[2] in funcs)
    )


def _is_deferred_loader(frame: Frame, after: Frame | None) -> bool:
    if not _sa(frame, "orm/strategies", "_load_for_state"):
        return False
    if "load_scalar_attributes" in frame.code:
        return True
    return after is not None and _sa(
        after, "orm/loading", "load_scalar_attributes", "_load_scalar_attributes"
    )


def _is_lazy_loader(frame: Frame, after: Frame | None) -> bool:
    if _sa(frame, "orm/strategies", "_emit_lazyload"):
        return True
    if not _sa(frame, "orm/strategies", "_load_for_state"):
        return False
    return "_emit_lazyload" in frame.code or (
        after is not None and _sa(after, "orm/strategies", "_emit_lazyload")
    )


def _user_calls_sync_session(frame: Frame, after: Frame | None) -> bool:
    """User code calling a Session method straight into SQLAlchemy, without ``await``."""
    if frame.library is not None or after is None:
        return False
    entry = _sa(
        after,
        "orm/session",
        "execute",
        "commit",
        "flush",
        "get",
        "scalars",
        "scalar",
        "refresh",
        "query",
        "_execute_internal",
    ) or _sa(after, "orm/query")
    code = frame.code
    return entry and "await" not in code and "run_sync" not in code


SERIALIZER_CALLS = (
    "model_validate(",
    "from_orm(",
    "jsonable_encoder(",
    "model_dump(",
    "TypeAdapter(",
    ".dump(",
    ".dumps(",
    "render_template(",
    "TemplateResponse(",
)


def _is_serializer(frame: Frame, after: Frame | None) -> bool:
    """A serializer's own frame, or the user's line calling one straight into the ORM."""
    if frame.library in ("pydantic", "pydantic_core", "marshmallow", "jinja2"):
        return True
    if "fastapi/encoders" in frame.path or frame.func.rpartition(".")[2] in (
        "serialize_response",
        "jsonable_encoder",
        "from_orm",
        "model_validate",
        "validate_model",
    ):
        return True
    return (
        after is not None
        and after.library is not None
        and any(call in frame.code for call in SERIALIZER_CALLS)
    )


def _greenlet_import(frame: Frame, after: Frame | None) -> bool:
    """SQLAlchemy's asyncio layer failing to import greenlet (cut before the message)."""
    return frame.library == "sqlalchemy" and (
        frame.func.rpartition(".")[2] in ("_initialize", "_import_greenlet", "_not_implemented")
        and "concurrency" in frame.path
        or "from greenlet import" in frame.code
    )


FRAME_MEANINGS: tuple[FrameMeaning, ...] = (
    FrameMeaning(
        "greenlet-absent",
        _greenlet_import,
        "SQLAlchemy's asyncio layer tried to import greenlet, and the traceback ends there",
    ),
    FrameMeaning(
        "state-guard",
        lambda f, _n: _sa(f, "orm/session", "_raise_for_prerequisite_state"),
        "the session's state guard refused a method: a concurrent operation on the same "
        "session, or one after a failed flush",
    ),
    FrameMeaning(
        "lazy-raise",
        lambda f, _n: _sa(f, "orm/strategies", "_invoke_raise_load"),
        "a relationship configured with lazy='raise' refused to load (_invoke_raise_load)",
    ),
    FrameMeaning(
        "attribute-get",
        lambda f, _n: _sa(f, "orm/attributes", "__get__", "get", "_fire_loader_callables"),
        "an attribute of a mapped object was read",
    ),
    FrameMeaning(
        "expired-load",
        lambda f, _n: (
            _sa(f, "orm/state", "_load_expired")
            or (_sa(f, "orm/attributes") and "_load_expired" in f.code)
        ),
        "the attribute had been expired, so reading it reloads the row (_load_expired)",
    ),
    FrameMeaning(
        "lazy-load",
        _is_lazy_loader,
        "a relationship's lazy loader runs a SELECT for the related rows (_emit_lazyload)",
    ),
    FrameMeaning(
        "deferred-load",
        _is_deferred_loader,
        "a deferred column's loader runs a SELECT for that column (deferred _load_for_state)",
    ),
    FrameMeaning(
        "pool-connect",
        lambda f, _n: (
            _sa(
                f,
                "pool/",
                "_checkout",
                "checkout",
                "connect",
                "__connect",
                "_do_get",
                "_ConnectionRecord__connect",
            )
            or _sa(f, "engine/create", "connect")
        ),
        "a new database connection is being opened from the pool",
    ),
    FrameMeaning(
        "ddl",
        lambda f, _n: (
            _sa(f, "", "_run_ddl_visitor", "run_callable", "_run_visitor")
            or (_sa(f, "sql/schema", "create_all", "drop_all"))
            or "SchemaGenerator" in f.code
            or "SchemaDropper" in f.code
        ),
        "metadata.create_all() / drop_all() runs its DDL visitor on a synchronous connection",
    ),
    FrameMeaning(
        "inspector",
        lambda f, _n: _sa(f, "engine/reflection") or _sa(f, "inspection", "inspect"),
        "inspect() builds an Inspector, which connects to the database",
    ),
    FrameMeaning(
        "ext-asyncio",
        lambda f, _n: _sa(f, "ext/asyncio/"),
        "SQLAlchemy's asyncio layer (AsyncEngine, AsyncSession) is on the stack",
    ),
    FrameMeaning(
        "greenlet-spawn",
        lambda f, _n: f.library == "sqlalchemy" and f.func.endswith("greenlet_spawn"),
        "the call went through greenlet_spawn, where IO is allowed",
    ),
    FrameMeaning(
        "await-only",
        lambda f, _n: (
            f.library == "sqlalchemy"
            and f.func.rpartition(".")[2] in ("await_only", "await_", "await_fallback")
        ),
        "the point where SQLAlchemy refused to wait without a greenlet",
    ),
    FrameMeaning(
        "event-dispatch",
        lambda f, n: (
            (
                _sa(f, "event/attr", "__call__")
                or _sa(f, "orm/util", "set_", "append", "bulk_set")
                or _sa(f, "ext/hybrid", "__get__")
            )
            # The listener it calls is someone's code: SQLAlchemy's own listeners (a
            # pool's connect hook, a dialect's first connect) run through here too.
            and n is not None
            and n.section == f.section
            and n.library != "sqlalchemy"
        ),
        "an ORM event listener, validator or hybrid property was running",
    ),
    FrameMeaning(
        "repr",
        lambda f, _n: (
            f.library != "sqlalchemy"
            and f.func.rpartition(".")[2] in ("__repr__", "__str__", "__format__")
        ),
        "a __repr__ or __str__ read the object's attributes",
    ),
    FrameMeaning(
        "logging-frames",
        lambda f, _n: f.library == "logging" or "/logging/__init__.py" in f.path,
        "the logging module was formatting a message with the object in it",
    ),
    FrameMeaning(
        "serializer",
        _is_serializer,
        "a serializer (pydantic, FastAPI's response model, marshmallow, a template) read "
        "the object's attributes",
    ),
    FrameMeaning(
        "session-api",
        _user_calls_sync_session,
        "your code called a synchronous Session method directly, without await",
    ),
)

_SQL = re.compile(
    r"\[SQL: SELECT (?P<cols>[^\[\]]{1,4000}?)\s+FROM (?P<table>[\w.\"`]+)[^\[\]]{0,200}?"
    r"\s+WHERE (?P<where>[^\n\]]{1,500})"
)
_BIND_FIRST = re.compile(r"^\(?\s*(?:\?|\$\d+|%\([^)]*\)s|:[\w%()]+)\s*=\s*")
_WHERE_COL = re.compile(r"^\(?\s*(?P<col>[\w.\"`]+)\s*=")
_BULKY_NAME = re.compile(
    r"(?:^|_)(?:body|content|contents|text|bio|biography|description|summary|notes?|html|"
    r"markdown|payload|data|blob|image|photo|picture|avatar|thumbnail|attachment|file|"
    r"document|raw|embedding|vector|json|xml|log|transcript)(?:$|_)",
    re.IGNORECASE,
)
_TIMESTAMP_NAME = re.compile(
    r"^(?:updated|modified|changed|edited|last_[a-z_]+|update|modify)(?:_at|_on|_time|_date|_ts)?$"
    r"|^(?:update_time|mtime|updated)$"
)


def find_signals(reading: Reading) -> list[Signal]:
    """Every signal in ``reading``: text meanings, frame meanings, then the SQL and names."""
    signals: list[Signal] = []
    text = reading.text
    raised = {exception.number for exception in reading.exceptions}
    in_progress = _calls_in_progress(reading)
    for meaning in TEXT_MEANINGS:
        hits: list[int] = []
        for anchor in meaning.anchors:
            start = text.find(anchor)
            while start != -1 and len(hits) < MAX_HITS * 4:
                hits.append(start)
                start = text.find(anchor, start + len(anchor))
        seen: set[int] = set()
        lines = sorted(
            (reading.line_at(offset) for offset in hits),
            key=lambda line: (line.number not in raised, line.number),
        )
        for line in lines:
            if line.number in seen:
                continue
            if meaning.confirm is not None and not meaning.confirm.search(line.text):
                continue
            if meaning.kind == "commit" and line.number in in_progress:
                # commit() on the failing stack is the call that failed, not an earlier
                # commit whose expiry a later read ran into.
                continue
            kind, why = meaning.kind, meaning.why
            if kind == "async-engine-attr":
                kind, why = _missing_attribute(line.text) or (kind, why)
            seen.add(line.number)
            signals.append(Signal(kind, line.number, line.text.strip(), why))
            if len(seen) >= MAX_HITS:
                break
    frames = reading.frames
    pending_rollback = any(e.short_type == "PendingRollbackError" for e in reading.exceptions)
    for frame_meaning in FRAME_MEANINGS:
        if frame_meaning.kind == "state-guard" and pending_rollback:
            continue  # the guard refused a session left by a failed flush, not a second task
        count = 0
        for index, frame in enumerate(frames):
            after = frames[index + 1] if index + 1 < len(frames) else None
            if frame_meaning.test(frame, after):
                signals.append(
                    Signal(frame_meaning.kind, frame.number, _frame_text(frame), frame_meaning.why)
                )
                count += 1
                if count >= MAX_HITS:
                    break
    signals.extend(_raising_frames(reading))
    signals.extend(_sql_signals(reading))
    signals.extend(_plain_with_before_311(reading, signals))
    signals.extend(_validation_details_cut(reading))
    signals.extend(_unawaited_result(reading))
    signals.extend(_factory_entered_before_311(reading))
    return signals


_COROUTINE_ATTRIBUTE = re.compile(r"'coroutine' object has no attribute '([A-Za-z]\w{0,99})'")


def _unawaited_result(reading: Reading) -> list[Signal]:
    """``'coroutine' object has no attribute 'scalars'``: ``session.execute()`` not awaited.

    Only a name that SQLAlchemy's result classes have counts, so another library's
    missing await is not taken for this one.
    """
    if "'coroutine' object" not in reading.text:
        return []
    from sqlalchemy.engine import Result, ScalarResult

    for exception in reading.exceptions:
        found = _COROUTINE_ATTRIBUTE.search(exception.message)
        if found and (hasattr(Result, found.group(1)) or hasattr(ScalarResult, found.group(1))):
            return [
                Signal(
                    "other-error",
                    exception.number,
                    f"{exception.type}: {exception.message}",
                    f"a query's result was used without await: {found.group(1)}() is a method "
                    "of the result that await session.execute(stmt) gives, not of the "
                    "coroutine execute() returns",
                )
            ]
    return []


_VALIDATION_COUNT = re.compile(r"^\d+ validation errors? for \w")


def _validation_details_cut(reading: Reading) -> list[Signal]:
    """A pydantic ValidationError from ORM attributes whose details the paste cut off.

    A MissingGreenlet raised while pydantic reads an attribute becomes a ValidationError
    whose details (the field, "Error extracting attribute") come on the lines under it; a
    paste that stops at its first line still shows the model built from the ORM object.
    """
    final = reading.final_exception
    if final is None or final.short_type != "ValidationError":
        return []
    last = next((line for line in reversed(reading.lines) if line.text.strip()), None)
    if not _VALIDATION_COUNT.match(final.message) or last is None or last.number != final.number:
        return []
    if not any(_FROM_ORM.search(frame.code) for frame in reading.frames):
        return []
    return [
        Signal(
            "validation-cut",
            final.number,
            f"{final.type}: {final.message}",
            "pydantic refused a model built from an ORM object, and the lines that say which "
            "field and why were cut off",
        )
    ]


_FROM_ORM = re.compile(r"from_attributes\s*=\s*True|\.from_orm\(")


def _plain_with_before_311(reading: Reading, signals: list[Signal]) -> list[Signal]:
    """Python 3.10's form of a plain ``with`` on an asyncio object: ``AttributeError:
    __enter__``, which names no type; it counts where the text shows the asyncio API."""
    if not any(signal.kind == "async-api" for signal in signals):
        return []
    for exception in reading.exceptions:
        if exception.type.endswith("AttributeError") and exception.message == "__enter__":
            return [
                Signal(
                    "sync-protocol",
                    exception.number,
                    f"{exception.type}: {exception.message}",
                    "Python refused a plain with on an object that has only async with (Python "
                    "3.10 says AttributeError: __enter__), in a text that uses the asyncio API",
                )
            ]
    return []


def _factory_entered_before_311(reading: Reading) -> list[Signal]:
    """Python 3.10's form of ``async with async_sessionmaker(...)``: ``AttributeError:
    __aenter__`` names no type, but the frame's line shows the factory itself entered."""
    final = reading.final_exception
    if final is None or final.message != "__aenter__" or not reading.frames:
        return []
    code = reading.frames[-1].code
    if not _FACTORY_ENTERED.search(code):
        return []
    return [
        Signal(
            "other-error",
            final.number,
            f"{final.type}: {final.message}",
            "the session factory itself was used in async with; call it: "
            "async with factory() as session",
        )
    ]


_FACTORY_ENTERED = re.compile(r"async with [\w.]{0,80}sessionmaker\(")
_NO_ATTRIBUTE = re.compile(r"'Async(?:Session|Connection)' object has no attribute '(\w{1,100})'")


_ASYNC_NO_ATTRIBUTE = re.compile(
    r"'(AsyncEngine|AsyncConnection|AsyncSession|async_scoped_session)' object has no "
    r"attribute '([A-Za-z]\w{0,99})'"
)


def _added_later(text: str) -> str | None:
    """``Class.name`` when the asyncio class said to lack ``name`` has it in this SQLAlchemy.

    Such an error comes from an older release that had not added the method yet (early
    1.4's ``async_scoped_session`` had no ``scalars``): no misuse, an upgrade. A name the
    installed class lacks too (``query``) stays a synchronous API handed to asyncio.
    """
    found = _ASYNC_NO_ATTRIBUTE.search(text)
    if found is None:
        return None
    from sqlalchemy.ext import asyncio as sa_asyncio

    owner, name = found.groups()
    return f"{owner}.{name}()" if hasattr(getattr(sa_asyncio, owner), name) else None


def _missing_attribute(text: str) -> tuple[str, str] | None:
    """What "an asyncio object has no attribute" means when it is not the sync API.

    A result's method called on the session is a wrong method name; a method the installed
    SQLAlchemy has is an older release to upgrade. Both are decided by SQLAlchemy's classes.
    """
    if _result_method_missing(text):
        return (
            "result-method",
            "a method of query results was called on the session itself: a wrong method, "
            "not a synchronous API the async session lacks",
        )
    older = _added_later(text)
    if older is not None:
        return (
            "other-error",
            f"an older SQLAlchemy without {older}, which the installed release has: "
            "upgrading SQLAlchemy is the fix",
        )
    return None


def _result_method_missing(text: str) -> bool:
    """True when the missing attribute is a method of results, not of the sync session.

    ``session.scalar_one(...)`` is a result's method called on the session (an await of
    ``execute()`` is missing), not a synchronous API that the async session lacks. The
    answer comes from SQLAlchemy's own classes.
    """
    found = _NO_ATTRIBUTE.search(text)
    if found is None:
        return False
    from sqlalchemy.engine import Connection, Result, ScalarResult
    from sqlalchemy.orm import Session

    name = found.group(1)
    on_results = hasattr(Result, name) or hasattr(ScalarResult, name)
    return on_results and not (hasattr(Session, name) or hasattr(Connection, name))


def _calls_in_progress(reading: Reading) -> set[int]:
    """Line numbers of the source lines of frames that called further frames.

    Such a line is a call still running when the error was raised.
    """
    frames = reading.frames
    numbers: set[int] = set()
    for frame, after in zip(frames, frames[1:], strict=False):
        if frame.code and after.section == frame.section:
            numbers.add(frame.number + 1)
    return numbers


_RAISING = tuple(
    meaning
    for meaning in TEXT_MEANINGS
    if meaning.kind
    in ("missing-greenlet", "detached", "concurrent-state", "no-inspection", "greenlet-absent")
)


def _raising_frames(reading: Reading) -> list[Signal]:
    """What SQLAlchemy's own ``raise`` line says when the message itself was cut off.

    A paste that stops just before the final line still shows the innermost frame and
    its source, ``raise exc.MissingGreenlet(`` or ``raise orm_exc.DetachedInstanceError(``:
    the same anchors as the messages name the error.
    """
    found: list[Signal] = []
    final = reading.final_exception
    if reading.frames and (final is None or reading.frames[-1].number > final.number):
        last = reading.frames[-1]
        if _sa(last, "sql/schema", "create_all", "drop_all") and "_run_ddl_visitor" in last.code:
            found.append(
                Signal(
                    "ddl-refused",
                    last.number,
                    _frame_text(last),
                    "the traceback ends where create_all()/drop_all() hands its DDL to the "
                    "engine it was given, which an AsyncEngine cannot run",
                )
            )
        if _sa(last, "inspection", "inspect") and "NoInspectionAvailable" in last.code:
            found.append(
                Signal(
                    "inspect-refused",
                    last.number,
                    _frame_text(last),
                    "inspect() refused the object it was given, as it refuses an AsyncEngine",
                )
            )
    for frame in reading.frames[-3:]:
        code = frame.code
        if frame.library != "sqlalchemy" or not code.startswith("raise "):
            continue
        for meaning in _RAISING:
            if any(anchor in code for anchor in meaning.anchors) or (
                meaning.kind == "detached" and "DetachedInstanceError" in code
            ):
                found.append(
                    Signal(
                        meaning.kind,
                        frame.number,
                        _frame_text(frame),
                        f"SQLAlchemy's own line raises it: {meaning.why}",
                    )
                )
    return found


def _frame_text(frame: Frame) -> str:
    code = f"  {frame.code}" if frame.code else ""
    return f"{frame.location} in {frame.func}{code}"


def _sql_signals(reading: Reading) -> list[Signal]:
    """What the SELECT that was attempted says about what was being loaded."""
    found: list[Signal] = []
    text = reading.text
    start = text.find("[SQL: SELECT")
    while start != -1 and len(found) < MAX_HITS:
        m = _SQL.match(text, start)
        if m:
            line = reading.line_at(start)
            where = m.group("where").strip()
            cols = [c.strip() for c in m.group("cols").split(",")]
            column = _WHERE_COL.match(where)
            if _BIND_FIRST.match(where):
                found.append(
                    Signal(
                        "lazy-sql",
                        line.number,
                        line.text.strip(),
                        "the SELECT filters the related table by the parent's key "
                        "(parameter = column), the shape of a relationship's lazy load",
                    )
                )
            elif column and column.group("col") in cols:
                found.append(
                    Signal(
                        "full-reload",
                        line.number,
                        line.text.strip(),
                        "the reload selects the whole row by its key: all the object's attributes "
                        "had been expired, as a commit or a rollback does",
                    )
                )
            elif column:
                found.append(
                    Signal(
                        "partial-reload",
                        line.number,
                        line.text.strip(),
                        f"the reload selects only {', '.join(cols)}, not the key it filters on: "
                        "only those attributes were unloaded, as a flush leaves columns the "
                        "database generates, or as a deferred column starts",
                    )
                )
                if any(_BULKY_NAME.search(col.rsplit(".", 1)[-1]) for col in cols):
                    found.append(
                        Signal(
                            "bulky-name",
                            line.number,
                            line.text.strip(),
                            "the columns reloaded are named like large values (a body, a "
                            "document, a picture), the kind of column one defers",
                        )
                    )
                elif all(timestamp_attribute(col.rsplit(".", 1)[-1]) for col in cols):
                    found.append(
                        Signal(
                            "timestamp-name",
                            line.number,
                            line.text.strip(),
                            "the columns reloaded are named like ones the database keeps up "
                            "to date (server_default, onupdate)",
                        )
                    )
        start = text.find("[SQL: SELECT", start + 12)
    return found


def timestamp_attribute(attribute: str | None) -> bool:
    """True when an attribute is named like a column the database keeps up to date."""
    return bool(attribute) and bool(_TIMESTAMP_NAME.match(attribute or ""))

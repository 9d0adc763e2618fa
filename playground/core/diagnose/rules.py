"""The table of rules: which evidence names which pitfall, why, and how sure that is.

Rules are tried in order and the first whose evidence is all present wins, so the
specific ones (a message only one cause produces) come before the general ones (an
expired attribute, which a commit, a rollback or an UPDATE can all leave behind).
Every rule reads signals from ``meanings.py``; none looks at sample texts.
"""

from __future__ import annotations

from dataclasses import dataclass

from .pitfalls import (
    ASYNC_DRIVER,
    CONCURRENT,
    DEFERRED,
    DETACHED,
    EXPIRED,
    GREENLET,
    HOOK,
    LAZY,
    REPR,
    ROLLBACK,
    SERIALIZATION,
    SERVER_GENERATED,
    SYNC_API,
    Pitfall,
)

HIGH = "high"
MEDIUM = "medium"
LOW = "low"

IO_SIGNS = ("missing-greenlet", "expired-load", "lazy-load", "deferred-load", "lazy-sql")
"""Any of these says a load needed IO where none could run."""


@dataclass(frozen=True)
class Rule:
    """One line of the table: the pitfall, the evidence it needs, its reason, its confidence.

    ``needs``: every signal must be present; ``any_of``: at least one of them (when
    given); ``unless``: none of them may be present. ``alternatives`` are the pitfalls
    that leave the same evidence, named so a reader can check.
    """

    pitfall: Pitfall
    needs: tuple[str, ...]
    reason: str
    confidence: str
    any_of: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    alternatives: tuple[Pitfall, ...] = ()

    def matches(self, kinds: set[str]) -> bool:
        return (
            all(kind in kinds for kind in self.needs)
            and (not self.any_of or any(kind in kinds for kind in self.any_of))
            and not any(kind in kinds for kind in self.unless)
        )


RULES: tuple[Rule, ...] = (
    # Messages that only one cause produces.
    Rule(
        GREENLET,
        ("greenlet-absent",),
        "SQLAlchemy's asyncio layer cannot import greenlet, so no async call can run",
        HIGH,
    ),
    Rule(
        CONCURRENT,
        ("concurrent-state",),
        "the session refused an operation because another one on it had not finished: "
        "one AsyncSession is shared by tasks running at the same time",
        HIGH,
    ),
    Rule(
        CONCURRENT,
        ("busy-connection", "sqlalchemy"),
        "the driver refused a command because the connection was still busy: one session "
        "(and its connection) is used by two tasks at once",
        MEDIUM,
        unless=("loop-mismatch",),
    ),
    Rule(
        SYNC_API,
        ("sync-protocol",),
        "an AsyncSession, AsyncConnection or async result was used with a plain with or "
        "for; asyncio objects take async with and async for",
        HIGH,
    ),
    Rule(
        SYNC_API,
        ("async-engine-attr",),
        "a synchronous API such as metadata.create_all() was given an AsyncEngine or "
        "AsyncConnection; it must run through run_sync()",
        HIGH,
    ),
    Rule(
        SYNC_API,
        ("async-call-in-library",),
        "a library's synchronous code called a method of an AsyncSession, AsyncConnection "
        "or AsyncEngine without await: it needs the plain object (or run_sync())",
        MEDIUM,
    ),
    Rule(
        SYNC_API,
        ("no-inspection",),
        "inspect() cannot reflect an AsyncEngine; it must run on a connection inside run_sync()",
        HIGH,
    ),
    Rule(
        DETACHED,
        ("detached",),
        "the object needed a load but no session holds it any more (the session was "
        "closed, or the object was expunged or came from another session)",
        HIGH,
    ),
    Rule(
        DETACHED,
        ("other-session",),
        "the object was loaded by one session and handed to another, which refuses it; "
        "merge() gives the other session its own copy",
        MEDIUM,
    ),
    Rule(
        SERIALIZATION,
        ("lazy-raise",),
        "a serializer read a relationship that lazy='raise' forbids loading",
        HIGH,
        any_of=("pydantic-extract", "serializer"),
    ),
    Rule(
        LAZY,
        ("lazy-raise",),
        "a relationship configured with lazy='raise' was read before it was loaded",
        HIGH,
    ),
    Rule(
        DEFERRED,
        ("deferred-raise",),
        "a deferred column was read before it was loaded",
        HIGH,
    ),
    # MissingGreenlet: which IO, started from where.
    Rule(
        ASYNC_DRIVER,
        ("missing-greenlet", "pool-connect", "sync-engine-ctor"),
        "a plain create_engine() with an asyncio driver tried to open a connection from "
        "synchronous code",
        HIGH,
        unless=("sync-engine-attr", "greenlet-spawn"),
    ),
    Rule(
        SYNC_API,
        ("missing-greenlet", "sync-engine-attr"),
        "the synchronous engine or session behind an asyncio one was used directly, "
        "outside run_sync()",
        HIGH,
    ),
    Rule(
        SYNC_API,
        ("missing-greenlet", "ddl"),
        "metadata.create_all()/drop_all() ran its DDL on a synchronous connection outside "
        "run_sync()",
        MEDIUM,
        unless=("pool-connect",),
        alternatives=(ASYNC_DRIVER,),
    ),
    Rule(
        ASYNC_DRIVER,
        ("missing-greenlet", "async-url"),
        "inspect() connected through a plain Engine whose URL names an asyncio driver "
        "(inspecting an AsyncEngine raises NoInspectionAvailable instead)",
        MEDIUM,
        any_of=("inspector", "inspect-call"),
        alternatives=(SYNC_API,),
    ),
    Rule(
        ASYNC_DRIVER,
        ("missing-greenlet", "pool-connect"),
        "a synchronous Engine opened a connection with an asyncio driver: no AsyncEngine "
        "or AsyncSession is on the stack",
        MEDIUM,
        unless=("ext-asyncio", "attribute-get", "greenlet-spawn"),
        alternatives=(SYNC_API,),
    ),
    Rule(
        ASYNC_DRIVER,
        ("missing-greenlet", "sync-engine-ctor", "async-url"),
        "the text creates a plain create_engine() and names an asyncio driver",
        MEDIUM,
        unless=("attribute-get", "sync-engine-attr"),
        alternatives=(SYNC_API,),
    ),
    Rule(
        SYNC_API,
        ("create-all-call", "async-api"),
        "metadata.create_all()/drop_all() is called directly where an AsyncEngine is in use; "
        "it has to go through run_sync()",
        MEDIUM,
    ),
    Rule(
        HOOK,
        ("committed-state",),
        "SQL was attempted from inside a commit that had already finished: an after_commit "
        "listener (or what it calls) loaded an attribute or ran a query",
        MEDIUM,
    ),
    Rule(
        HOOK,
        ("event-dispatch",),
        "an ORM event listener, validator or hybrid property triggered the IO",
        HIGH,
        any_of=IO_SIGNS,
    ),
    Rule(
        REPR,
        ("missing-greenlet",),
        "formatting the object (repr, str, a log message) read an attribute that needed IO",
        HIGH,
        any_of=("repr", "repr-raised", "logging-error", "logging-frames"),
    ),
    Rule(
        SERIALIZATION,
        ("pydantic-extract", "missing-greenlet"),
        "pydantic read an attribute that was not loaded (expired, or a lazy relationship) "
        "while building a model from the object",
        HIGH,
    ),
    Rule(
        SERIALIZATION,
        ("serializer",),
        "a serializer read an attribute that was not loaded (expired, or a lazy "
        "relationship) while building its output",
        HIGH,
        any_of=(*IO_SIGNS, "attribute-get"),
    ),
    Rule(
        DEFERRED,
        ("deferred-load",),
        "a deferred column was read, and loading it needs a SELECT",
        HIGH,
        any_of=IO_SIGNS,
    ),
    Rule(
        LAZY,
        ("missing-greenlet",),
        "a relationship was read without being loaded, so its lazy loader ran a SELECT",
        HIGH,
        any_of=("lazy-load", "lazy-sql", "lazy-message"),
    ),
    Rule(
        ROLLBACK,
        ("missing-greenlet", "expired-load", "rollback"),
        "an expired attribute was reloaded after a failed statement or a rollback, which "
        "expires every object in the session",
        MEDIUM,
        alternatives=(EXPIRED,),
    ),
    Rule(
        SERVER_GENERATED,
        ("missing-greenlet", "partial-reload", "expired-load"),
        "only some columns were expired, as a flush leaves the ones the database "
        "generates (server_default, onupdate)",
        MEDIUM,
        alternatives=(EXPIRED,),
    ),
    Rule(
        DEFERRED,
        ("missing-greenlet", "partial-reload", "bulky-name"),
        "the SELECT loads only some columns of a row already loaded, named like large "
        "values: a deferred column, or columns the database generates left expired by a "
        "flush; the frames that would tell them apart are not in the text",
        LOW,
        alternatives=(SERVER_GENERATED, EXPIRED),
    ),
    Rule(
        SERVER_GENERATED,
        ("missing-greenlet", "partial-reload"),
        "the SELECT loads only some columns of a row already loaded: columns the database "
        "generates, left expired by a flush (the more common cause), or a deferred column; "
        "the frames that would tell them apart are not in the text",
        LOW,
        alternatives=(DEFERRED, EXPIRED),
    ),
    Rule(
        SERVER_GENERATED,
        ("missing-greenlet", "server-generated"),
        "a column the database fills in (server_default, onupdate) was read after the "
        "INSERT or UPDATE left it expired",
        MEDIUM,
        alternatives=(EXPIRED,),
    ),
    Rule(
        SERVER_GENERATED,
        ("missing-greenlet", "expired-load", "timestamp-name"),
        "an expired attribute named like a database-maintained timestamp was reloaded",
        LOW,
        alternatives=(EXPIRED,),
    ),
    Rule(
        EXPIRED,
        ("missing-greenlet", "expired-load", "commit"),
        "a commit expired the object's attributes, and reading one reloads it",
        HIGH,
    ),
    Rule(
        EXPIRED,
        ("missing-greenlet", "expired-load"),
        "an expired attribute was reloaded; a commit (expire_on_commit=True) is the usual cause",
        MEDIUM,
        alternatives=(SERVER_GENERATED, ROLLBACK),
    ),
    Rule(
        SYNC_API,
        ("missing-greenlet", "session-api"),
        "a synchronous Session method was called directly from async code",
        MEDIUM,
        unless=("attribute-get",),
    ),
    Rule(
        EXPIRED,
        ("missing-greenlet", "commit"),
        "the text shows a commit before the failing read; the frames that would confirm "
        "an expired-attribute reload are not in it",
        LOW,
        alternatives=(LAZY,),
    ),
    Rule(
        LAZY,
        ("lazy-load", "final-line-missing"),
        "the traceback runs through a relationship's lazy loader; the final line that would "
        "confirm MissingGreenlet is cut off",
        LOW,
    ),
    Rule(
        DEFERRED,
        ("deferred-load", "final-line-missing"),
        "the traceback runs through a deferred column's loader; the final line is cut off",
        LOW,
    ),
    Rule(
        EXPIRED,
        ("expired-load", "final-line-missing"),
        "the traceback runs through the reload of an expired attribute; the final line is cut off",
        LOW,
        alternatives=(SERVER_GENERATED, ROLLBACK),
    ),
    Rule(
        LAZY,
        ("missing-greenlet", "relationship-code"),
        "MissingGreenlet where the code works with relationships: an unloaded one read "
        "lazily is the usual cause; the frames that would confirm it are missing",
        LOW,
        unless=("commit",),
        alternatives=(EXPIRED,),
    ),
    Rule(
        LAZY,
        ("missing-greenlet", "attribute-get"),
        "an attribute read needed IO; the loader frames that would say which kind are cut off",
        LOW,
        alternatives=(EXPIRED,),
    ),
    Rule(
        HOOK,
        ("missing-greenlet", "hook-words"),
        "the text speaks of an event hook, callback or validator around the failing read",
        LOW,
    ),
)


def first_match(kinds: set[str]) -> Rule | None:
    """The first rule of the table whose evidence is all in ``kinds``."""
    for rule in RULES:
        if rule.matches(kinds):
            return rule
    return None

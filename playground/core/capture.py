"""Watching an experiment without changing it: SQL via engine events, state via inspect().

Nothing here performs IO on the objects it looks at; a snapshot that loaded an expired
attribute would hide the very error the lab is there to show.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from typing import Any, cast

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import MissingGreenlet, SQLAlchemyError
from sqlalchemy.orm import InstanceState, ORMExecuteState, Session
from sqlalchemy.sql import ClauseElement

from .results import ExceptionInfo, ExceptionLink, SqlStatement, StateSnapshot

MAX_PARAMETER_CHARS = 200


def format_parameters(parameters: Any) -> str:
    """Render bound parameters compactly, cut to a readable length."""
    if parameters is None or parameters == () or parameters == {}:
        return ""
    text = repr(parameters)
    if len(text) > MAX_PARAMETER_CHARS:
        text = text[: MAX_PARAMETER_CHARS - 1] + "…"
    return text


class SqlRecorder:
    """Collects the statements an engine runs while a recording is open.

    It listens to Core engine events (``before_cursor_execute``, ``commit``,
    ``rollback``), the same hooks ``echo=True`` uses, so what it shows is what the
    driver was really handed.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._statements: list[SqlStatement] | None = None
        self.step = ""
        self.orm_statements: list[tuple[SqlStatement, int]] = []
        """ORM statements noted before execution, each with the list position it had then."""
        self.failures: list[tuple[str, int]] = []
        """Each failed execution's step and list position: where a lost statement belongs."""
        self._listeners = (
            ("begin", self._on_begin),
            ("before_cursor_execute", self._on_execute),
            ("commit", self._on_commit),
            ("rollback", self._on_rollback),
            ("handle_error", self._on_error),
        )
        for name, listener in self._listeners:
            event.listen(engine, name, listener)
        event.listen(Session, "do_orm_execute", self._on_orm_execute)

    def start(self) -> None:
        self._statements = []
        self.orm_statements = []
        self.failures = []
        self.step = ""

    def stop(self) -> tuple[SqlStatement, ...]:
        statements = tuple(self._statements or ())
        self._statements = None
        return statements

    def add(self, statement: SqlStatement) -> None:
        if self._statements is not None:
            self._statements.append(statement)

    def _on_execute(
        self,
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        self.add(SqlStatement(self.step, statement.strip(), format_parameters(parameters)))

    def _on_orm_execute(self, state: ORMExecuteState) -> None:
        """Note each ORM statement before a connection is sought.

        When the greenlet bridge fails while checking out a connection (a pool
        pre-ping, say), this is the only trace of the SELECT that was about to run.
        """
        if self._statements is None or state.session.bind is not self._engine:
            return
        statement = cast(ClauseElement, state.statement)
        compiled = statement.compile(dialect=self._engine.dialect)
        noted = SqlStatement(self.step, str(compiled).strip(), format_parameters(compiled.params))
        self.orm_statements.append((noted, len(self._statements)))

    def _on_error(self, context: Any) -> None:
        """Remember where a failed execution stood, so its lost statement can go there."""
        if self._statements is not None:
            self.failures.append((self.step, len(self._statements)))

    def _on_begin(self, conn: Any) -> None:
        self.add(SqlStatement(self.step, "BEGIN (implicit)"))

    def _on_commit(self, conn: Any) -> None:
        self.add(SqlStatement(self.step, "COMMIT"))

    def _on_rollback(self, conn: Any) -> None:
        self.add(SqlStatement(self.step, "ROLLBACK"))

    def close(self) -> None:
        for name, listener in self._listeners:
            event.remove(self._engine, name, listener)
        event.remove(Session, "do_orm_execute", self._on_orm_execute)


def instance_state(obj: object) -> InstanceState[Any]:
    """``inspect(obj)`` typed as the instance state it is (2.0's stubs allow None)."""
    return cast("InstanceState[Any]", inspect(obj))


def state_of(obj: object) -> str:
    """Name the ORM lifecycle state of ``obj`` (transient, pending, persistent, …)."""
    insp = inspect(obj)
    for name in ("transient", "pending", "persistent", "deleted", "detached"):
        if getattr(insp, name):
            return name
    return "unknown"


def snapshot(step: str, obj: object) -> StateSnapshot:
    """Record ``obj``'s state, loaded values and expired attributes, without IO."""
    insp = instance_state(obj)
    keys = [*insp.mapper.column_attrs.keys(), *insp.mapper.relationships.keys()]
    loaded = tuple((key, _short_repr(insp.dict[key])) for key in keys if key in insp.dict)
    expired = insp.expired_attributes
    identity = "" if insp.identity is None else ", ".join(map(repr, insp.identity))
    return StateSnapshot(
        step=step,
        state=state_of(obj),
        identity=identity,
        loaded=loaded,
        expired=tuple(sorted(expired)),
        unloaded=tuple(sorted(key for key in insp.unloaded if key not in expired)),
    )


def _short_repr(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chain(exc: BaseException) -> Iterator[tuple[BaseException, str]]:
    relation = "raised"
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current, relation
        if current.__cause__ is not None:
            current, relation = current.__cause__, "caused by"
        elif current.__context__ is not None and not current.__suppress_context__:
            current, relation = current.__context__, "while handling"
        else:
            current = None


def describe_exception(exc: BaseException) -> ExceptionInfo:
    """Turn a live exception into plain data: its chain, traceback and SQLAlchemy extras.

    An exception that already carries that data as ``exception_info`` (one reported by
    a child process) is described by it, so the lab shows the child's own chain.
    """
    reported = getattr(exc, "exception_info", None)
    if isinstance(reported, ExceptionInfo):
        return reported
    chain = tuple(
        ExceptionLink(
            type_name=f"{type(link).__module__}.{type(link).__qualname__}",
            message=_message(link),
            relation=relation,
            is_missing_greenlet=isinstance(link, MissingGreenlet),
        )
        for link, relation in _chain(exc)
    )
    statement = getattr(exc, "statement", None)
    params = getattr(exc, "params", None)
    code = exc.code if isinstance(exc, SQLAlchemyError) else None
    return ExceptionInfo(
        chain=chain,
        traceback="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
        code=code,
        statement=statement.strip() if isinstance(statement, str) else None,
        parameters=format_parameters(params) if statement else None,
    )


def _message(exc: BaseException) -> str:
    """The exception's message without SQLAlchemy's appended background link."""
    text = str(exc)
    marker = "\n(Background on this error at:"
    if marker in text:
        text = text.split(marker, 1)[0]
    marker = " (Background on this error at:"
    if marker in text:
        text = text.split(marker, 1)[0]
    return text.strip()

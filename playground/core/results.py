"""Plain records of what an experiment did: settings, SQL, object states and outcome.

They are frozen dataclasses of strings and numbers so any front end (the Textual app,
a Markdown export, a test) can show them without touching SQLAlchemy again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

LOGGING_ERROR = "--- Logging error ---"
"""What logging prints to stderr when formatting a record raised (an error it swallowed)."""


@dataclass(frozen=True)
class SqlStatement:
    """One statement the database saw (or, if ``attempted``, was about to see)."""

    step: str
    sql: str
    parameters: str = ""
    attempted: bool = False


@dataclass(frozen=True)
class StateSnapshot:
    """The mapped object's state after one step, read with ``inspect()`` and no IO."""

    step: str
    state: str
    identity: str
    loaded: tuple[tuple[str, str], ...]
    expired: tuple[str, ...]
    unloaded: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExceptionLink:
    """One exception in a chain; ``relation`` says how it joins the one before it."""

    type_name: str
    message: str
    relation: str
    is_missing_greenlet: bool


@dataclass(frozen=True)
class ExceptionInfo:
    """An exception as raised, with its chain (outermost first) and plain traceback."""

    chain: tuple[ExceptionLink, ...]
    traceback: str
    code: str | None = None
    statement: str | None = None
    parameters: str | None = None

    @property
    def outer(self) -> ExceptionLink:
        return self.chain[0]

    @property
    def involves_missing_greenlet(self) -> bool:
        return any(link.is_missing_greenlet for link in self.chain)

    @property
    def wrapped_missing_greenlet(self) -> bool:
        """True when MissingGreenlet is in the chain but not the exception raised."""
        return self.involves_missing_greenlet and not self.outer.is_missing_greenlet


@dataclass(frozen=True)
class Outcome:
    """What the final read gave: a value, or an exception."""

    expression: str
    value: str | None = None
    error: ExceptionInfo | None = None
    printed: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class ExperimentResult:
    """Everything one run of a scenario did, in the order it happened."""

    seq: int
    scenario: str
    started_at: datetime
    settings: tuple[tuple[str, bool], ...]
    user_input: str
    steps: tuple[str, ...]
    outcome: Outcome
    committed: tuple[tuple[int, str], ...]
    sql: tuple[SqlStatement, ...] = ()
    states: tuple[StateSnapshot, ...] = ()
    duration_ms: float = 0.0
    sqlalchemy_version: str = ""
    backend: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    key_name: str = "uid"
    table: str = "playground_users"
    failed_step: str = ""
    """The step that raised, before any recovery rollback ran (empty on success)."""
    stderr: str = ""
    """What the experiment wrote to stderr, such as a logging error, captured."""

    def setting(self, key: str) -> bool:
        return dict(self.settings)[key]


@dataclass(frozen=True)
class Fix:
    """One way out of the error: a label and the code to write."""

    label: str
    code: str


@dataclass(frozen=True)
class Explanation:
    """The lab's own words on an outcome: a headline, why, and the fixes."""

    headline: str
    short: str = ""
    why: tuple[str, ...] = ()
    fixes: tuple[Fix, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Script:
    """A standalone program; ``marked`` are the 1-based lines a setting changes."""

    text: str
    marked: frozenset[int] = frozenset()

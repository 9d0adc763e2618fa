"""Words shared by every scenario: how an exception was raised, where to read more.

Versions and drivers differ in how MissingGreenlet reaches the caller, so these
sentences are built from what was really raised, never from what was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy

from .results import ExceptionInfo, ExperimentResult, Explanation, Fix


def sqlalchemy_series() -> str:
    """The installed SQLAlchemy's major and minor digits, as its error links use them."""
    major, minor = sqlalchemy.__version__.split(".")[:2]
    return f"{major}{minor}"


def error_link(code: str) -> str:
    """The error's page for the installed SQLAlchemy, e.g. https://sqlalche.me/e/21/xd2s."""
    return f"https://sqlalche.me/e/{sqlalchemy_series()}/{code}"


def short_type(type_name: str) -> str:
    return type_name.rsplit(".", 1)[-1]


TRANSACTION_MARKERS = ("BEGIN (implicit)", "COMMIT", "ROLLBACK")
"""What the SQL list records besides statements: transaction boundaries."""

NO_SPAWNED_GREENLET = (
    "There is always a current greenlet; what this read lacked is the one `greenlet_spawn()` "
    "sets up around each awaited session call (and around `run_sync`), in which SQLAlchemy "
    "may await the driver. Plain code outside such a call, even inside an `async def` you "
    "await, does not run in it, so SQLAlchemy refused the await."
)
"""Why MissingGreenlet happens, true of every run: the ``await`` keyword is not the test."""

FRAME = re.compile(r'^  File "(?P<path>[^"]+)", line \d+, in (?P<function>\S+)$', re.MULTILINE)
AWAIT_HELPERS = ("await_", "await_only")


@dataclass(frozen=True)
class RefusedAwait:
    """Where SQLAlchemy refused to await, read from the captured traceback."""

    caller: str
    """The function that asked for the await, e.g. ``sqlalchemy/connectors/asyncio.py, in
    _aenter_cursor``."""
    phase: str
    """What SQLAlchemy was doing then: ``cursor``, ``execute``, ``connect`` or ``ping``."""


def _sqlalchemy_path(path: str) -> str:
    """A frame's file from the ``sqlalchemy/`` package on, or its last part elsewhere."""
    marker = "sqlalchemy/"
    return path[path.rindex(marker) :] if marker in path else path.rsplit("/", 1)[-1]


def refused_await(error: ExceptionInfo) -> RefusedAwait | None:
    """Find the frame that asked SQLAlchemy to await where it could not.

    The traceback lists the innermost exception first; in it, the frame before the last
    ``await_``/``await_only`` is the adapter call that needed IO, and the frames above it
    say which stage of the statement it was in.
    """
    if not error.involves_missing_greenlet:
        return None
    first = re.split(r"\n(?:The above exception|During handling of the above)", error.traceback)[0]
    frames = [(m["path"], m["function"]) for m in FRAME.finditer(first)]
    awaits = [i for i, (_, function) in enumerate(frames) if function in AWAIT_HELPERS]
    if not awaits or awaits[-1] == 0:
        return None
    path, function = frames[awaits[-1] - 1]
    names = {function for _, function in frames}
    if names & {"_init_compiled", "create_cursor", "_aenter_cursor"}:
        phase = "cursor"
    elif names & {"do_ping", "_do_ping_w_event", "ping"}:
        phase = "ping"
    elif names & {"do_execute", "do_executemany", "_exec_single_context"}:
        phase = "execute"
    elif names & {"connect", "_create_connection", "__connect"}:
        phase = "connect"
    else:
        phase = ""
    return RefusedAwait(f"{_sqlalchemy_path(path)}, in {function}", phase)


PHASES = {
    "cursor": "while the driver's cursor was being created, before SQLAlchemy had built the "
    "statement's execution context",
    "execute": "inside the driver call that runs the statement, after the execution context "
    "was built",
    "connect": "while the pool opened a new connection, before any statement",
    "ping": "while the pool pre-pinged the connection it was checking out, before any statement",
}


def how_raised(error: ExceptionInfo) -> tuple[str, ...]:
    """Say whether MissingGreenlet came bare or wrapped, and why, from where it was raised.

    SQLAlchemy wraps any error raised while it builds a statement's execution context in
    ``StatementError``; errors from the driver call itself (other than DBAPI errors) and
    from checking out a connection pass through as they are.
    """
    if not error.involves_missing_greenlet:
        return ()
    site = refused_await(error)
    where = ""
    if site is not None:
        phase = PHASES.get(site.phase, "")
        where = f"The refused await was asked for by `{site.caller}`" + (
            f", {phase}." if phase else "."
        )
    if not error.wrapped_missing_greenlet:
        because = (
            " SQLAlchemy passes an error raised there through as it is."
            if site is not None and site.phase in PHASES
            else ""
        )
        return (
            "Raised as MissingGreenlet itself, so `except MissingGreenlet:` catches it.",
            *((where + because,) if where else ()),
        )
    outer = short_type(error.outer.type_name)
    because = (
        f" SQLAlchemy wraps any error raised at that stage in {outer}, with the SQL attached."
        if site is not None and site.phase == "cursor"
        else ""
    )
    return (
        f"Raised as {outer} whose cause is MissingGreenlet: `except MissingGreenlet:` would "
        f"NOT catch it; `except {outer}:` would, with the real reason in `__cause__`.",
        *((where + because,) if where else ()),
    )


def warning_note(result: ExperimentResult) -> tuple[str, ...]:
    """Explain the "coroutine ... was never awaited" warning, only when this run left one."""
    lines = [line for line in result.stderr.splitlines() if "was never awaited" in line]
    if not lines:
        return ()
    warned = lines[0].split(": ", 1)[-1]
    site = refused_await(result.outcome.error) if result.outcome.error else None
    how = (
        " The adapter creates the cursor through an awaited context manager "
        f"(`{site.caller}`): SQLAlchemy closed the awaitable it refused, but the driver "
        "coroutine that awaitable wraps was never started, and Python warns when it is freed."
        if site is not None and site.phase == "cursor"
        else " SQLAlchemy closed the awaitable it refused; the driver coroutine behind it was "
        "never started, and Python warns when it is freed."
    )
    return (
        f"This run also left the warning `{warned}` (the lab caught it instead of letting it "
        "scribble on the screen). It is a leftover of the same refusal, not a second bug." + how,
    )


def reference(error: ExceptionInfo) -> tuple[str, ...]:
    """Point to SQLAlchemy's page on this error, for the installed version."""
    return (f"More: {error_link(error.code)}",) if error.code else ()


CONNECTION_LOST_TYPES = (
    "ConnectionDoesNotExistError",
    "ConnectionResetError",
    "ConnectionAbortedError",
    "BrokenPipeError",
)
CONNECTION_LOST_WORDS = (
    "connection was closed",
    "connection is closed",
    "server closed the connection",
    "connection reset",
    "broken pipe",
    "lost connection",
    "terminating connection",
)


def connection_lost(error: ExceptionInfo) -> bool:
    """True when the chain says the connection to the database broke (not a refusal)."""
    return any(
        short_type(link.type_name) in CONNECTION_LOST_TYPES
        or any(words in link.message.lower() for words in CONNECTION_LOST_WORDS)
        for link in error.chain
    )


def commit_outcome_unknown(result: ExperimentResult) -> bool:
    """True when the connection broke after COMMIT was sent: the client cannot know."""
    error = result.outcome.error
    if error is None or not connection_lost(error):
        return False
    step = result.failed_step
    return any(s.step == step and s.sql == "COMMIT" for s in result.sql)


def committed_rows(result: ExperimentResult) -> str:
    """One sentence on which rows reached the database, whatever the outcome."""
    if not result.committed:
        if commit_outcome_unknown(result):
            return (
                f"Whether the row was committed is UNKNOWN: the connection broke while "
                f"`{result.failed_step}` was waiting for the COMMIT's answer, so the server "
                "may have committed it or not. Look for it in the table before trying again."
            )
        return "Nothing was committed."
    keys = ", ".join(str(key) for key, _ in result.committed)
    plural = "s" if len(result.committed) > 1 else ""
    where = (
        "the users table shows it"
        if result.table == "playground_users"
        else f"it is in {result.table}, not in the users table"
    )
    return f"The row{plural} WAS committed ({result.key_name} {keys}): {where}."


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def success(result: ExperimentResult, short: str, why: str) -> Explanation:
    """The words for a read that worked."""
    return Explanation(f"{result.outcome.expression} = {result.outcome.value}", short, (why,))


def failed_step(result: ExperimentResult) -> str:
    """The step that raised, as the lab recorded it before any recovery rollback."""
    return result.failed_step or (result.steps[-1] if result.steps else "?")


def failure(result: ExperimentResult, extra: tuple[str, ...] = ()) -> Explanation:
    """The words for an error the scenario did not set out to show (locked file, lost server)."""
    error = result.outcome.error
    assert error is not None
    outer = short_type(error.outer.type_name)
    step = failed_step(result)
    after = (
        result.steps[len(result.steps) - result.steps[::-1].index(step) :]
        if step in result.steps
        else ()
    )
    recovered = (
        " The lab then rolled the session back, so the next commit starts clean."
        if "await session.rollback()" in after
        else ""
    )
    return Explanation(
        f"{outer}: {first_line(error.outer.message)}",
        f"failed at {step}",
        (
            f"It failed at `{step}`." + recovered,
            committed_rows(result),
            *extra,
        ),
        notes=reference(error),
    )


def greenlet_error(
    result: ExperimentResult,
    headline: str,
    short: str,
    why: tuple[str, ...],
    fixes: tuple[Fix, ...],
) -> Explanation:
    """The words for a MissingGreenlet: the scenario's reasons, then what was committed,
    where and how the error was raised (bare or wrapped), any warning it left, and where
    to read more."""
    error = result.outcome.error
    assert error is not None
    reasons = (
        *why,
        f"It failed at `{failed_step(result)}`.",
        committed_rows(result),
        *how_raised(error),
    )
    return Explanation(headline, short, reasons, fixes, (*warning_note(result), *reference(error)))


def expired_by(result: ExperimentResult, attribute: str) -> str | None:
    """The step after which ``attribute`` first showed as expired, from the recorded states."""
    before: tuple[str, ...] = ()
    for state in result.states:
        if attribute in state.expired and attribute not in before:
            return state.step
        before = state.expired
    return None


def state_after(result: ExperimentResult, step: str) -> tuple[str, ...] | None:
    """The attributes expired after ``step`` (its first snapshot), or None if not recorded."""
    return next((state.expired for state in result.states if state.step == step), None)


def attempted_reload(result: ExperimentResult) -> str:
    """Say what the refused read tried to run, from the SQL list of the failed step."""
    step = failed_step(result)
    tried = [s for s in result.sql if s.attempted and s.step == step]
    if not tried:
        return f"`{step}` needed a SELECT to load what was missing."
    verb = first_line(tried[0].sql).split(" ", 1)[0]
    return (
        f"`{step}` made the ORM try a {verb} to load it: the SQL list shows it, marked "
        "attempted; it never reached the database."
    )

"""Words shared by every scenario: how an exception was raised, where to read more.

Versions and drivers differ in how MissingGreenlet reaches the caller, so these
sentences are built from what was really raised, never from what was expected.
"""

from __future__ import annotations

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


def how_raised(error: ExceptionInfo) -> tuple[str, ...]:
    """Say whether MissingGreenlet came bare or wrapped, and what that means for ``except``."""
    if not error.involves_missing_greenlet:
        return ()
    if not error.wrapped_missing_greenlet:
        return ("Raised as MissingGreenlet itself, so `except MissingGreenlet:` catches it.",)
    outer = short_type(error.outer.type_name)
    return (
        f"Raised as {outer} whose cause is MissingGreenlet: `except MissingGreenlet:` would "
        f"NOT catch it; `except {outer}:` would, with the real reason in `__cause__`.",
    )


def reference(error: ExceptionInfo) -> tuple[str, ...]:
    """Point to SQLAlchemy's page on this error, for the installed version."""
    return (f"More: {error_link(error.code)}",) if error.code else ()


def committed_rows(result: ExperimentResult) -> str:
    """One sentence on which rows reached the database, whatever the outcome."""
    if not result.committed:
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


def failure(result: ExperimentResult, extra: tuple[str, ...] = ()) -> Explanation:
    """The words for an error the scenario did not set out to show (locked file, lost server)."""
    error = result.outcome.error
    assert error is not None
    outer = short_type(error.outer.type_name)
    step = result.steps[-1] if result.steps else "?"
    return Explanation(
        f"{outer}: {first_line(error.outer.message)}",
        f"failed at {step}",
        (
            f"It failed at `{step}`; the session was rolled back where needed, and the next "
            "commit starts clean.",
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
    how the error was raised (bare or wrapped) and where to read more."""
    error = result.outcome.error
    assert error is not None
    reasons = (*why, committed_rows(result), *how_raised(error))
    return Explanation(headline, short, reasons, fixes, reference(error))

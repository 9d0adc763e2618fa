"""What real SQLAlchemy does in each scenario, written down once for the tests.

Each function takes the settings and returns None when the read succeeds, or the kind
of error it ends in: "MissingGreenlet" (bare, or as the cause of a StatementError,
whichever the installed version raises), or an exception class name.

"LoggingError" is the one kind that is not an exception: the read returned normally,
but Python's logging caught an error while formatting a record, printed its
"--- Logging error ---" report to stderr (captured in ``result.stderr``) and dropped
the line. The program went on, so the script exits 0 and prints the same value.
"""

from __future__ import annotations

import sqlalchemy

from playground.core.results import ExperimentResult

VALUE_VARIES = {"server-defaults"}
"""Scenarios whose value read differs run to run (a database timestamp): only its kind counts."""


def after_commit(s: dict[str, bool]) -> str | None:
    return "MissingGreenlet" if s["expire_on_commit"] and not s["auto_refresh"] else None


def closed_session(s: dict[str, bool]) -> str | None:
    broken = s["expire_on_commit"] and not s["refresh_in_block"]
    return "DetachedInstanceError" if broken else None


def lazy_relationship(s: dict[str, bool]) -> str | None:
    if s["selectinload"] or s["refresh_posts"]:
        return None
    if s["lazy_raise"]:
        return "InvalidRequestError"
    return None if s["awaitable_attrs"] else "MissingGreenlet"


def server_defaults(s: dict[str, bool]) -> str | None:
    return None if s["eager_defaults"] or s["refresh_after_update"] else "MissingGreenlet"


def rollback(s: dict[str, bool]) -> str | None:
    if s["read_before"]:
        return "MissingGreenlet" if s["expire_on_commit"] else None
    return None if s["refresh_after_rollback"] else "MissingGreenlet"


def run_sync(s: dict[str, bool]) -> str | None:
    return "MissingGreenlet" if s["expire_on_commit"] and not s["inside_run_sync"] else None


def deferred_column(s: dict[str, bool]) -> str | None:
    fixed = s["undefer"] or s["awaitable_attrs"] or s["refresh_column"]
    return None if fixed else "MissingGreenlet"


def serialization(s: dict[str, bool]) -> str | None:
    """pydantic reports the MissingGreenlet as a ValidationError without a chain."""
    if s["just_committed"] and s["expire_on_commit"]:
        return "ValidationError"  # the commit expired every column: the fixes cannot help
    return None if s["selectinload"] or s["flat_model"] else "ValidationError"


def repr_logging(s: dict[str, bool]) -> str | None:
    if not s["expire_on_commit"] or s["loaded_only_repr"] or s["refresh_after_commit"]:
        return None
    return "MissingGreenlet" if s["fstring"] else "LoggingError"


def concurrent_session(s: dict[str, bool]) -> str | None:
    """Measured 50 times per setting, both backends, both series: never varied.

    Only a session that awaits while provisioning its connection (the pre-ping) refuses
    the second task; a held connection, or a pool that hands one over without IO, lets
    the adapter queue the two statements.
    """
    refused = s["pool_pre_ping"] and not s["connection_held"] and not s["session_per_task"]
    return "InvalidRequestError" if refused else None


def sync_engine_api(s: dict[str, bool]) -> str | None:
    if s["run_sync"]:
        return None
    return "NoInspectionAvailable" if s["use_inspect"] else "AttributeError"


def async_driver_sync_engine(s: dict[str, bool]) -> str | None:
    return None if s["sync_driver"] or s["async_engine"] else "MissingGreenlet"


def greenlet_missing(s: dict[str, bool]) -> str | None:
    """2.1 refuses at ``import sqlalchemy.ext.asyncio``; 2.0 at the first connect."""
    if s["greenlet_installed"]:
        return None
    return "ValueError" if sqlalchemy.__version__.startswith("2.0.") else "ImportError"


EXPECTED = {
    "after-commit": after_commit,
    "closed-session": closed_session,
    "lazy-relationship": lazy_relationship,
    "server-defaults": server_defaults,
    "rollback": rollback,
    "run-sync": run_sync,
    "deferred-column": deferred_column,
    "serialization": serialization,
    "repr-logging": repr_logging,
    "concurrent-session": concurrent_session,
    "sync-engine-api": sync_engine_api,
    "async-driver-sync-engine": async_driver_sync_engine,
    "greenlet-missing": greenlet_missing,
}


def outcome_kind(result: ExperimentResult) -> str | None:
    """The kind of ending a result really had, in the terms EXPECTED uses."""
    error = result.outcome.error
    if error is None:
        return "LoggingError" if "--- Logging error ---" in result.stderr else None
    if error.involves_missing_greenlet:
        return "MissingGreenlet"
    return error.outer.type_name.rsplit(".", 1)[-1]

"""What real SQLAlchemy does in each scenario, written down once for the tests.

Each function takes the settings and returns None when the read succeeds, or the kind
of error it ends in: "MissingGreenlet" (bare, or as the cause of a StatementError,
whichever the installed version raises), or an exception class name.
"""

from __future__ import annotations

from playground.core.results import ExperimentResult


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


EXPECTED = {
    "after-commit": after_commit,
    "closed-session": closed_session,
    "lazy-relationship": lazy_relationship,
    "server-defaults": server_defaults,
    "rollback": rollback,
    "run-sync": run_sync,
}


def outcome_kind(result: ExperimentResult) -> str | None:
    """The kind of ending a result really had, in the terms EXPECTED uses."""
    error = result.outcome.error
    if error is None:
        return None
    if error.involves_missing_greenlet:
        return "MissingGreenlet"
    return error.outer.type_name.rsplit(".", 1)[-1]

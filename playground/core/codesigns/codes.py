"""The rule codes of ``playground check``: one code per pitfall family.

The prefix ``AOR`` (async ORM) is used by no flake8 plugin or ruff rule set we could
find, and keeps flake8's three-letters-three-digits form so ``# noqa: AOR101`` reads
like any other suppression.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "AOR"


@dataclass(frozen=True)
class Code:
    """One rule code: its pitfall id, a title, and the one-line fix printed under a finding."""

    code: str
    pitfall: str
    title: str
    fix: str


CODES: tuple[Code, ...] = (
    Code(
        "AOR101",
        "expired-after-commit",
        "attribute read after commit() expired it",
        "build the session factory with expire_on_commit=False, or await session.refresh(obj)",
    ),
    Code(
        "AOR102",
        "lazy-relationship",
        "relationship read that no loader option loaded",
        "add .options(selectinload(Model.rel)) to the query, or await obj.awaitable_attrs.rel",
    ),
    Code(
        "AOR103",
        "serialization-lazy",
        "pydantic / FastAPI serializes an attribute that is not loaded",
        "load what the schema reads (selectinload, refresh) before model_validate or return",
    ),
    Code(
        "AOR104",
        "server-default-onupdate",
        "server-generated column read after the flush that expired it",
        'set __mapper_args__ = {"eager_defaults": True}, or await session.refresh(obj)',
    ),
    Code(
        "AOR105",
        "after-rollback",
        "attribute read after rollback() expired it",
        "read the values you need before the commit that may fail, or refresh after rollback",
    ),
    Code(
        "AOR106",
        "closed-session-detached",
        "unloaded attribute read after its session closed",
        "load or refresh inside the `async with session` block, or expire_on_commit=False",
    ),
    Code(
        "AOR107",
        "repr-or-logging",
        "__repr__ / __str__ reads an unloaded attribute when logged or formatted",
        "let __repr__ read only inspect(self).identity or loaded values (inspect(self).dict)",
    ),
    Code(
        "AOR108",
        "deferred-column",
        "deferred column read that no undefer() loaded",
        "add .options(undefer(Model.col)) to the query, or await obj.awaitable_attrs.col",
    ),
    Code(
        "AOR109",
        "sync-api-on-async",
        "synchronous API called with an async engine, connection or session",
        "async with engine.begin() as conn: await conn.run_sync(Base.metadata.create_all)",
    ),
    Code(
        "AOR110",
        "async-driver-in-sync-engine",
        "create_engine() given an async driver URL",
        "use create_async_engine() for this URL, or a sync driver (postgresql+psycopg://)",
    ),
    Code(
        "AOR111",
        "concurrent-session-use",
        "concurrent tasks share one session",
        "give each task its own session: async with Session() as session: ... inside the task",
    ),
    Code(
        "AOR112",
        "greenlet-missing",
        "sqlalchemy.ext.asyncio used but greenlet is not a declared requirement",
        'declare "sqlalchemy[asyncio]" (or greenlet) in the project requirements',
    ),
)

BY_CODE: dict[str, Code] = {code.code: code for code in CODES}
BY_PITFALL: dict[str, Code] = {code.pitfall: code for code in CODES}


def code_for(pitfall: str) -> str:
    """The rule code of a pitfall id."""
    return BY_PITFALL[pitfall].code


def scenario_for(pitfall: str) -> str | None:
    """The live scenario that shows this pitfall, from the diagnosis's ``Pitfall`` record.

    Imported here rather than at the top: the diagnosis reads pasted code with this
    package, so the two must not import each other while loading.
    """
    from ..diagnose.pitfalls import BY_ID

    record = BY_ID.get(pitfall)
    return record.scenario if record is not None else None


def live_command(pitfall: str, switches: tuple[str, ...] = ()) -> str | None:
    """``playground --scenario NAME --switch``: the scenario with the switches of this variant."""
    scenario = scenario_for(pitfall)
    if scenario is None:
        return None
    flags = "".join(f" --{key.replace('_', '-')}" for key in switches)
    return f"playground --scenario {scenario}{flags}"

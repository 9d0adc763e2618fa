"""Every scenario under every combination of its switches, for real, on SQLite."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from playground.core.lab import Lab
from playground.core.scenarios import SCENARIOS

from .expected import EXPECTED, outcome_kind


def test_every_scenario_has_a_row_of_expected_outcomes():
    missing = [name for name in SCENARIOS.names() if name not in EXPECTED]
    assert not missing, f"tests/expected.py has no expected outcomes for: {', '.join(missing)}"


def all_settings():
    for scenario in SCENARIOS.values():
        if scenario.name not in EXPECTED:
            continue  # test_every_scenario_has_a_row_of_expected_outcomes says which
        keys = [option.key for option in scenario.options]
        for values in itertools.product([True, False], repeat=len(keys)):
            settings = dict(zip(keys, values, strict=True))
            label = "".join("1" if v else "0" for v in values)
            yield pytest.param(scenario.name, settings, id=f"{scenario.name}-{label}")


@pytest.mark.parametrize(("name", "settings"), list(all_settings()))
async def test_scenario_outcome(lab: Lab, name: str, settings: dict[str, bool]):
    scenario = SCENARIOS[name]
    result = await lab.run(scenario, "Foo", settings, seq=1)
    assert outcome_kind(result) == EXPECTED[name](settings), result.outcome
    assert result.committed, "every scenario commits a row before it reads"
    explanation = scenario.explain(result)
    assert explanation.headline and explanation.short
    if result.outcome.error is not None:
        assert "Traceback (most recent call last)" in result.outcome.error.traceback
        assert explanation.why, "an error always comes with a reason"
    second = await lab.run(scenario, "Bar", settings, seq=2)
    assert outcome_kind(second) == outcome_kind(result), "the lab stays usable, same result"


async def test_closed_session_error_is_not_missing_greenlet(lab: Lab):
    result = await lab.run(SCENARIOS["closed-session"], "Foo", {"expire_on_commit": True})
    error = result.outcome.error
    assert error is not None and not error.involves_missing_greenlet
    assert not [s for s in result.sql if s.step == "user.uid"], "no SQL is even attempted"
    after = next(s for s in result.states if s.step == "end of block: session.close()")
    assert after.state == "detached" and set(after.expired) == {"uid", "name"}
    assert "would not catch" in " ".join(SCENARIOS["closed-session"].explain(result).why)


async def test_lazy_relationship_attempts_the_posts_select(lab: Lab):
    result = await lab.run(SCENARIOS["lazy-relationship"], "Foo", {})
    attempted = [s for s in result.sql if s.attempted]
    assert any("playground_posts" in s.sql for s in attempted)
    loaded = next(s for s in result.states if s.step.startswith("user = (await"))
    assert "posts" in loaded.unloaded


async def test_selectinload_loads_posts_with_the_user(lab: Lab):
    result = await lab.run(SCENARIOS["lazy-relationship"], "Foo", {"selectinload": True})
    reads = [s.sql for s in result.sql if s.step.startswith("user = (await")]
    assert any("IN (" in sql and "playground_posts" in sql for sql in reads)
    assert result.outcome.value == "2"


async def test_server_defaults_insert_fetches_but_update_does_not(lab: Lab):
    result = await lab.run(SCENARIOS["server-defaults"], "Foo", {})
    inserts = [s.sql for s in result.sql if s.sql.startswith("INSERT")]
    updates = [s.sql for s in result.sql if s.sql.startswith("UPDATE")]
    assert "RETURNING" in inserts[0], "auto fetches server defaults on INSERT here"
    assert "RETURNING" not in updates[0], "auto does not fetch onupdate values on UPDATE"
    after_update = next(s for s in result.states if s.step == "await session.commit()  # UPDATE")
    assert "updated_at" in after_update.expired
    eager = await lab.run(SCENARIOS["server-defaults"], "Foo", {"eager_defaults": True})
    assert any(s.sql.startswith("UPDATE") and "RETURNING" in s.sql for s in eager.sql)


async def test_rollback_expires_even_without_expire_on_commit(lab: Lab):
    result = await lab.run(SCENARIOS["rollback"], "Foo", {"expire_on_commit": False})
    assert any(note.startswith("IntegrityError, as planned") for note in result.notes)
    after_commit = next(s for s in result.states if s.step == "await session.commit()")
    assert after_commit.expired == (), "expire_on_commit=False kept a loaded"
    after_rollback = next(s for s in result.states if s.step == "await session.rollback()")
    assert set(after_rollback.expired) == {"uid", "name"}
    assert outcome_kind(result) == "MissingGreenlet"


async def test_run_sync_runs_the_select_inside_the_greenlet(lab: Lab):
    result = await lab.run(SCENARIOS["run-sync"], "Foo", {})
    selects = [s for s in result.sql if s.sql.startswith("SELECT")]
    assert selects and not any(s.attempted for s in selects)
    assert result.outcome.value == "1"


async def test_an_older_database_gains_the_new_tables_and_keeps_its_rows(tmp_path: Path):
    """A database made by the first release (users table only) opens and keeps its data."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE playground_users (uid INTEGER NOT NULL, name VARCHAR NOT NULL, "
            "PRIMARY KEY (uid))"
        )
        conn.executemany("INSERT INTO playground_users (name) VALUES (?)", [("old",), ("older",)])
    url = f"sqlite+aiosqlite:///{path}"
    lab = Lab(url)
    await lab.open()
    assert await lab.fetch_users() == [(1, "old"), (2, "older")]
    result = await lab.run(SCENARIOS["lazy-relationship"], "new", {"selectinload": True})
    assert result.outcome.value == "2"
    await lab.close()
    with sqlite3.connect(make_url(url).database) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        names = [r[0] for r in conn.execute("SELECT name FROM playground_users ORDER BY uid")]
    assert {"playground_users", "playground_posts", "playground_stamped"} <= tables
    assert names == ["old", "older", "new"]

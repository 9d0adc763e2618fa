"""Shared fixtures: a throwaway database per test, on SQLite and on PostgreSQL.

Tests that take ``db_url`` run once per backend. PostgreSQL needs a server: set
``PLAYGROUND_TEST_PG_URL`` (see the README). Without it the PostgreSQL cases are
skipped with that reason, except under CI (``CI`` set), where a missing server fails.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from playground.core.lab import Lab
from playground.core.models import Model
from playground.ui.app import PlaygroundApp, make_app

PG_URL_VAR = "PLAYGROUND_TEST_PG_URL"


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point platformdirs at a temporary folder, so no test touches the real data dir."""
    data = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    yield data


def postgres_url() -> str:
    """The test server's URL, or a skip (a failure under CI) when there is none."""
    url = os.environ.get(PG_URL_VAR)
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(f"CI runs the PostgreSQL tests, but {PG_URL_VAR} is not set")
    pytest.skip(f"no PostgreSQL server: set {PG_URL_VAR} to run these (see README)")


async def drop_playground_tables(url: str) -> None:
    """Start from empty tables: drop only the playground's own, as its reset does."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Model.metadata.drop_all)
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> str:
    """A fresh database for this test, on the backend this run is for."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'lab.db'}"
    url = postgres_url()
    asyncio.run(drop_playground_tables(url))
    return url


@pytest.fixture
async def lab(db_url: str) -> AsyncIterator[Lab]:
    """An open lab on this test's database, closed afterwards."""
    lab = Lab(db_url)
    await lab.open()
    yield lab
    await lab.close()


@pytest.fixture
def app_factory(db_url: str, tmp_path: Path) -> Callable[..., PlaygroundApp]:
    """Build the app the way the command line does, on this test's database."""

    def build(**kwargs: object) -> PlaygroundApp:
        kwargs.setdefault("exports_dir", tmp_path)
        return make_app(db_url, **kwargs)  # type: ignore[arg-type]

    return build


@pytest.fixture
def app_factory_pg(tmp_path: Path) -> Callable[..., Awaitable[PlaygroundApp]]:
    """Build the app on the PostgreSQL test server, its tables emptied first."""

    async def build(url: str, **kwargs: object) -> PlaygroundApp:
        await drop_playground_tables(url)
        kwargs.setdefault("exports_dir", tmp_path)
        return make_app(url, **kwargs)  # type: ignore[arg-type]

    return build

"""Shared fixtures: a throwaway database per test and a user data directory of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from playground.ui.app import PlaygroundApp, make_app


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point platformdirs at a temporary folder, so no test touches the real data dir."""
    data = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    yield data


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A fresh SQLite file for this test."""
    return f"sqlite+aiosqlite:///{tmp_path / 'lab.db'}"


@pytest.fixture
def app_factory(db_url: str, tmp_path: Path) -> Callable[..., PlaygroundApp]:
    """Build the app the way the command line does, on this test's database."""

    def build(**kwargs: object) -> PlaygroundApp:
        kwargs.setdefault("exports_dir", tmp_path)
        return make_app(db_url, **kwargs)  # type: ignore[arg-type]

    return build

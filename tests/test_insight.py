"""Pilot tests for the insight views: details, the live script pane, copy, save, export."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from playground.ui.pane_tabs import PaneTabs

from .pilot import add, static_text

SIZE = (100, 40)


async def test_details_of_a_missing_greenlet_entry(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await add(pilot, "Foo")
        await pilot.press("f6")
        await pilot.pause()
        assert app.query_one(PaneTabs).active == "details"
        text = static_text(app, "#details-body")
        assert "MissingGreenlet" in text
        assert "Exception chain" in text and "Traceback" in text
        assert "attempted; never reached the database" in text
        assert "expired: name, uid" in text
        shown = app.export_screenshot().replace("&#160;", " ")
        assert "name: Foo" in shown, "the details pane is what the screen shows"


async def test_selecting_an_entry_opens_its_details(app_factory):
    app = app_factory(settings={"expire_on_commit": False})
    async with app.run_test(size=SIZE) as pilot:
        await add(pilot, "Foo")
        await pilot.click("#log", offset=(5, 1))
        await pilot.pause()
        assert app.query_one(PaneTabs).active == "details"
        assert "user.uid = 1" in static_text(app, "#details-body")


async def test_script_pane_follows_the_switches(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f7")
        assert app.query_one(PaneTabs).active == "script-pane"
        assert "expire_on_commit=True)" in static_text(app, "#script")
        await pilot.press("f2", "f3")
        await pilot.pause()
        text = static_text(app, "#script")
        assert "expire_on_commit=False)" in text and "await session.refresh(user)" in text


async def test_copy_and_save_the_script(app_factory, tmp_path: Path):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2", "f8")
        assert "expire_on_commit=False)" in app.clipboard
        await pilot.press("f9")
        await pilot.pause()
        saved = tmp_path / "playground_after_commit.py"
        assert saved.read_text() == app.clipboard
        assert str(saved) in str(app.query_one("#message", Static).render())


async def test_export_the_log_as_markdown(app_factory, tmp_path: Path):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await add(pilot, "Foo")
        await pilot.press("f2")
        await add(pilot, "[b]Bar[/b]")
        await pilot.press("f10")
        await pilot.pause()
        (export,) = tmp_path.glob("playground-log-*.md")
        text = export.read_text()
        assert "## #1 after-commit" in text and "## #2 after-commit" in text
        assert "MissingGreenlet" in text and "Traceback" in text
        assert "INSERT INTO playground_users" in text
        assert "'[b]Bar[/b]'" in text
        assert "user.uid = 2" in text

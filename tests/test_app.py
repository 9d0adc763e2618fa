"""Pilot tests: the real app, headless, against a real SQLite file."""

from __future__ import annotations

from playground.ui.app import PlaygroundApp
from playground.ui.widgets import NameInput

from .pilot import add, entries, log_text, settle, table_rows

SIZE = (100, 32)


def focused_on_name(app: PlaygroundApp) -> bool:
    return isinstance(app.focused, NameInput)


async def test_default_start_shows_missing_greenlet_and_the_row(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app.lab.engine is not None)
        assert focused_on_name(app)
        assert app.settings == {"expire_on_commit": True, "auto_refresh": False}
        await add(pilot, "Foo")
        (result,) = entries(app)
        assert result.outcome.error is not None and result.outcome.error.involves_missing_greenlet
        text = log_text(app)
        assert "MissingGreenlet" in text and "row committed anyway: uid 1" in text
        assert "expire_on_commit=False" in text and "session.refresh(user)" in text
        await settle(pilot, lambda: table_rows(app) == [("1", "Foo")])


async def test_flip_expire_off_by_keyboard_then_uid(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        assert focused_on_name(app), "flipping keeps the cursor in the name field"
        assert app.settings["expire_on_commit"] is False
        await add(pilot, "Foo")
        (result,) = entries(app)
        assert result.outcome.value == "1" and dict(result.settings)["expire_on_commit"] is False
        assert "user.uid = 1" in log_text(app)


async def test_auto_refresh_by_mouse_click_then_uid(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        assert await pilot.click("#switch-auto_refresh")
        assert app.settings["auto_refresh"] is True
        app.query_one(NameInput).focus()
        await add(pilot, "Foo")
        (result,) = entries(app)
        assert result.outcome.value == "1"
        assert dict(result.settings) == {"expire_on_commit": True, "auto_refresh": True}


async def test_empty_name_is_rejected_inline(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app.lab.engine is not None)
        await pilot.press("space", "space", "enter")
        await pilot.pause()
        message = str(app.query_one("#message").render())
        assert "empty or blank name" in message
        await app.workers.wait_for_complete()
        assert entries(app) == [] and await app.lab.count_users() == 0


async def test_markup_looking_name_is_stored_and_shown_literally(app_factory):
    name = "[bold red]x[/] [link=https://example.com]y[/link]"
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await add(pilot, name)
        await settle(pilot, lambda: len(table_rows(app)) == 1)
        assert table_rows(app) == [("1", name)]
        assert await app.lab.fetch_users() == [(1, name)]
        assert "[bold red]x[/]" in log_text(app)


async def test_add_button_commits_too(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"Ann")
        await pilot.click("#add")
        await settle(pilot, lambda: len(entries(app)) == 1)
        assert entries(app)[0].user_input == "Ann"


async def test_rapid_submits_are_logged_in_order_with_distinct_uids(app_factory):
    app = app_factory(settings={"expire_on_commit": False})
    async with app.run_test(size=SIZE) as pilot:
        for i in range(10):
            await pilot.press(*f"u{i}", "enter")
        await settle(pilot, lambda: len(entries(app)) == 10)
        results = entries(app)
        assert [r.seq for r in results] == list(range(1, 11))
        assert [r.user_input for r in results] == [f"u{i}" for i in range(10)]
        assert [r.outcome.value for r in results] == [str(i) for i in range(1, 11)]
        await settle(pilot, lambda: len(table_rows(app)) == 10)
        assert await app.lab.count_users() == 10


async def test_hints_show_at_80x24(app_factory):
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        hints = list(app.query(".option-hint"))
        assert len(hints) == 2 and all(hint.display for hint in hints)
        assert all(hint.region.height == 1 for hint in hints)

"""Pilot tests: the real app, headless, against a real SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from textual import events
from textual.widgets import Static

from playground.ui.app import MIN_HEIGHT, MIN_WIDTH, PlaygroundApp, make_app
from playground.ui.screens import ConfirmQuit, SaveElsewhere
from playground.ui.widgets import NameInput, OptionRow, UsersTable

from .pilot import add, burst, entries, log_text, settle, table_rows

SIZE = (100, 32)


def focused_on_name(app: PlaygroundApp) -> bool:
    return isinstance(app.focused, NameInput)


async def test_default_start_shows_missing_greenlet_and_the_row(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app.lab.engine is not None)
        assert focused_on_name(app)
        assert app.main.settings == {"expire_on_commit": True, "auto_refresh": False}
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
        assert app.main.settings["expire_on_commit"] is False
        await add(pilot, "Foo")
        (result,) = entries(app)
        assert result.outcome.value == "1" and dict(result.settings)["expire_on_commit"] is False
        assert "user.uid = 1" in log_text(app)


async def test_auto_refresh_by_mouse_click_then_uid(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        assert await pilot.click("#switch-auto_refresh")
        assert app.main.settings["auto_refresh"] is True
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
        assert entries(app) == [] and (await app.lab.newest_users())[1] == 0


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
        assert (await app.lab.newest_users())[1] == 10


async def test_hints_show_at_80x24(app_factory):
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        options = list(app.query(OptionRow))
        assert len(options) == 2
        shown = app.export_screenshot().replace("&#160;", " ")
        for option in options:
            assert option.option.hint in shown
            assert option.region.height == 2, "the label on one line, the hint on the next"


async def test_a_click_on_an_options_label_flips_it(app_factory):
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        option = app.query_one("#option-auto_refresh", OptionRow)
        assert not option.value
        label = option.query_one(".option-text")
        assert await pilot.click(label, offset=(6, 0)), "on the label, right of the slider"
        await settle(pilot, lambda: app.main.settings["auto_refresh"])
        drawn = label.render_line(0).text
        assert option.value and drawn.startswith("ON  auto refresh after commit F3")


def message(app: PlaygroundApp) -> str:
    return str(app.query_one("#message", Static).render())


def committed(path: Path) -> list[str]:
    """The names in a SQLite file, read without the app."""
    with sqlite3.connect(path) as db:
        return [name for (name,) in db.execute("SELECT name FROM playground_users ORDER BY uid")]


async def test_each_enter_commits_what_was_typed_before_it(app_factory):
    """Keys arriving all at once (a non-bracketed paste) still commit one name per line."""
    app = app_factory(settings={"expire_on_commit": False})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app.lab.engine is not None)
        burst(app, ["alice\rbob\rcarol\r", "h1", "1\rh12\rh1", "3\r"])
        await settle(pilot, lambda: len(entries(app)) == 6)
        assert [r.user_input for r in entries(app)] == [
            "alice",
            "bob",
            "carol",
            "h11",
            "h12",
            "h13",
        ]
        assert app.query_one(NameInput).value == ""


async def test_backspace_in_a_burst_deletes_what_was_typed_before_it(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app.lab.engine is not None)
        burst(app, ["abx", events.Key("backspace", "\x7f"), "c"])
        await settle(pilot, lambda: app.query_one(NameInput).value == "abc")


async def test_typed_format_characters_are_kept(app_factory):
    """Zero-width joiners and direction marks typed as keys reach the database unchanged."""
    name = "x\u202ey\u200dz \U0001f468\u200d\U0001f469\u00a0w"
    app = app_factory(settings={"expire_on_commit": False})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app.lab.engine is not None)
        burst(app, [name + "\r"])
        await settle(pilot, lambda: len(entries(app)) == 1)
        assert await app.lab.fetch_users() == [(1, name)]
        await settle(pilot, lambda: len(table_rows(app)) == 1)
        assert table_rows(app) == [("1", "x\\u202ey\\u200dz \U0001f468\\u200d\U0001f469\\xa0w")]


async def test_a_paste_with_a_control_character_is_refused_whole(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app.lab.engine is not None)
        await pilot.press(*"ab")
        for pasted, says in [
            ("nul\x00byte", "control character \\x00 at position 4 of 8"),
            ("alice\nbob", "a line break at position 6 of 9"),
            ("\x1b[31mred", "control character \\x1b at position 1 of 8"),
        ]:
            app.post_message(events.Paste(pasted))
            await settle(pilot, lambda says=says: says in message(app))
            assert "Paste refused" in message(app)
            assert app.query_one(NameInput).value == "ab", "nothing of the paste went in"
        app.post_message(events.Paste("c\u200dd"))
        await settle(pilot, lambda: app.query_one(NameInput).value == "abc\u200dd")
        await pilot.press("enter")
        await settle(pilot, lambda: len(entries(app)) == 1)
        assert entries(app)[0].user_input == "abc\u200dd"


async def test_q_after_a_click_on_a_switch_starts_a_name(app_factory):
    app = app_factory(settings={"expire_on_commit": False})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app.lab.engine is not None)
        assert await pilot.click("#switch-auto_refresh")
        assert not focused_on_name(app) and app.main.settings["auto_refresh"] is True
        await pilot.press(*"quinn", "enter")
        await settle(pilot, lambda: len(entries(app)) == 1)
        assert app.is_running and entries(app)[0].user_input == "quinn"
        assert focused_on_name(app)


async def test_letters_typed_right_after_tabs_go_where_the_tabs_put_the_focus(app_factory):
    """Shift+Tab twice reaches a switch, then ``qa`` and Enter: the name is committed and no
    switch flips, however fast the keys come."""
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app.lab.engine is not None)
        back = events.Key("shift+tab", None)
        burst(app, [back, back, "qa\r"])
        await settle(pilot, lambda: len(entries(app)) == 1)
        assert entries(app)[0].user_input == "qa"
        assert app.main.settings == {"expire_on_commit": True, "auto_refresh": False}
        assert app.is_running


async def test_ctrl_q_with_nothing_in_flight_quits_at_once(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app.lab.engine is not None)
        await pilot.press("ctrl+q")
        await settle(pilot, lambda: not app.is_running)
    assert app.lab.engine is None


async def test_quit_while_a_commit_waits_asks_and_says_what_it_waits_on(tmp_path: Path):
    path = tmp_path / "quit.db"
    app = make_app(f"sqlite+aiosqlite:///{path}", exports_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app.lab.engine is not None)
        await app.lab.lock.acquire()  # the commit waits, as on a database lock
        await pilot.press(*"last", "enter", "ctrl+q")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmQuit))
        await pilot.press("n")
        await settle(pilot, lambda: not isinstance(app.screen, ConfirmQuit))
        assert app.is_running and "Not quitting" in message(app)
        await pilot.press("ctrl+q")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmQuit))
        await pilot.press("ctrl+q")
        await settle(pilot, lambda: "Quitting after the commit of #1 finishes" in message(app))
        assert app.is_running, "still waiting for the commit"
        app.lab.lock.release()
        await settle(pilot, lambda: not app.is_running)
    assert committed(path) == ["last"], "the commit in flight finished before the exit"


async def test_too_small_a_terminal_says_the_size_it_needs(app_factory):
    app = app_factory()
    async with app.run_test(size=(40, 12)) as pilot:
        await settle(pilot, lambda: app.lab.engine is not None)
        note = app.query_one("#too-small", Static)
        assert note.display and note.region.height > 0
        assert f"at least {MIN_WIDTH}x{MIN_HEIGHT}" in str(note.render())
        assert not app.query_one("#main").display
        offered = {
            active.binding.action
            for active in app.active_bindings.values()
            if active.enabled and active.binding.show
        }
        assert offered == {"quit"}, "the footer offers only what works"
        await pilot.press(*"ann", "enter")
        await pilot.pause()
        assert entries(app) == [] and app.query_one(NameInput).value == ""
        await pilot.resize_terminal(MIN_WIDTH, MIN_HEIGHT)
        await settle(pilot, lambda: not note.display)
        await add(pilot, "ann")
        assert entries(app)[0].user_input == "ann"


async def test_a_refused_save_names_the_path_and_saves_elsewhere(app_factory, tmp_path: Path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    app = app_factory(exports_dir=blocker)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app.lab.engine is not None)
        await pilot.press("f9")
        await settle(pilot, lambda: isinstance(app.screen, SaveElsewhere))
        wanted = blocker / "playground_after_commit.py"
        assert f"not saved to {wanted}" in message(app)
        await pilot.press("enter")
        await settle(pilot, lambda: "Script saved to" in message(app))
    saved = list((tmp_path / "xdg-data").rglob("playground_after_commit.py"))
    assert len(saved) == 1 and "expire_on_commit" in saved[0].read_text()


async def bulk(pilot, count: int) -> str:
    """Run a bulk add through its dialog and return the message it ends with."""
    app = pilot.app
    before = message(app)
    await pilot.press("ctrl+b")
    await settle(pilot, lambda: app.screen.query("#bulk-count"))
    await pilot.press("ctrl+u", *str(count), "enter")
    await settle(pilot, lambda: "bulk add:" in message(app) and message(app) != before)
    return message(app)


async def test_a_second_bulk_add_does_not_reuse_names_and_counts_batches(tmp_path: Path):
    path = tmp_path / "bulk.db"
    app = make_app(f"sqlite+aiosqlite:///{path}", exports_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app.lab.engine is not None)
        first = await bulk(pilot, 300)
        assert "300 of 300 users committed in 1 batch (" in first
        second = await bulk(pilot, 700)
        assert "700 of 700 users committed in 2 batches (" in second
    names = committed(path)
    assert len(names) == len(set(names)) == 1000
    assert names[0] == "bulk 1" and names[300] == "bulk 301" and names[-1] == "bulk 1000"


async def test_switches_flipped_between_fast_enters_apply_from_the_next_one(app_factory):
    """``a``, Enter, F2, ``b``, Enter, F2, F3, ``c``, Enter in one burst: each commit runs
    with the switches as they were when its Enter was typed."""
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app.lab.engine is not None)
        f2, f3 = events.Key("f2", None), events.Key("f3", None)
        burst(app, ["a\r", f2, "b\r", f2, f3, "c\r"])
        await settle(pilot, lambda: len(entries(app)) == 3)
        a, b, c = entries(app)
    assert [r.user_input for r in (a, b, c)] == ["a", "b", "c"]
    assert dict(a.settings) == {"expire_on_commit": True, "auto_refresh": False}
    assert dict(b.settings) == {"expire_on_commit": False, "auto_refresh": False}
    assert dict(c.settings) == {"expire_on_commit": True, "auto_refresh": True}


async def test_a_paste_with_the_focus_on_a_switch_goes_to_the_name_field(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app.lab.engine is not None)
        assert await pilot.click("#switch-auto_refresh")
        assert not focused_on_name(app)
        app.post_message(events.Paste("Zoë"))
        await settle(pilot, lambda: app.query_one(NameInput).value == "Zoë")
        assert focused_on_name(app)


async def test_the_users_table_looks_back_and_a_new_row_brings_the_newest(app_factory):
    """The table shows the newest rows; its keys look further back, a commit returns."""
    app = app_factory(settings={"expire_on_commit": False})
    async with app.run_test(size=(80, 24)) as pilot:
        for i in range(20):
            await add(pilot, f"n{i}")
        await settle(pilot, lambda: len(table_rows(app)) == 20)
        table = app.query_one(UsersTable)
        window = table.size.height - 1  # the header takes a line
        assert window < 20, "more rows than the table shows"

        def shown() -> list[str]:
            return [table.render_line(y).text.split()[-1] for y in range(1, window + 1)]

        newest = [f"n{i}" for i in range(20)][-window:]
        assert shown() == newest
        table.focus()
        await pilot.press("home")
        assert shown()[0] == "n0", "Home shows the oldest kept row first"
        await pilot.press("end", "up")
        assert shown() == [f"n{i}" for i in range(20)][-window - 1 : -1]
        await add(pilot, "latest")
        await settle(pilot, lambda: shown()[-1] == "latest")


async def test_a_finished_commit_is_never_called_queued_afterwards(app_factory):
    """The form says "#1 queued" only when a commit outlasts the frame hold. Once the
    result has held the frames again, the first hold's "queued" must not fire at the limit
    and overwrite "#1 done" (it did, in a real terminal, about one commit in two)."""
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app.lab.engine is not None)
        frames = app.main.frames
        said: list[str] = []
        frames.hold(on_limit=lambda: said.append("queued"))
        frames.hold()  # the result arrived before the limit
        await settle(pilot, lambda: not frames.held)
        assert said == []
        frames.hold(on_limit=lambda: said.append("queued"))  # a slow one: it is said
        await settle(pilot, lambda: not frames.held)
        assert said == ["queued"]

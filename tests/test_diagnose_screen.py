"""The paste screen, pushed on a plain App: paste, read, open it live, go back."""

from __future__ import annotations

from textual import events
from textual.app import App
from textual.widgets import Button, Static, TextArea

from playground.ui.diagnose_screen import DiagnoseScreen

from .pilot import settle

TRACEBACK = """\
Traceback (most recent call last):
  File "/srv/app/api.py", line 42, in read_user
    return UserOut.model_validate(user)
  File "/v/site-packages/sqlalchemy/orm/attributes.py", line 566, in __get__
    return self.impl.get(state, dict_)
  File "/v/site-packages/sqlalchemy/orm/attributes.py", line 1116, in _fire_loader_callables
    return state._load_expired(state, passive)
  File "/v/site-packages/sqlalchemy/orm/state.py", line 803, in _load_expired
    self.manager.expired_attribute_loader(self, toload, passive)
sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not been called; can't call await_only() here.
"""

EXPIRED = """\
Traceback (most recent call last):
  File "/srv/app/jobs.py", line 7, in run
    print(user.name)
  File "/v/site-packages/sqlalchemy/orm/attributes.py", line 1116, in get
    return state._load_expired(state, passive)
sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not been called; can't call await_only() here.
"""


class Host(App[None]):
    """A bare app that pushes the screen and keeps what it was dismissed with."""

    def __init__(self) -> None:
        super().__init__()
        self.results: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(DiagnoseScreen(), self.results.append)


def screen_of(app: Host) -> DiagnoseScreen:
    screen = app.screen
    assert isinstance(screen, DiagnoseScreen)
    return screen


async def paste(pilot, text: str) -> DiagnoseScreen:
    screen = screen_of(pilot.app)
    pilot.app.post_message(events.Paste(text))  # as the driver delivers a bracketed paste
    await settle(pilot, lambda: screen.query_one(TextArea).text == text and screen.settled)
    return screen


def shown(screen: DiagnoseScreen) -> str:
    rendered = screen.query_one("#diagnosis", Static).render()
    assert str(rendered) == screen.shown.plain, "the report on screen is the Text built"
    return screen.shown.plain


async def test_paste_diagnose_and_open_it_live():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await paste(pilot, EXPIRED)
        assert screen.diagnosis is not None
        assert screen.diagnosis.pitfall == "expired-after-commit"
        assert "expired-after-commit" in shown(screen)
        assert "playground --scenario after-commit" in shown(screen)
        assert not screen.query_one("#open-live-button", Button).disabled
        await pilot.press("ctrl+o")
        await settle(pilot, lambda: bool(app.results))
    assert app.results == [("after-commit", {})]


async def test_the_switches_come_back_with_the_scenario():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await paste(pilot, TRACEBACK)
        screen = screen_of(app)
        assert screen.diagnosis is not None and screen.diagnosis.pitfall == "serialization-lazy"
        await pilot.click("#open-live-button")
        await settle(pilot, lambda: bool(app.results))
    assert app.results == [("serialization", {"just_committed": True})]


async def test_escape_goes_back_with_nothing():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await paste(pilot, TRACEBACK)
        await pilot.press("escape")
        await settle(pilot, lambda: bool(app.results))
    assert app.results == [None]


async def test_pasted_markup_and_escapes_stay_text():
    hostile = "[bold red]boom[/] [link=http://x]y[/link] \x1b[2J\x1b]0;title\x07\nq\n" + EXPIRED
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await paste(pilot, hostile)
        assert screen.query_one(TextArea).text == hostile, "pasted text is kept as it is"
        assert app.results == [], "nothing pasted acts as a key"
        assert screen.diagnosis is not None
        assert screen.diagnosis.pitfall == "expired-after-commit"
        text = shown(screen)
        assert "\x1b" not in text and "\x07" not in text


async def test_nothing_recognized_says_what_is_missing_and_cannot_open():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await paste(pilot, "the server crashed, any idea?")
        assert screen.diagnosis is not None and screen.diagnosis.pitfall is None
        assert "nothing in the text relates to SQLAlchemy's asyncio layer" in shown(screen)
        assert screen.query_one("#open-live-button", Button).disabled
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert app.results == []


async def test_a_megabyte_paste_is_diagnosed_and_typing_still_works():
    big = ("INFO request served\n" * 50_000) + EXPIRED
    assert len(big) > 1_000_000
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await paste(pilot, big)
        assert screen.diagnosis is not None
        assert screen.diagnosis.pitfall == "expired-after-commit"
        area = screen.query_one(TextArea)
        area.move_cursor(area.document.end)
        await pilot.press("x")
        await settle(pilot, lambda: area.text.endswith("x") and screen.settled)


async def test_readable_at_80x24():
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await paste(pilot, EXPIRED)
        scroll = screen.query_one("#diagnosis-scroll")
        assert scroll.region.height >= 8, "room for the diagnosis below the paste box"
        assert screen.query_one(TextArea).region.height >= 6
        bindings = {b.binding.key: b.binding.description for b in screen.active_bindings.values()}
        assert bindings.get("ctrl+o") == "Open it live"
        assert bindings.get("escape") == "Back"

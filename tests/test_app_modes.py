"""Pilot tests: the app's two other modes, reached from its own keys."""

from __future__ import annotations

from textual import events
from textual.widgets import TextArea

from playground.ui.diagnose_screen import DiagnoseScreen
from playground.ui.tour import TourScreen

from .expected import outcome_kind
from .pilot import add, entries, settle

SIZE = (100, 32)

LAZY_TRACEBACK = """Traceback (most recent call last):
  File "app/api.py", line 42, in read_user
    return len(user.posts)
  File "site-packages/sqlalchemy/orm/attributes.py", line 566, in __get__
    return self.impl.get(state, dict_)
  File "site-packages/sqlalchemy/orm/strategies.py", line 922, in _load_for_state
    return self._emit_lazyload(
  File "site-packages/sqlalchemy/util/_concurrency_py3k.py", line 123, in await_only
    raise exc.MissingGreenlet(
sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not been called; can't call await_only() \
here. Was IO attempted in an unexpected place? (Background on this error at: \
https://sqlalche.me/e/20/xd2s)
"""


async def test_paste_a_traceback_then_open_it_live(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app.lab.engine is not None)
        await pilot.press("ctrl+t")
        await settle(pilot, lambda: isinstance(app.screen, DiagnoseScreen))
        screen = app.screen
        assert isinstance(screen, DiagnoseScreen)
        # What a terminal's bracketed paste delivers: one Paste event with the whole text.
        screen.query_one(TextArea).post_message(events.Paste(LAZY_TRACEBACK))
        await settle(pilot, lambda: screen.diagnosis is not None and screen.diagnosis.pitfall)
        assert screen.diagnosis.pitfall == "lazy-relationship"
        await pilot.press("ctrl+o")
        await settle(pilot, lambda: app.main.scenario.name == "lazy-relationship")
        await add(pilot, "Foo")
        assert outcome_kind(entries(app)[-1]) == "MissingGreenlet"
        await pilot.press("f2")  # selectinload: the fix
        await add(pilot, "Bar")
        assert outcome_kind(entries(app)[-1]) is None


async def test_the_tour_opens_from_the_app_and_goes_back(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app.lab.engine is not None)
        await pilot.press("ctrl+l")
        await settle(pilot, lambda: isinstance(app.screen, TourScreen))
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, TourScreen))
        await add(pilot, "Foo")
        assert outcome_kind(entries(app)[-1]) == "MissingGreenlet"


QUIT_WHILE_OPENING = """
import asyncio, sys
from playground.ui.app import make_app

async def main(url):
    app = make_app(url)
    async with app.run_test(size=(80, 24)):
        pass  # out again before the database has finished opening

for attempt in range(5):
    asyncio.run(main(f"sqlite+aiosqlite:///{sys.argv[1]}/new{attempt}.db"))
print("every loop closed")
"""


def test_quitting_while_the_database_opens_does_not_hang(tmp_path):
    """The open was cancelled half-way through aiosqlite's connect, and the loop never closed."""
    import subprocess
    import sys

    try:
        done = subprocess.run(
            [sys.executable, "-c", QUIT_WHILE_OPENING, str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=90,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError("the app quit, but its event loop never closed") from None
    assert done.returncode == 0, done.stderr
    assert "every loop closed" in done.stdout

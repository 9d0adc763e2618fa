"""The title bar and the key bar: what they show, and that a click does what it shows."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandPalette
from textual.widgets import TabbedContent

from playground.ui.app import make_app
from playground.ui.widgets import KeysBar, TitleBar

from .pilot import settle


def app_on(tmp_path: Path):
    return make_app(f"sqlite+aiosqlite:///{tmp_path / 'bars.db'}", exports_dir=tmp_path)


def line(widget: KeysBar | TitleBar) -> str:
    return widget.render_line(0).text


async def test_the_key_bar_shows_the_keys_and_a_click_presses_one(tmp_path: Path):
    app = app_on(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        bar = app.query_one(KeysBar)
        await settle(pilot, lambda: "f7" in line(bar))
        shown = line(bar)
        assert " ^q quit " in shown and shown.rstrip().endswith("^p palette")
        x = shown.index(" f7 ") + 1
        await pilot.click(KeysBar, offset=(x, 0))
        await settle(pilot, lambda: app.query_one(TabbedContent).active == "tab-script")


async def test_a_narrow_key_bar_leaves_keys_out_whole(tmp_path: Path):
    app = app_on(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        bar = app.query_one(KeysBar)
        await settle(pilot, lambda: "palette" in line(bar))
        shown = line(bar)
        assert len(shown) == 80 and shown.rstrip().endswith("^p palette")
        keys = shown[: shown.index("▏")].split()
        assert keys[:2] == ["^q", "quit"], "the keys start from the first"
        assert len(keys) % 2 == 0, "no key is cut from its description"


async def test_the_title_bar_names_the_scenario_and_its_icon_opens_the_palette(tmp_path: Path):
    app = app_on(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        title = app.query_one(TitleBar)
        assert "playground — After commit" in line(title)
        await app.switch_scenario("closed-session")
        await settle(pilot, lambda: "Session closed before reading" in line(title))
        await pilot.click(TitleBar, offset=(1, 0))
        await settle(pilot, lambda: isinstance(app.screen, CommandPalette))

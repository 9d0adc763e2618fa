"""The title bar, the key bar and the pane tabs: what they show, and what a click does."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandPalette
from textual.widget import Widget
from textual.widgets import Header

from playground.ui.app import make_app
from playground.ui.pane_tabs import PaneTabs
from playground.ui.widgets import KeysBar

from .pilot import settle, static_text


def app_on(tmp_path: Path):
    return make_app(f"sqlite+aiosqlite:///{tmp_path / 'bars.db'}", exports_dir=tmp_path)


def line(widget: Widget, y: int = 0) -> str:
    return widget.render_line(y).text


async def test_the_key_bar_shows_the_keys_and_a_click_presses_one(tmp_path: Path):
    app = app_on(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        bar = app.query_one(KeysBar)
        await settle(pilot, lambda: "f7" in line(bar))
        shown = line(bar)
        assert " ^q quit " in shown and shown.rstrip().endswith("^p palette")
        x = shown.index(" f7 ") + 1
        await pilot.click(KeysBar, offset=(x, 0))
        await settle(pilot, lambda: app.query_one(PaneTabs).active == "script-pane")


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
        title = app.query_one(Header).query_one("HeaderTitle")
        assert "playground — After commit" in line(title)
        await app.main.switch_scenario("closed-session")
        await settle(pilot, lambda: "Session closed before reading" in line(title))
        await pilot.click(Header, offset=(1, 0))
        await settle(pilot, lambda: isinstance(app.screen, CommandPalette))


async def test_a_click_on_a_tab_shows_its_page_and_underlines_it(tmp_path: Path):
    app = app_on(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        tabs = app.query_one(PaneTabs)
        labels = line(tabs)
        assert labels.split() == ["Log", "Details", "Script"]
        assert app.query_one("#log").display and not app.query_one("#script-pane").display
        await pilot.click(PaneTabs, offset=(labels.index("Script"), 0))
        await settle(pilot, lambda: app.query_one("#script-pane").display)
        assert tabs.active == "script-pane" and not app.query_one("#log").display
        assert "expire_on_commit=True)" in static_text(app, "#script")
        start = labels.index("Script") - 1
        highlight = tabs.get_component_rich_style("pane-tabs--highlight").color
        under = tabs.render_line(1)
        colors = [segment.style.color for segment in under for _ in segment.text]  # type: ignore[union-attr]
        lit = [x for x, color in enumerate(colors) if color == highlight]
        assert lit == list(range(start, start + len(" Script "))), "only the active tab is lit"


async def test_left_and_right_move_between_tabs_once_the_tabs_have_focus(tmp_path: Path):
    app = app_on(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        tabs = app.query_one(PaneTabs)
        await pilot.press("right")
        assert tabs.active == "log", "with the focus in the name field, Right moves the cursor"
        for _ in range(10):  # name field, Add, the users table, then the tabs
            if app.focused is tabs:
                break
            await pilot.press("tab")
        assert app.focused is tabs, "Tab reaches the tabs"
        await pilot.press("right")
        await settle(pilot, lambda: app.query_one("#details").display)
        await pilot.press("left", "left")
        await settle(pilot, lambda: app.query_one("#script-pane").display)
        assert tabs.active == "script-pane", "Left from the first tab wraps to the last"

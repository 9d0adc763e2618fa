"""The main screen on a bare App: it owns its view, its keys and its state.

No PlaygroundApp here: the screen gets a lab, a job queue and a scenario, and the host
app only queues the first read of the table, as the real app does once the lab is open.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.widgets import Static

from playground.core.lab import Lab
from playground.core.scenarios import SCENARIOS
from playground.ui.commit_log import CommitLog
from playground.ui.jobs import JobChain
from playground.ui.main_screen import MIN_HEIGHT, MIN_WIDTH, MainScreen
from playground.ui.widgets import NameInput, UsersTable

from .expected import outcome_kind
from .pilot import settle

SIZE = (100, 32)


class Host(App[None]):
    """A bare app whose default screen is the main screen, on an open lab."""

    def __init__(self, lab: Lab, scenario: str, exports_dir: Path) -> None:
        super().__init__()
        self.jobs = JobChain(self)
        chosen = SCENARIOS[scenario]
        self.main = MainScreen(lab, self.jobs, chosen, chosen.settings(), exports_dir)

    def on_mount(self) -> None:
        self.push_screen(self.main)  # its style sheet comes with it
        self.jobs.add(self.main.load_rows, "read the table")


def message(screen: MainScreen) -> str:
    return str(screen.query_one("#message", Static).render())


def entries(screen: MainScreen) -> list:
    return [result for result, _ in screen.query_one(CommitLog).entries.values()]


async def add(pilot, screen: MainScreen, name: str) -> None:
    """Type a name and press Enter, then wait for its log entry."""
    before = len(entries(screen))
    await pilot.press(*name, "enter")
    await settle(pilot, lambda: len(entries(screen)) > before)


async def test_enter_and_the_add_button_commit_through_the_screen(lab: Lab, tmp_path: Path):
    app = Host(lab, "after-commit", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.main
        await settle(pilot, lambda: "row" in str(screen.query_one("#users").border_subtitle))
        await add(pilot, screen, "Foo")
        assert outcome_kind(entries(screen)[-1]) == "MissingGreenlet"
        table = screen.query_one(UsersTable)
        await settle(pilot, lambda: table.row_texts() == [("1", "Foo")])
        await pilot.press(*"Bar")
        assert await pilot.click("#add")  # the button runs the screen's action
        await settle(pilot, lambda: len(entries(screen)) == 2)
        assert entries(screen)[-1].user_input == "Bar" and "#2 done" in message(screen)
        assert screen.query_one(NameInput).value == ""


async def test_switch_keys_are_named_by_the_scenario_and_hidden_when_absent(
    lab: Lab, tmp_path: Path
):
    app = Host(lab, "lazy-relationship", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.main
        labels = {key: active.binding.description for key, active in screen.active_bindings.items()}
        options = SCENARIOS["lazy-relationship"].options
        assert [labels[f"f{i + 2}"] for i in range(4)] == [o.short for o in options[:4]]
        await pilot.press("f2")
        assert screen.settings[options[0].key] is True
        await screen.switch_scenario("after-commit")
        assert "f4" not in screen.active_bindings, "no third switch: F4 is not offered"
        first = SCENARIOS["after-commit"].options[0].short
        assert screen.active_bindings["f2"].binding.description == first


async def test_state_sets_classes_and_the_style_sheet_decides_what_shows(lab: Lab, tmp_path: Path):
    app = Host(lab, "after-commit", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.main
        meter, line = screen.query_one("#bulk-progress"), screen.query_one("#message")
        assert (
            line.display
            and not meter.display
            and "stop_bulk"
            not in {active.binding.action for active in screen.active_bindings.values()}
        )
        screen.bulk_running = True
        await pilot.pause()
        assert screen.query_one("#form").has_class("-bulk") and meter.display and not line.display
        assert screen.active_bindings["ctrl+g"].enabled
        screen.set_class(True, "-quitting")  # as the app does when quitting is agreed
        await pilot.pause()
        assert line.display and not meter.display, "quitting says what it waits on"
        screen.set_class(False, "-quitting")
        screen.bulk_running = False
        await pilot.pause()
        assert line.display and not meter.display
        await pilot.resize_terminal(MIN_WIDTH - 1, MIN_HEIGHT)
        await settle(pilot, lambda: screen.too_small)
        assert screen.has_class("-too-small") and not screen.query_one("#main").display
        ids = {binding.id for binding in MainScreen.BINDINGS}
        offered = [a.binding.id for a in screen.active_bindings.values() if a.binding.id in ids]
        assert offered == [], "none of the screen's keys works on a screen too small to use"
        await pilot.resize_terminal(MIN_WIDTH, MIN_HEIGHT)
        await settle(pilot, lambda: not screen.too_small)
        assert screen.query_one("#main").display

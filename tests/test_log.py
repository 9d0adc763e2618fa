"""The live log as a user reads it: newest in view, keys and clicks, looking back, trimming."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from playground.core.lab import Lab
from playground.core.results import ExperimentResult
from playground.core.scenarios import SCENARIOS
from playground.ui.app import PlaygroundApp, make_app
from playground.ui.commit_log import CommitLog
from playground.ui.pane_tabs import PaneTabs

from .pilot import add, settle, static_text


def on_screen(log: CommitLog) -> str:
    """The log's lines exactly as drawn, top to bottom."""
    return "\n".join(log.render_line(y).text for y in range(log.size.height))


async def real_result() -> ExperimentResult:
    """One result of really running the opening scenario, to be shown many times."""
    lab = Lab("sqlite+aiosqlite://")
    await lab.open()
    try:
        return await lab.run(SCENARIOS["after-commit"], "many", {"expire_on_commit": False}, seq=1)
    finally:
        await lab.close()


def app_on(tmp_path: Path) -> PlaygroundApp:
    return make_app(f"sqlite+aiosqlite:///{tmp_path / 'log.db'}", exports_dir=tmp_path)


def fill(log: CommitLog, result: ExperimentResult, count: int) -> None:
    """Add ``count`` copies of ``result``, numbered 1001 on (the app's own start at 1)."""
    explanation = SCENARIOS[result.scenario].explain(result)
    for seq in range(1001, 1001 + count):
        log.add_entry(replace(result, seq=seq), explanation)


async def test_the_newest_entry_is_in_view_highlighted_and_whole(tmp_path: Path):
    app = app_on(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await add(pilot, "first")
        await add(pilot, "second")
        log = app.query_one(CommitLog)
        shown = on_screen(log)
        assert "#2" in shown and "'second'" in shown
        assert log.selected_entry() is not None
        assert log.selected_entry()[0].user_input == "second"  # type: ignore[index]
        newest = log.entry_text(log.entry_count - 1).splitlines()[-1].strip()
        assert newest in shown, "the newest entry's last line is on screen"


async def test_up_then_enter_opens_the_entry_before(tmp_path: Path):
    app = app_on(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await add(pilot, "first")
        await add(pilot, "second")
        app.query_one(CommitLog).focus()
        await pilot.press("up", "enter")
        await settle(pilot, lambda: app.query_one(PaneTabs).active == "details")
        body = static_text(app, "#details-body")
        assert "name: first" in body and "name: second" not in body


async def test_home_looks_back_and_a_new_entry_brings_the_newest(tmp_path: Path):
    app = app_on(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(CommitLog)
        fill(log, await real_result(), 30)
        await pilot.pause()
        assert "#1030 " in on_screen(log) and "#1001 " not in on_screen(log)
        log.focus()
        await pilot.press("home")
        assert "#1001 " in on_screen(log) and "#1030 " not in on_screen(log)
        await pilot.press("down")
        assert log.selected_entry()[0].seq == 1002  # type: ignore[index]
        await pilot.click("#name")
        await add(pilot, "later")
        shown = on_screen(log)
        assert "'later'" in shown and "#1001 " not in shown


async def test_a_click_opens_the_entry_under_the_pointer(tmp_path: Path):
    app = app_on(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await add(pilot, "first")
        await add(pilot, "second")
        log = app.query_one(CommitLog)
        lines = on_screen(log).splitlines()
        row = next(y for y, line in enumerate(lines) if line.startswith(" #1 "))
        await pilot.click(CommitLog, offset=(4, row + 1))
        await settle(pilot, lambda: app.query_one(PaneTabs).active == "details")
        assert "name: first" in static_text(app, "#details-body")


async def test_a_narrower_terminal_rewraps_the_entries(tmp_path: Path):
    app = app_on(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await add(pilot, "a name long enough to need its own line when the log is narrow")
        log = app.query_one(CommitLog)
        wide = [line for line in on_screen(log).splitlines() if line.strip()]
        await pilot.resize_terminal(80, 30)
        await pilot.pause()
        narrow = [line for line in on_screen(log).splitlines() if line.strip()]
        assert len(narrow) > len(wide), "the entry takes more lines"
        words = " ".join(log.entry_text(0).split())
        assert " ".join(" ".join(narrow).split()) == words, "and every word is still shown"


async def test_the_log_keeps_the_newest_500_entries(tmp_path: Path):
    app = app_on(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(CommitLog)
        fill(log, await real_result(), 601)
        await pilot.pause()
        assert log.entry_count == CommitLog.MAX_ENTRIES
        assert log.dropped == 601 - CommitLog.MAX_ENTRIES
        assert log.entry_text(0).startswith("#1102 ")
        assert "#1601 " in on_screen(log)
        assert log.selected_entry()[0].seq == 1601  # type: ignore[index]
        tabs = app.query_one(PaneTabs)
        await settle(pilot, lambda: "Log (101 older dropped)" in tabs.render_line(0).text)

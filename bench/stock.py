"""Textual's stock widgets in place of the app's hand-rolled ones, for the benchmark only.

Usage: python bench/stock.py VARIANT[,VARIANT...] DATABASE_URL  (runs the app with them)

Each variant puts back the stock widget (or widgets) that one hand-rolled widget replaced,
built as the app built it before the rewrite, so ``bench/run.py`` can time the app both
ways in the same run. The app's code is not changed: the variant swaps the names the main
screen and its panels look up, in this process only. ``none`` runs the app as it is.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from playground.ui import app as app_module  # noqa: E402
from playground.ui import main_screen  # noqa: E402

VARIANTS = {
    "footer": "key bar: Textual's Footer",
    "tabs": "pane tabs: Textual's TabbedContent",
    "optionlist": "log: Textual's OptionList",
    "datatable": "users table: Textual's DataTable",
}
"""Each stock replacement, by name, and what it puts back."""

ALL = "footer,tabs,optionlist,datatable"
"""Every stock widget at once."""


# ------------------------------------------------------------------------ bars
def _footer() -> dict[tuple[object, str], object]:
    from textual.widgets import Footer

    return {(main_screen, "KeysBar"): Footer}


# ------------------------------------------------------------------------ tabs
def _tabs() -> dict[tuple[object, str], object]:
    """TabbedContent over the three panes, as the screen composed it before the rewrite."""
    from textual.widgets import TabbedContent, TabPane

    class StockTabs(TabbedContent):
        """The main screen asks its tabs for ``active`` and ``set_label``; TabbedContent has one."""

        DEFAULT_CSS = "StockTabs TabPane { padding: 0; }"

        def set_label(self, pane: str, text: str) -> None:
            self.get_tab(f"tab-{pane}").label = text

    class StockScreen(main_screen.MainScreen):
        """The main screen with its panes in a TabbedContent; everything else as the app's.

        The app's compose, with the tabs part as it was before the rewrite; run.py checks
        that, with TabbedContent swapped back, this composes the app's very widget tree.
        """

        CSS_PATH = str(ROOT / "playground" / "ui" / "main_screen.tcss")
        tabbed = True

        def compose(self) -> Any:
            ms: Any = main_screen  # its names as swapped now, read at compose time
            yield ms.Header(icon="▶")
            yield ms.Static(id="too-small")
            yield ms.Static(self._status_text(), id="status")
            with ms.Horizontal(id="top"):
                yield ms.SettingsPanel(self.scenario, self.settings, id="settings")
                yield ms.AddForm(id="form")
            with ms.Horizontal(id="main"):
                table = ms.UsersTable(id="users")
                table.border_title = "Users"
                yield table
                if self.tabbed:
                    with StockTabs(id="tabs"):
                        with TabPane("Log", id="tab-log"):
                            yield ms.CommitLog(id="log")
                        with TabPane("Details", id="tab-details"):
                            yield ms.DetailsPane(id="details")
                        with TabPane("Script", id="tab-script"):
                            with ms.ScrollableContainer(id="script-pane"):
                                yield ms.Static(id="script")
                else:
                    with ms.Vertical(id="tabs"):
                        yield ms.PaneTabs(
                            {"log": "Log", "details": "Details", "script-pane": "Script"}
                        )
                        with ms.ContentSwitcher(initial="log", id="panes"):
                            yield ms.CommitLog(id="log")
                            yield ms.DetailsPane(id="details")
                            with ms.ScrollableContainer(id="script-pane"):
                                yield ms.Static(id="script")
            yield ms.KeysBar()

    return {(main_screen, "PaneTabs"): StockTabs, (app_module, "MainScreen"): StockScreen}


def _mirror() -> dict[tuple[object, str], object]:
    """The tabs variant's screen with the app's own tabs: run.py checks it matches the app."""
    screen = _tabs()[(app_module, "MainScreen")]
    assert isinstance(screen, type)
    return {(app_module, "MainScreen"): type("MirrorScreen", (screen,), {"tabbed": False})}


# ------------------------------------------------------------------------- log
def _optionlist() -> dict[tuple[object, str], object]:
    """The log as an OptionList, an option per entry, with the methods the screen calls."""
    from textual import on
    from textual.widgets import OptionList
    from textual.widgets.option_list import Option

    from playground.ui.commit_log import CommitLog
    from playground.ui.render import log_entry

    class OptionListLog(OptionList):
        MAX_ENTRIES = CommitLog.MAX_ENTRIES
        TRIM = CommitLog.TRIM
        Selected = CommitLog.Selected
        Trimmed = CommitLog.Trimmed
        DEFAULT_CSS = "OptionListLog { border: none; padding: 0; }"

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.entries: dict[str, Any] = {}
            self.dropped = 0
            self._notes = 0

        def add_entry(self, result: Any, explanation: Any) -> None:
            entry_id = f"entry-{result.seq}"
            self.entries[entry_id] = (result, explanation)
            self._append(Option(log_entry(result, explanation), id=entry_id))

        def add_note(self, note: Any) -> None:
            self._notes += 1
            self._append(Option(note, id=f"note-{self._notes}"))

        def _append(self, option: Option) -> None:
            self.add_option(option)
            if self.option_count > self.MAX_ENTRIES + self.TRIM:
                for gone in self.options[: -self.MAX_ENTRIES]:
                    if self.entries.pop(gone.id or "", None) is not None:
                        self.dropped += 1
                self.set_options(self.options[-self.MAX_ENTRIES :])
                self.post_message(self.Trimmed(self.dropped))
            self.highlighted = self.option_count - 1

        def selected_entry(self) -> Any:
            option = self.highlighted_option
            return None if option is None else self.entries.get(option.id or "")

        @on(OptionList.OptionSelected)
        def _chosen(self, event: OptionList.OptionSelected) -> None:
            event.stop()
            self.post_message(self.Selected())

    return {(main_screen, "CommitLog"): OptionListLog}


# ------------------------------------------------------------------- datatable
def _datatable() -> dict[tuple[object, str], object]:
    """The users table as the DataTable it was, its rows added as it added them."""
    from rich.text import Text
    from textual.widgets import DataTable

    from playground.core.names import visible

    class DataTableUsers(DataTable[Text]):
        MAX_ROWS = 200
        CHUNK = 50

        def on_mount(self) -> None:
            self._pending: list[tuple[int, str]] = []
            self.cursor_type = "row"
            self.add_column(Text("uid"), key="uid")
            self.add_column(Text("name"), key="name")

        def replace_users(self, rows: list[tuple[int, str]]) -> None:
            self.clear()
            self._pending = list(rows)
            self._add_pending()

        def _add_pending(self) -> None:
            chunk, self._pending = self._pending[: self.CHUNK], self._pending[self.CHUNK :]
            self.add_users(chunk)
            if self._pending:
                self.call_after_refresh(self._add_pending)

        def add_users(self, rows: list[tuple[int, str]]) -> None:
            for uid, name in rows:
                key = str(uid)
                if key in self.rows:
                    continue
                self.add_row(Text(str(uid), justify="right"), Text(visible(name)), key=key)
            while self.row_count > self.MAX_ROWS:
                self.remove_row(next(iter(self.rows)))
            if rows:
                self.move_cursor(row=self.row_count - 1, animate=False)

    return {(main_screen, "UsersTable"): DataTableUsers}


_BUILDERS = {
    "footer": _footer,
    "tabs": _tabs,
    "optionlist": _optionlist,
    "datatable": _datatable,
    "mirror": _mirror,
}


@contextmanager
def stock(variant: str) -> Iterator[None]:
    """Within the block, the app is built with the variant's stock widgets (``none``: as is).

    ``variant`` is one name of ``VARIANTS`` or several joined by commas.
    """
    swaps: dict[tuple[object, str], object] = {}
    for name in variant.split(","):
        if name != "none":
            swaps.update(_BUILDERS[name]())
    saved = {key: getattr(*key) for key in swaps}
    try:
        for (module, attribute), value in swaps.items():
            setattr(module, attribute, value)
        yield
    finally:
        for (module, attribute), value in saved.items():
            setattr(module, attribute, value)


def main() -> None:
    variant, url = sys.argv[1], sys.argv[2]
    with stock(variant):
        app_module.make_app(url).run()


if __name__ == "__main__":
    main()

"""Modal screens: the scenario picker, the confirmations, the bulk-add and save dialogs.

Each brings its own style sheet, parsed when it first opens rather than at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.validation import Number
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from ..core.names import visible
from ..core.scenarios import SCENARIOS

Answer = TypeVar("Answer")


class ScenarioPicker(ModalScreen[str | None]):
    """Choose the experiment to run; Enter or a click picks, Escape keeps the current one."""

    DEFAULT_CSS = """
    ScenarioPicker {
        align: center middle;
    }
    #picker {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $accent;
        border-title-style: bold;
        background: $surface;
        padding: 0 1;
    }
    #scenarios {
        height: auto;
        max-height: 1fr;
        border: none;
        padding: 0;
    }
    #picker-summary {
        height: 2;
    }
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "cancel", id="cancel-picker")]

    def __init__(self, current: str) -> None:
        super().__init__()
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="picker") as picker:
            picker.border_title = "Pick a scenario"
            picker.border_subtitle = "Enter picks · Escape keeps"
            yield OptionList(*self._options(), id="scenarios")
            yield Static(id="picker-summary")

    @staticmethod
    def _options() -> list[Option]:
        """One disabled heading per group, then its scenarios by title, numbered across groups.

        One line each, so thirteen scenarios and their headings fit a 24-line terminal; the
        highlighted one's summary shows below the list.
        """
        options: list[Option] = []
        number = 0
        for group, scenarios in SCENARIOS.grouped():
            options.append(Option(Text(group, "bold underline"), disabled=True))
            for scenario in scenarios:
                number += 1
                options.append(Option(Text(f"{number:>2}. {scenario.title}"), id=scenario.name))
        return options

    def on_mount(self) -> None:
        picker = self.query_one(OptionList)
        picker.highlighted = picker.get_option_index(self._current)
        picker.focus()

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        option_id = event.option.id
        if option_id is not None and option_id in SCENARIOS:
            scenario = SCENARIOS[option_id]
            summary = Text.assemble((scenario.name, "bold"), "  ", (scenario.summary, "dim"))
            self.query_one("#picker-summary", Static).update(summary)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class ConfirmReset(ModalScreen[bool]):
    """Ask before dropping the playground's tables; only y, Enter on Yes, or a click agrees."""

    DEFAULT_CSS = """
    ConfirmReset {
        align: center middle;
    }
    #confirm {
        width: 64;
        max-width: 95%;
        height: auto;
        border: round $error;
        background: $surface;
        padding: 1 2;
    }
    #confirm-buttons {
        height: auto;
        margin-top: 1;
    }
    #confirm-buttons Button {
        margin-right: 2;
    }
    """

    BINDINGS = [
        Binding("escape,n", "dismiss(False)", "keep", id="reset-keep"),
        Binding("y", "dismiss(True)", "drop", id="reset-drop"),
    ]

    def __init__(self, tables: list[str], where: str) -> None:
        super().__init__()
        self._tables = tables
        self._where = where

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(
                Text.assemble(
                    ("Drop and re-create the playground's own tables?\n\n", "bold"),
                    ("  " + "\n  ".join(self._tables) + "\n\n", ""),
                    (f"in {self._where}. Every row in them is lost; nothing else is touched.", ""),
                )
            )
            with Horizontal(id="confirm-buttons"):
                yield Button(
                    "Yes, drop them (y)", id="yes", variant="error", action="screen.dismiss(True)"
                )
                yield Button(
                    "No (n / Escape)", id="no", variant="primary", action="screen.dismiss(False)"
                )

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()


class BulkDialog(ModalScreen[int | None]):
    """Ask how many users to add in bulk; Enter starts, Escape cancels."""

    DEFAULT_CSS = """
    BulkDialog {
        align: center middle;
    }
    #bulk-dialog {
        width: 64;
        max-width: 95%;
        height: auto;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "cancel", id="bulk-cancel-dialog")]

    def compose(self) -> ComposeResult:
        with Vertical(id="bulk-dialog"):
            yield Static(Text("Add many users at once (batches of 500, one transaction each)"))
            yield Input(
                "10000",
                type="integer",
                id="bulk-count",
                validators=[Number(minimum=1, maximum=1_000_000)],
            )
            hint = "Enter starts, Escape cancels; Ctrl+G stops it while it runs."
            yield Static(Text(hint, "dim"))

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.validation_result is not None and not event.validation_result.is_valid:
            self.notify("Type a whole number from 1 to 1,000,000.", severity="error", markup=False)
            return
        self.dismiss(int(event.value))


class WarningDialog(ModalScreen[Answer]):
    """A dialog in a red box in the middle of the screen; its box has the class ``box``."""

    DEFAULT_CSS = """
    WarningDialog {
        align: center middle;
    }
    WarningDialog > .box {
        width: 64;
        max-width: 95%;
        height: auto;
        border: round $error;
        background: $surface;
        padding: 0 1;
    }
    """


class ConfirmQuit(WarningDialog[bool]):
    """Ask before quitting while work the user asked for is still in flight.

    Nothing committed is lost either way; the question is there so a stray key cannot end
    a bulk add or a waiting commit. y, Enter on Quit, or Ctrl+Q again agrees.
    """

    DEFAULT_CSS = """
    #confirm-quit .buttons {
        height: auto;
        margin-top: 1;
    }
    #confirm-quit .buttons Button {
        margin-right: 2;
    }
    """

    BINDINGS = [
        Binding("escape,n", "dismiss(False)", "stay", id="quit-stay"),
        Binding("y", "dismiss(True)", "quit", id="quit-confirm"),
    ]

    def __init__(self, busy: list[str]) -> None:
        super().__init__()
        self._busy = busy

    def compose(self) -> ComposeResult:
        queued = len(self._busy) - 1
        more = f", and {queued} more queued (skipped on quit)" if queued else ""
        with Vertical(id="confirm-quit", classes="box"):
            yield Static(
                Text.assemble(
                    ("Quit while work is in flight?\n\n", "bold"),
                    f"Running: {self._busy[0]}{more}.\n",
                    "Quitting lets it finish (a bulk add stops after its batch in flight), "
                    "then closes the database. Every committed row stays.",
                )
            )
            with Horizontal(classes="buttons"):
                yield Button(
                    "Quit (y, Ctrl+Q)",
                    id="quit-yes",
                    variant="error",
                    action="screen.dismiss(True)",
                )
                yield Button(
                    "Stay (n / Escape)",
                    id="quit-no",
                    variant="primary",
                    action="screen.dismiss(False)",
                )

    def on_mount(self) -> None:
        self.query_one("#quit-no", Button).focus()


class SaveElsewhere(WarningDialog[Path | None]):
    """A file could not be written where it was meant to go: offer other folders."""

    DEFAULT_CSS = """
    #save-places {
        height: auto;
        max-height: 6;
    }
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "cancel", id="save-cancel")]

    def __init__(self, reason: str, places: list[Path]) -> None:
        super().__init__()
        self._reason = reason
        self._places = places

    def compose(self) -> ComposeResult:
        with Vertical(id="save-elsewhere", classes="box"):
            yield Static(Text(self._reason, "bold red"))
            yield Static(Text("Save it in another folder (Enter), or Escape to leave it:"))
            yield OptionList(
                *(
                    Option(Text(visible(str(place))), id=str(i))
                    for i, place in enumerate(self._places)
                ),
                id="save-places",
            )

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._places[int(event.option.id or 0)])

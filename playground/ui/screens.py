"""Modal screens: the scenario picker, the reset confirmation and the bulk-add dialog."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.validation import Number
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from ..core.scenarios import SCENARIOS


class ScenarioPicker(ModalScreen[str | None]):
    """Choose the experiment to run; Enter or a click picks, Escape keeps the current one."""

    BINDINGS = [Binding("escape", "dismiss(None)", "cancel", id="cancel-picker")]

    def __init__(self, current: str) -> None:
        super().__init__()
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static(Text("Pick a scenario (Enter), or Escape", "bold"))
            yield OptionList(*self._options(), id="scenarios")

    @staticmethod
    def _options() -> list[Option]:
        """One disabled heading per group, then its scenarios, numbered across groups."""
        options: list[Option] = []
        number = 0
        for group, scenarios in SCENARIOS.grouped():
            options.append(Option(Text(group, "bold underline"), disabled=True))
            for scenario in scenarios:
                number += 1
                label = Text.assemble(
                    (f"{number:>2}. {scenario.title}", "bold"),
                    (f"  {scenario.summary}", "dim"),
                )
                options.append(Option(label, id=scenario.name))
        return options

    def on_mount(self) -> None:
        picker = self.query_one(OptionList)
        picker.highlighted = picker.get_option_index(self._current)
        picker.focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class ConfirmReset(ModalScreen[bool]):
    """Ask before dropping the playground's tables; only y, Enter on Yes, or a click agrees."""

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
                yield Button("Yes, drop them (y)", id="yes", variant="error")
                yield Button("No (n / Escape)", id="no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _answered(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class BulkDialog(ModalScreen[int | None]):
    """Ask how many users to add in bulk; Enter starts, Escape cancels."""

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

"""Modal screens: the scenario picker."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
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
            options = [
                Option(
                    Text.assemble(
                        (f"{index}. {scenario.title}", "bold"),
                        ("\n   ", ""),
                        (scenario.summary, "dim"),
                    ),
                    id=name,
                )
                for index, (name, scenario) in enumerate(SCENARIOS.items(), start=1)
            ]
            yield OptionList(*options, id="scenarios")

    def on_mount(self) -> None:
        picker = self.query_one(OptionList)
        picker.highlighted = list(SCENARIOS).index(self._current)
        picker.focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

"""The main screen's two panels: the scenario's switches, and the add-user form.

Each owns its widgets and says what happened with a message; the main screen decides
what that means for the lab.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Static, Switch

from ..core.scenarios import Scenario
from .widgets import BulkMeter, NameInput, OptionRow

OPTION_KEYS = ("f2", "f3", "f4", "f5")
"""The keys that flip the first switches, in order."""


class SettingsPanel(Vertical):
    """The current scenario's switches, one per option, each with its key and hint."""

    @dataclass
    class Changed(Message):
        """A switch was flipped (by a key, a click or a scenario opened with settings)."""

        key: str
        value: bool

    def __init__(self, scenario: Scenario, settings: Mapping[str, bool], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.border_title = "Settings"
        self._shown = (scenario, dict(settings))

    def compose(self) -> ComposeResult:
        yield from self._switches(*self._shown)

    def on_mount(self) -> None:
        self._fit(self._shown[0])

    @staticmethod
    def _switches(scenario: Scenario, settings: Mapping[str, bool]) -> list[OptionRow]:
        return [
            OptionRow(
                option,
                settings[option.key],
                OPTION_KEYS[i].upper() if i < len(OPTION_KEYS) else "Tab, Space",
            )
            for i, option in enumerate(scenario.options)
        ]

    def _fit(self, scenario: Scenario) -> None:
        # More than two switches show one line each on a short screen (see the style sheet).
        self.set_class(len(scenario.options) > 2, "-many")

    async def show(self, scenario: Scenario, settings: Mapping[str, bool]) -> None:
        """Show ``scenario``'s switches instead, at ``settings``."""
        self._shown = (scenario, dict(settings))
        await self.remove_children()
        await self.mount_all(self._switches(scenario, settings))
        self._fit(scenario)

    def flip(self, key: str) -> bool:
        """Flip the switch of option ``key`` and return its new value."""
        switch = self.query_one(f"#switch-{key}", Switch)
        switch.toggle()
        return switch.value

    def set_values(self, settings: Mapping[str, bool]) -> None:
        """Set each switch to ``settings``; only the ones that change say so."""
        for switch in self.query(OptionRow):
            wanted = settings.get(switch.option.key, switch.value)
            if switch.value != wanted:
                switch.value = wanted

    @on(Switch.Changed)
    def _changed(self, event: Switch.Changed) -> None:
        event.stop()
        key = (event.switch.id or "").removeprefix("switch-")
        self.post_message(self.Changed(key, event.value))


class AddForm(Vertical):
    """The name field and its Add button, the one-line message below, and the bulk meter.

    Enter in the field (or the button) posts ``NameInput.Submitted`` straight to the
    screen, and a refused paste ``NameInput.Refused``; which of the message line and the
    bulk meter shows is the style sheet's call, from the screen's classes.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.border_title = "Add user"

    def compose(self) -> ComposeResult:
        with Horizontal(id="form-row"):
            yield NameInput(placeholder="name, then Enter", id="name")
            yield Button("Add", id="add", variant="primary", action="screen.submit_name")
        yield Static(Text("Enter commits; F-keys flip the switches.", "dim"), id="message")
        yield BulkMeter(id="bulk-progress")

    def say(self, text: str, error: bool = False) -> None:
        """Show a one-line message under the form; user text is never markup.

        A layout pass (which reflows the whole screen) is asked for only when the
        message may wrap, before or after: most messages fit the line they replace.
        """
        line = self.query_one("#message", Static)
        content = Text(text, "bold red" if error else "dim")
        width = line.content_size.width
        fits = "\n" not in text and 0 < content.cell_len <= width
        line.update(content, layout=not (fits and line.content_size.height == 1))

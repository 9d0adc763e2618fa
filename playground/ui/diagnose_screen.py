"""The paste screen: paste a traceback, read the diagnosis, open the matching scenario.

The diagnosis runs in a thread worker a moment after the text stops changing, so a
paste of any size never blocks typing; everything pasted stays plain text (a
``TextArea`` never reads markup, and the report is built as ``rich.text.Text``).
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, Footer, Static, TextArea
from textual.worker import get_current_worker

from ..core.diagnose import Diagnosis, diagnose, report_lines
from ..core.scenarios import SCENARIOS

DEBOUNCE = 0.3
"""Seconds the text must stay unchanged before it is diagnosed again."""

PROMPT = (
    "Paste a traceback above (a server log, pytest output, a GitHub issue...). "
    "The diagnosis appears here."
)


STYLES = {
    "heading": "bold",
    "pitfall": "bold magenta",
    "title": "bold",
    "dim": "dim",
    "why": "italic",
    "code": "green",
    "command": "bold green",
}
"""How the paste screen styles each role of the report's lines (plain when not listed)."""


def report(diagnosis: Diagnosis | None) -> Text:
    """The diagnosis as Rich ``Text``: the pasted text in it is never read as markup."""
    out = Text()
    if diagnosis is None:
        out.append(PROMPT, "dim")
        return out
    live = _live_line(diagnosis) if diagnosis.pitfall is not None else None
    for number, line in enumerate(report_lines(diagnosis, live)):
        if number:
            out.append("\n")
        out.append(line.text, STYLES.get(line.role, ""))
    return out


def _live_line(diagnosis: Diagnosis) -> str:
    if diagnosis.scenario is None:
        return "No live scenario yet for this pitfall."
    if diagnosis.scenario not in SCENARIOS:
        return f"Scenario {diagnosis.scenario!r} is not in this version yet."
    return f"Ctrl+O opens it live: {diagnosis.command}"


class DiagnoseScreen(Screen[tuple[str, dict[str, bool]] | None]):
    """Paste a traceback; Ctrl+O opens the scenario that reproduces it, Escape goes back."""

    DEFAULT_CSS = """
    DiagnoseScreen { layout: vertical; }
    DiagnoseScreen #diagnose-title { height: 1; padding: 0 1; background: $boost; }
    DiagnoseScreen #paste { height: 8; }
    DiagnoseScreen #diagnose-actions { height: 3; }
    DiagnoseScreen #open-live-button { margin: 0 1; }
    DiagnoseScreen #diagnose-status { padding: 1 1 0 1; width: 1fr; }
    DiagnoseScreen #diagnosis-scroll { height: 1fr; padding: 0 1; }
    """

    BINDINGS = [
        Binding("ctrl+o", "open_live", "Open it live", id="open-live", priority=True),
        Binding("escape", "back", "Back", id="diagnose-back", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.diagnosis: Diagnosis | None = None
        self.shown: Text = report(None)
        """The report on screen, as the Text it was built from."""
        self._timer: Timer | None = None
        self._generation = 0
        self._done_generation = 0

    def compose(self) -> ComposeResult:
        yield Static(
            Text("Diagnose your traceback: paste it below · Ctrl+O opens it live · Escape back"),
            id="diagnose-title",
        )
        yield TextArea(id="paste", soft_wrap=False, show_line_numbers=False, tab_behavior="focus")
        with Horizontal(id="diagnose-actions"):
            yield Button(
                "Open it live",
                id="open-live-button",
                variant="primary",
                disabled=True,
                action="screen.open_live",
            )
            yield Static(Text(""), id="diagnose-status")
        with VerticalScroll(id="diagnosis-scroll"):
            yield Static(self.shown, id="diagnosis")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @property
    def settled(self) -> bool:
        """True when the diagnosis shown is for the text as it is now."""
        return self._done_generation == self._generation and self._timer is None

    @on(TextArea.Changed, "#paste")
    def _changed(self) -> None:
        self._generation += 1
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, self._start)
        self.query_one("#diagnose-status", Static).update(Text("reading...", "dim"))

    def _start(self) -> None:
        self._timer = None
        self._diagnose(self.query_one(TextArea).text, self._generation)

    @work(thread=True, exclusive=True, group="diagnose")
    def _diagnose(self, text: str, generation: int) -> None:
        result = diagnose(text) if text.strip() else None
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, result, generation)

    def _show(self, diagnosis: Diagnosis | None, generation: int) -> None:
        if generation != self._generation:
            return
        self.diagnosis = diagnosis
        self._done_generation = generation
        self.shown = report(diagnosis)
        self.query_one("#diagnosis", Static).update(self.shown)
        openable = self._target() is not None
        self.query_one("#open-live-button", Button).disabled = not openable
        status = self.query_one("#diagnose-status", Static)
        if diagnosis is None or diagnosis.pitfall is None:
            status.update(Text("no pitfall named", "dim"))
        else:
            status.update(Text(f"{diagnosis.pitfall} ({diagnosis.confidence})", "bold"))

    def _target(self) -> tuple[str, dict[str, bool]] | None:
        diagnosis = self.diagnosis
        if diagnosis is None or diagnosis.scenario is None or diagnosis.scenario not in SCENARIOS:
            return None
        return diagnosis.scenario, diagnosis.settings_dict

    def action_open_live(self) -> None:
        """Leave with the scenario and switches that reproduce the pasted case."""
        target = self._target()
        if target is None:
            self.notify("No scenario to open for this text yet.", severity="warning")
            return
        self.dismiss(target)

    def action_back(self) -> None:
        self.dismiss(None)

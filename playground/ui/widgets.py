"""The app's widgets: the name field, the settings switches, the log, table and panes."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Input, OptionList, Static, Switch
from textual.widgets.option_list import Option as ListOption

from ..core.names import name_problem, paste_problem, visible
from ..core.results import ExperimentResult, Explanation
from ..core.scenarios import Option
from .render import details, log_entry


class KeysInOrder:
    """A widget that runs its own key bindings as each key arrives, not after it bubbles.

    Textual resolves a focused widget's bindings (an Input's Enter and Backspace, a
    switch's Space) only once the key has bubbled up to the app, a few queue hops later,
    while the widget goes on handling the keys typed after it: a fast typist or a pasted
    ``alice\nbob`` had its Enter commit text typed after it.
    """

    async def _on_key(self, event: events.Key) -> None:
        # Textual calls the ``_on_key`` of every class in the MRO, so this one runs after
        # the subclass's own and before the widget's, unless a handler prevented it.
        assert isinstance(self, Widget)
        if self.check_consume_key(event.key, event.character):
            return  # text for the widget itself (a letter in an Input)
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()
                return


class NameInput(KeysInOrder, Input):
    """The name field: every key acts in the order it arrived, and nothing typed is dropped.

    ``snapshot``, when set, is called as Enter is handled; its value travels with the
    submission, so a switch flipped right after Enter does not change that commit.
    """

    snapshot: Callable[[], object] | None = None

    @dataclass
    class Submitted(Input.Submitted):
        """Enter in the name field, with the app's ``snapshot`` as of that key."""

        context: object = None

    @dataclass
    class Refused(Message):
        """A paste was refused as a whole; ``reason`` says what and why."""

        reason: str

    async def _on_key(self, event: events.Key) -> None:
        char = event.character
        if (
            char is not None
            and len(char) == 1
            and not char.isprintable()
            and unicodedata.category(char) != "Cc"
        ):
            # Zero-width joiners, direction marks, no-break spaces: Input drops keys it
            # deems unprintable, but a name may need them and the screen escapes them.
            event.stop()
            event.prevent_default()
            self._insert(char)

    def _on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()
        problem = paste_problem(event.text)
        if problem is not None:
            self.post_message(self.Refused(problem))
        elif event.text:
            self._insert(event.text)

    def _insert(self, text: str) -> None:
        selection = self.selection
        if selection.is_empty:
            self.insert_text_at_cursor(text)
        else:
            self.replace(text, *selection)

    async def action_submit(self) -> None:
        """Post the value and clear the field at once, before any later key is handled."""
        value = self.value
        if name_problem(value) is None:
            self.value = ""
        context = self.snapshot() if self.snapshot is not None else None
        self.post_message(self.Submitted(self, value, context=context))


class LabSwitch(KeysInOrder, Switch):
    """A switch whose Space and Enter act in the order they were typed."""


class OptionSwitch(Vertical):
    """One scenario option: a switch, its label with the key that flips it, and a hint."""

    def __init__(self, option: Option, value: bool, key_hint: str) -> None:
        super().__init__(classes="option", id=f"option-{option.key}")
        self.option = option
        self._value = value
        self._key_hint = key_hint

    def compose(self) -> ComposeResult:
        with Horizontal(classes="option-row"):
            yield LabSwitch(self._value, id=f"switch-{self.option.key}", tooltip=self.option.hint)
            yield Static(self._label(self._value), classes="option-label")
        yield Static(Text(self.option.hint), classes="option-hint")

    def _label(self, value: bool) -> Text:
        return Text.assemble(
            ("ON " if value else "OFF", "bold green" if value else "bold red"),
            (f" {self.option.label}", "bold"),
            (f" {self._key_hint}", "dim"),
        )

    def on_switch_changed(self, event: Switch.Changed) -> None:
        self.query_one(".option-label", Static).update(self._label(event.value))


class CommitLog(OptionList):
    """The live log: one compact entry per experiment; Enter or a click opens its details."""

    MAX_ENTRIES = 500
    TRIM = 100

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.entries: dict[str, tuple[ExperimentResult, Explanation]] = {}
        self.dropped = 0
        self._notes = 0

    def add_entry(self, result: ExperimentResult, explanation: Explanation) -> None:
        entry_id = f"entry-{result.seq}"
        self.entries[entry_id] = (result, explanation)
        self.add_option(ListOption(log_entry(result, explanation), id=entry_id))
        self._trim()
        self.highlighted = self.option_count - 1
        self.scroll_end(animate=False)

    def _trim(self) -> None:
        """Drop the oldest entries, ``TRIM`` at a time, once past ``MAX_ENTRIES``.

        OptionList re-renders every option after any removal, so removing one entry per
        commit would make each commit cost more as the log fills; in batches it stays flat.
        """
        if self.option_count <= self.MAX_ENTRIES + self.TRIM:
            return
        kept = self.options[self.option_count - self.MAX_ENTRIES :]
        for option in self.options[: self.option_count - self.MAX_ENTRIES]:
            if self.entries.pop(option.id or "", None) is not None:
                self.dropped += 1
        self.set_options(kept)
        self.border_subtitle = f"{self.dropped:,} older entries dropped"

    def add_note(self, note: Text) -> None:
        """A line that is not an experiment (a bulk add, say); it has no details."""
        self._notes += 1
        self.add_option(ListOption(note, id=f"note-{self._notes}"))
        self.highlighted = self.option_count - 1
        self.scroll_end(animate=False)

    def selected_entry(self) -> tuple[ExperimentResult, Explanation] | None:
        option = self.highlighted_option
        return None if option is None else self.entries.get(option.id or "")


class UsersTable(DataTable[Text]):
    """The newest rows as the database holds them; names shown literally, never as markup.

    It keeps at most ``MAX_ROWS``: the table on screen is a window on the newest rows,
    so a database of any size costs the same to show.
    """

    MAX_ROWS = 200

    CHUNK = 50

    def on_mount(self) -> None:
        self._pending: list[tuple[int, str]] = []
        self.cursor_type = "row"
        self.add_column(Text("uid"), key="uid")
        self.add_column(Text("name"), key="name")

    def replace_users(self, rows: list[tuple[int, str]]) -> None:
        """Show ``rows`` instead, ``CHUNK`` rows per frame so no frame waits on them all."""
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


class DetailsPane(VerticalScroll):
    """The full story of one log entry."""

    def compose(self) -> ComposeResult:
        yield Static(
            Text("Nothing yet: add a user, then pick an entry in the log.", "dim"),
            id="details-body",
        )

    def show(self, result: ExperimentResult, explanation: Explanation) -> None:
        self.query_one("#details-body", Static).update(details(result, explanation))
        self.scroll_home(animate=False)

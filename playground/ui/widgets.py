"""The app's widgets: the name field, the settings switches, the log, table and panes."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.progress_bar import ProgressBar as RichProgressBar
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.cache import LRUCache
from textual.containers import Horizontal, VerticalScroll
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Input, Static, Switch

from ..core.names import name_problem, paste_problem, visible
from ..core.results import ExperimentResult, Explanation
from ..core.scenarios import Option
from .compat import own_bindings
from .line_view import LineView
from .render import details


class KeysInOrder:
    """A widget that runs its own key bindings as each key arrives, not after it bubbles.

    Textual resolves a focused widget's bindings (an Input's Enter and Backspace, a
    switch's Space) only once the key has bubbled up to the app, a few queue hops later,
    while the widget goes on handling the keys typed after it: a fast typist or a pasted
    ``alice\nbob`` had its Enter commit text typed after it.
    """

    async def on_key(self, event: events.Key) -> None:
        # Textual calls the key handler of every class in the MRO (see compat.py), so this
        # one runs after the subclass's own and before the widget's, unless one prevented it.
        assert isinstance(self, Widget)
        if self.check_consume_key(event.key, event.character):
            return  # text for the widget itself (a letter in an Input)
        for binding in own_bindings(self, event.key):
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

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
    """As Textual's, without a layout pass when it changes: the field grows it on every key.

    The field's box is fixed by the style sheet, so its text never moves another widget;
    with the layout pass every keystroke reflowed and repainted the whole screen.
    """

    @dataclass
    class Submitted(Input.Submitted):
        """Enter in the name field, with the app's ``snapshot`` as of that key."""

        context: object = None

    @dataclass
    class Refused(Message):
        """A paste was refused as a whole; ``reason`` says what and why."""

        reason: str

    async def on_key(self, event: events.Key) -> None:
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

    def on_input_changed(self, event: Input.Changed) -> None:
        """Keep each change here: nothing above listens, and each container it bubbled
        through handled it in turn, on the loop a running commit's replies wait for."""
        event.stop()

    def on_paste(self, event: events.Paste) -> None:
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
        """Post the value to the screen and clear the field, before any later key is handled.

        The screen is the one that acts on it; posted straight to its queue, the commit
        starts without first bubbling through the field's four containers.
        """
        value = self.value
        context = self.snapshot() if self.snapshot is not None else None
        self.screen.post_message(self.Submitted(self, value, context=context))
        if name_problem(value) is None:
            self.value = ""


class LabSwitch(KeysInOrder, Switch):
    """A scenario's switch: Space and Enter act in the order they were typed."""


class OptionRow(Horizontal):
    """One scenario option: its switch, and beside it its state, label, key and hint.

    Textual's Switch and Static side by side; a click on the text flips the switch too,
    as a click on a checkbox's label does.
    """

    DEFAULT_CSS = """
    OptionRow LabSwitch {
        border: none;
        height: 1;
        padding: 0;
        margin-right: 1;
        &:focus { border: none; background-tint: $foreground 20%; }
    }
    OptionRow .option-text { width: 1fr; }
    """

    def __init__(self, option: Option, value: bool, key_hint: str) -> None:
        super().__init__(classes="option", id=f"option-{option.key}")
        self.option = option
        self._value = value
        self._key_hint = key_hint

    def compose(self) -> ComposeResult:
        yield LabSwitch(self._value, id=f"switch-{self.option.key}", tooltip=self.option.hint)
        yield Static(self.text(self._value), classes="option-text")

    @property
    def switch(self) -> Switch:
        return self.query_one(LabSwitch)

    @property
    def value(self) -> bool:
        return self.switch.value

    @value.setter
    def value(self, value: bool) -> None:
        self.switch.value = value

    def text(self, value: bool) -> Text:
        """What the option says beside its switch: state, label, key, then the hint."""
        return Text.assemble(
            ("ON " if value else "OFF", "bold green" if value else "bold red"),
            (f" {self.option.label}", "bold"),
            (f" {self._key_hint}", "dim"),
            "\n",
            (self.option.hint, "dim"),
        )

    @on(Switch.Changed)
    def _changed(self, event: Switch.Changed) -> None:
        self.query_one(".option-text", Static).update(self.text(event.value), layout=False)

    def on_click(self, event: events.Click) -> None:
        if event.widget is not self.switch:  # the switch flips itself
            self.switch.toggle()


class UsersTable(LineView, can_focus=True, inherit_bindings=False):
    """The newest rows as the database holds them; names shown literally, never as markup.

    A line-API widget on Textual's ScrollView: a header line, then the newest
    ``MAX_ROWS`` rows, newest at the bottom and in view after each commit; the keys and
    the mouse wheel scroll further back. Each row is drawn once and its line kept. It
    stays hand-made because Textual's DataTable cost about a frame more before the first
    Enter was taken (docs/benchmarks.md).
    """

    MAX_ROWS = 200

    COMPONENT_CLASSES = {"users-table--header", "users-table--uid", "users-table--newest"}
    DEFAULT_CSS = """
    UsersTable { scrollbar-size-vertical: 1; overflow-x: hidden; }
    UsersTable > .users-table--header { text-style: bold; color: $text-accent; }
    UsersTable > .users-table--uid { color: $text-muted; }
    UsersTable > .users-table--newest { background: $accent 25%; }
    """
    BINDINGS = [
        Binding("up", "scroll_up", "older", show=False, id="users-older"),
        Binding("down", "scroll_down", "newer", show=False, id="users-newer"),
        Binding("pageup", "page_up", "older page", show=False, id="users-page-up"),
        Binding("pagedown", "page_down", "newer page", show=False, id="users-page-down"),
        Binding("home", "scroll_home", "oldest", show=False, id="users-oldest"),
        Binding("end", "scroll_end", "newest", show=False, id="users-newest"),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rows: list[tuple[int, str]] = []
        self._uids: set[int] = set()
        # Lines drawn lately: the rows on screen and a scroll's worth more.
        self._lines: LRUCache[tuple[object, ...], Strip] = LRUCache(128)

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def row_texts(self) -> list[tuple[str, str]]:
        """Every kept row as drawn (uid, name), oldest first."""
        return [(str(uid), visible(name)) for uid, name in self._rows]

    def replace_users(self, rows: list[tuple[int, str]]) -> None:
        """Show ``rows`` instead of what is shown."""
        self._rows, self._uids = [], set()
        self.add_users(rows)

    def add_users(self, rows: list[tuple[int, str]]) -> None:
        """Append rows not shown yet, keep the newest ``MAX_ROWS``, and show the newest."""
        new = [(uid, name) for uid, name in rows if uid not in self._uids]
        if not new and self._rows:
            return
        self._rows.extend(new)
        self._uids.update(uid for uid, _ in new)
        if len(self._rows) > self.MAX_ROWS:
            for uid, _ in self._rows[: -self.MAX_ROWS]:
                self._uids.discard(uid)
            del self._rows[: -self.MAX_ROWS]
        self.set_line_count(len(self._rows) + 1)  # the rows and the header
        self.show_last_line()
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        uid_width = max(3, len(str(self._rows[-1][0])) if self._rows else 0)
        if y == 0:  # the header stays while the rows scroll under it
            header = self.get_component_rich_style("users-table--header")
            title = Strip([Segment(f" {'uid':>{uid_width}}  name", base + header)])
            return title.crop_extend(0, width, base)
        index = round(self.scroll_y) + y - 1
        if not 0 <= index < len(self._rows):
            return Strip.blank(width, base)
        uid, name = self._rows[index]
        newest = index == len(self._rows) - 1
        key = (uid, name, width, uid_width, newest, base)
        cached = self._lines.get(key)
        if cached is not None:
            return cached
        if newest:
            base += self.get_component_rich_style("users-table--newest")
        muted = self.get_component_rich_style("users-table--uid")
        uid_style = base + Style.from_color(muted.color)  # its colour, not its background
        parts = [Segment(f" {uid:>{uid_width}}  ", uid_style), Segment(visible(name), base)]
        line = self._lines[key] = Strip(parts).crop_extend(0, width, base)
        return line


class BulkMeter(Static):
    """A bulk add's progress on one line: Rich's progress bar and the rows so far.

    A Static composed with the form rather than Textual's ProgressBar: mounting that one
    (at start or when a bulk add began) restyled the whole screen, a stall of frames.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.progress = 0
        self.total = 0

    def show_progress(self, done: int, total: int) -> None:
        self.progress, self.total = done, total
        line = Table.grid(expand=True, padding=(0, 1))
        line.add_column(ratio=1)
        line.add_column(no_wrap=True)
        line.add_row(
            RichProgressBar(total=max(total, 1), completed=done),
            Text.assemble((f"{done:,} of {total:,}", "bold"), ("  Ctrl+G stops", "dim")),
        )
        self.update(line, layout=False)


class KeysBar(Widget):
    """The key bar at the bottom: one widget drawing one line, rebuilt only on change.

    Textual's Footer mounts a widget per key and rebuilds them all whenever the focus or
    a binding changes: at start-up its widgets were mounted and styled again after the
    first frame, while the first Enter waited (docs/benchmarks.md). Like the Footer it
    shows the screen's active bindings that ask to be shown (one per action), dims the
    ones that cannot act now, keeps the command palette's key at the right, and a click
    on a key presses it.
    """

    COMPONENT_CLASSES = {"keys-bar--key", "keys-bar--description", "keys-bar--disabled"}
    DEFAULT_CSS = """
    KeysBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
        & > .keys-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .keys-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .keys-bar--disabled { text-style: dim; }
    }
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._keys: list[tuple[str, str, str, bool]] = []  # key, shown as, description, enabled
        self._palette: tuple[str, str, str, bool] | None = None
        self._spans: list[tuple[int, int, str, bool]] = []  # start, end, key, enabled

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen[object]) -> None:
        """Read the screen's bindings again; draw again only if what is shown changed."""
        app = screen.app
        palette_key = app.COMMAND_PALETTE_BINDING
        keys, actions, palette = [], set(), None
        # The app's own keys (quitting) first, so a narrow bar never leaves them out.
        active = sorted(screen.active_bindings.items(), key=lambda item: item[1].node is not app)
        for key, (_, binding, enabled, _tooltip) in active:
            entry = (key, app.get_key_display(binding), binding.description, enabled)
            if key == palette_key and app.ENABLE_COMMAND_PALETTE:
                palette = entry
            elif binding.show and binding.action not in actions:
                actions.add(binding.action)
                keys.append(entry)
        if (keys, palette) != (self._keys, self._palette):
            self._keys, self._palette = keys, palette
            self.refresh()

    def _item(self, entry: tuple[str, str, str, bool]) -> Text:
        _, shown, description, enabled = entry
        item = Text.assemble(
            (f" {shown} ", self.get_component_rich_style("keys-bar--key", partial=True)),
            (
                f"{description} ",
                self.get_component_rich_style("keys-bar--description", partial=True),
            ),
        )
        if not enabled:
            item.stylize(self.get_component_rich_style("keys-bar--disabled", partial=True))
        return item

    def render(self) -> Text:
        width = self.size.width
        palette = self._item(self._palette) if self._palette is not None else Text()
        if palette:
            palette = Text.assemble(("▏", "dim"), palette)
        room = width - palette.cell_len
        line, spans = Text(no_wrap=True, overflow="crop"), []
        for entry in self._keys:
            item = self._item(entry)
            if line.cell_len + item.cell_len > room:
                break  # a key cut in half is worse than a key left out
            spans.append((line.cell_len, line.cell_len + item.cell_len, entry[0], entry[3]))
            line.append_text(item)
        line.pad_right(max(0, room - line.cell_len))
        if self._palette is not None:
            spans.append((room, width, self._palette[0], self._palette[3]))
            line.append_text(palette)
        self._spans = spans
        return line

    def on_click(self, event: events.Click) -> None:
        for start, end, key, enabled in self._spans:
            if start <= event.x < end:
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return


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

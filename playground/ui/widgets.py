"""The app's widgets: the name field, the settings switches, the log, table and panes."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from rich.console import Console, ConsoleOptions, ConsoleRenderable
from rich.console import RenderResult as RichRenderResult
from rich.progress_bar import ProgressBar as RichProgressBar
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding
from textual.cache import LRUCache
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Button, Input, Static, Switch

from ..core.names import name_problem, paste_problem, visible
from ..core.results import ExperimentResult, Explanation
from ..core.scenarios import Option
from .compat import own_bindings
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


class OneLine:
    """A renderable drawn one line high: a table cell otherwise leaves its height open,
    and a horizontal ScrollBarRender then grows as tall as the terminal."""

    def __init__(self, renderable: ConsoleRenderable) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RichRenderResult:
        yield from console.render(self.renderable, options.update(height=1))


class OptionSwitch(KeysInOrder, Switch):
    """One scenario option as one widget: its switch, its label and key, and a hint below.

    Textual's Switch, drawing its text beside the slider, so a click anywhere on the
    option flips it. Space and Enter act in the order they were typed. At start-up each
    widget is composed, styled and laid out before the first frame; a switch with a
    label beside it in a row of its own was three.
    """

    def __init__(self, option: Option, value: bool, key_hint: str) -> None:
        super().__init__(value, id=f"switch-{option.key}", classes="option", tooltip=option.hint)
        self.option = option
        self._key_hint = key_hint

    def text(self) -> Text:
        """What the option says beside its switch: state, label, key, then the hint."""
        value = self.value
        return Text.assemble(
            ("ON " if value else "OFF", "bold green" if value else "bold red"),
            (f" {self.option.label}", "bold"),
            (f" {self._key_hint}", "dim"),
            "\n",
            (self.option.hint, "dim"),
        )

    def render(self) -> RenderResult:
        row = Table.grid(padding=(0, 1), expand=True)
        row.add_column(width=4)
        row.add_column(ratio=1)
        slider = cast(ConsoleRenderable, super().render())  # Switch draws a ScrollBarRender
        row.add_row(OneLine(slider), self.text())
        return row

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        # Switch's own is one line, for the slider alone.
        return Widget.get_content_height(self, container, viewport, width)


class AddButton(Button, inherit_css=False):
    """The form's Add button: Textual's Button, styled by the few rules it uses.

    Button's own style sheet (~250 lines, every variant in two styles) was parsed before
    the first frame for this one button, ~7 ms of start-up; the dialogs' buttons still use
    it, parsed when a dialog first opens.
    """

    DEFAULT_CSS = """
    AddButton {
        width: auto;
        height: auto;
        line-pad: 1;
        text-align: center;
        content-align: center middle;
        pointer: pointer;
        text-style: bold;
        color: $button-color-foreground;
        background: $primary;
        border: none;
        border-top: tall $primary-lighten-3;
        border-bottom: tall $primary-darken-3;
        &:focus {
            text-style: $button-focus-text-style;
            background-tint: $foreground 5%;
        }
        &:hover {
            background: $primary-darken-2;
            border-top: tall $primary;
        }
        &.-active {
            background: $primary;
            border-bottom: tall $primary-lighten-3;
            border-top: tall $primary-darken-3;
        }
    }
    """


class UsersTable(Widget, can_focus=True):
    """The newest rows as the database holds them; names shown literally, never as markup.

    A window on the newest ``MAX_ROWS`` rows, newest at the bottom; Up, Down, the page
    keys and the mouse wheel look further back. Each row is drawn once and its line kept
    (Textual's line API): with a DataTable every new row redrew every visible cell and
    reflowed the whole screen, most of the frame that follows a commit.
    """

    MAX_ROWS = 200

    COMPONENT_CLASSES = {"users-table--header", "users-table--uid", "users-table--newest"}
    DEFAULT_CSS = """
    UsersTable > .users-table--header { text-style: bold; color: $text-accent; }
    UsersTable > .users-table--uid { color: $text-muted; }
    UsersTable > .users-table--newest { background: $accent 25%; }
    """
    BINDINGS = [
        Binding("up", "look_back(1)", "older", show=False, id="users-older"),
        Binding("down", "look_back(-1)", "newer", show=False, id="users-newer"),
        Binding("pageup", "look_back_page(1)", "older page", show=False, id="users-page-up"),
        Binding("pagedown", "look_back_page(-1)", "newer page", show=False, id="users-page-down"),
        Binding("home", "look_back_all(1)", "oldest", show=False, id="users-oldest"),
        Binding("end", "look_back_all(-1)", "newest", show=False, id="users-newest"),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rows: list[tuple[int, str]] = []
        self._uids: set[int] = set()
        self._back = 0
        """How many of the newest rows are below the window (0: the newest is shown)."""
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
        self._rows, self._uids, self._back = [], set(), 0
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
        self._back = 0
        self.refresh()

    # ---------------------------------------------------------------- looking back
    def action_look_back(self, rows: int) -> None:
        window = max(1, self.size.height - 1)
        self._back = max(0, min(self._back + rows, len(self._rows) - window))
        self.refresh()

    def action_look_back_page(self, pages: int) -> None:
        self.action_look_back(pages * max(1, self.size.height - 2))

    def action_look_back_all(self, direction: int) -> None:
        self.action_look_back(direction * self.MAX_ROWS)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.action_look_back(3)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.action_look_back(-3)

    # --------------------------------------------------------------------- drawing
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        uid_width = max(3, len(str(self._rows[-1][0])) if self._rows else 0)
        if y == 0:
            header = self.get_component_rich_style("users-table--header")
            title = Strip([Segment(f" {'uid':>{uid_width}}  name", base + header)])
            return title.crop_extend(0, width, base)
        window = max(1, self.size.height - 1)
        first = max(0, len(self._rows) - self._back - window)
        index = first + y - 1
        if index >= len(self._rows) - self._back:
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
    (at start or when a bulk add began) restyled the whole screen, a 60-100 ms stall.
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


class TitleBar(Widget):
    """The top line: an icon that opens the command palette, and the app's title.

    One widget drawing one line, where Textual's Header mounts four; at start-up each
    widget is composed, styled, laid out and drawn before the first frame.
    """

    ICON = "▶"
    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "title", self._retitle, init=False)
        self.watch(self.app, "sub_title", self._retitle, init=False)
        self.tooltip = "Open the command palette (Ctrl+P)"

    def _retitle(self) -> None:
        self.refresh()

    def render(self) -> Text:
        title = Text(self.app.title)
        if self.app.sub_title:
            title.append(f" — {self.app.sub_title}", "dim")
        width = self.size.width
        line = Text(f" {self.ICON} ", no_wrap=True, overflow="ellipsis")
        room = width - 2 * line.cell_len
        title.truncate(max(0, room), overflow="ellipsis")
        line.append(" " * max(0, (room - title.cell_len) // 2))
        line.append_text(title)
        return line

    async def on_click(self, event: events.Click) -> None:
        if event.x < 3:
            await self.run_action("app.command_palette")


class KeysBar(Widget):
    """The key bar at the bottom: one widget drawing one line, rebuilt only on change.

    Textual's Footer mounts a widget per key and rebuilds them all whenever the focus or
    a binding changes: at start-up its ~15 widgets were mounted and styled after the
    first frame, holding up the database's first replies by 60 ms. Like the Footer it
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

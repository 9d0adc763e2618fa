"""The live log: one compact entry per experiment, the newest at the bottom."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip

from ..core.results import ExperimentResult, Explanation
from .line_view import LineView
from .render import log_entry


@dataclass
class _Entry:
    """One entry as shown: its text, and its lines wrapped for one width."""

    id: str
    text: Text
    width: int = 0
    lines: list[Strip] = field(default_factory=list)


class CommitLog(LineView, can_focus=True):
    """The live log: one compact entry per experiment; Enter or a click opens its details.

    A line-API widget on Textual's ScrollView, as Textual's ``Log`` is: each entry is
    wrapped once, when it arrives, and its lines are kept; the view follows the newest
    entry, and the keys move a highlight through the entries. Why it is not Textual's
    OptionList: docs/benchmarks.md (its wrapped lines would also start at column 0).
    """

    MAX_ENTRIES = 500
    TRIM = 100

    COMPONENT_CLASSES = {"commit-log--highlighted"}
    DEFAULT_CSS = """
    CommitLog {
        background: $surface;
        color: $foreground;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
        & > .commit-log--highlighted {
            background: $block-cursor-blurred-background;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .commit-log--highlighted {
                color: $block-cursor-foreground;
                background: $block-cursor-background;
                text-style: $block-cursor-text-style;
            }
        }
    }
    """
    BINDINGS = [
        Binding("up", "move(-1)", "older entry", show=False, id="log-older"),
        Binding("down", "move(1)", "newer entry", show=False, id="log-newer"),
        Binding("pageup", "move_page(-1)", "older page", show=False, id="log-page-up"),
        Binding("pagedown", "move_page(1)", "newer page", show=False, id="log-page-down"),
        Binding("home", "move_to(0)", "oldest entry", show=False, id="log-oldest"),
        Binding("end", "move_to(-1)", "newest entry", show=False, id="log-newest"),
        Binding("enter", "select", "open entry", show=False, id="log-open"),
    ]

    class Selected(Message):
        """An entry was chosen (Enter or a click): the app opens its details."""

    class Trimmed(Message):
        """The oldest entries were dropped: ``dropped`` of them so far, for the app to say."""

        def __init__(self, dropped: int) -> None:
            super().__init__()
            self.dropped = dropped

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.entries: dict[str, tuple[ExperimentResult, Explanation]] = {}
        self.dropped = 0
        self.highlighted: int | None = None
        self._shown: list[_Entry] = []
        self._starts: list[int] = []  # the first line of each entry
        self._line_count = 0
        self._notes = 0
        self._styles: tuple[Style, Style] = (Style(), Style())
        # Lines drawn lately (a screenful and a scroll's worth), each with its entry.
        self._drawn: LRUCache[tuple[object, ...], tuple[_Entry, Strip]] = LRUCache(256)

    # ------------------------------------------------------------------ contents
    @property
    def entry_count(self) -> int:
        """How many entries and notes the log shows."""
        return len(self._shown)

    def entry_text(self, index: int) -> str:
        """The plain text of the entry or note at ``index`` (0 is the oldest kept)."""
        return self._shown[index].text.plain

    def add_entry(self, result: ExperimentResult, explanation: Explanation) -> None:
        entry_id = f"entry-{result.seq}"
        self.entries[entry_id] = (result, explanation)
        self._append(_Entry(entry_id, log_entry(result, explanation)))

    def add_note(self, note: Text) -> None:
        """A line that is not an experiment (a bulk add, say); it has no details."""
        self._notes += 1
        self._append(_Entry(f"note-{self._notes}", note))

    def selected_entry(self) -> tuple[ExperimentResult, Explanation] | None:
        if self.highlighted is None:
            return None
        return self.entries.get(self._shown[self.highlighted].id)

    def _append(self, entry: _Entry) -> None:
        """Add an entry, highlight it and follow it: what was just done is what to see."""
        self._shown.append(entry)
        self._starts.append(self._line_count)
        self._line_count += len(self._wrapped(entry))
        if len(self._shown) > self.MAX_ENTRIES + self.TRIM:
            self._trim()
        self.set_line_count(self._line_count)
        self.highlighted = len(self._shown) - 1
        self.show_last_line()
        self.refresh()

    def _trim(self) -> None:
        """Drop the oldest entries, ``TRIM`` at a time, once past ``MAX_ENTRIES``.

        In batches, because every drop renumbers the lines of all the entries kept.
        """
        gone = self._shown[: -self.MAX_ENTRIES]
        del self._shown[: -self.MAX_ENTRIES]
        for entry in gone:
            if self.entries.pop(entry.id, None) is not None:
                self.dropped += 1
        self._renumber()
        self.post_message(self.Trimmed(self.dropped))

    # ------------------------------------------------------------------- layout
    def _text_width(self) -> int:
        """The width the entries are wrapped to: the view's, less the scrollbar's."""
        width = self.scrollable_content_region.width
        return width if width > 2 else 78  # before the first layout: a usual width

    def _wrapped(self, entry: _Entry) -> list[Strip]:
        """The entry's lines for the view's width, wrapped once per width.

        Text gets the width less one cell of margin each side.
        """
        width = self._text_width() - 2
        if entry.width != width or not entry.lines:
            console = self.app.console
            entry.lines = []
            for line in entry.text.split("\n", allow_blank=True):
                if line.cell_len <= width:
                    entry.lines.append(Strip([Segment(" "), *line.render(console)]))
                    continue
                # A wrapped line goes on under its own text, two cells further in, so
                # the entry's lines still stand out from their continuations.
                indent = len(line.plain) - len(line.plain.lstrip(" "))
                hang = indent + 2
                body = line[indent:]
                # Wrapped, then rendered: a third of the cost of Console.render_lines.
                pieces = body.wrap(console, max(1, width - hang), overflow="fold")
                for number, piece in enumerate(pieces):
                    margin = Segment(" " * (1 + (indent if number == 0 else hang)))
                    entry.lines.append(Strip([margin, *piece.render(console)]))
            entry.width = width
        return entry.lines

    def _renumber(self) -> None:
        self._starts, line = [], 0
        for entry in self._shown:
            self._starts.append(line)
            line += len(self._wrapped(entry))
        self._line_count = line

    def on_resize(self, event: events.Resize) -> None:
        self._renumber()
        self.set_line_count(self._line_count)
        if self.highlighted is not None:
            self._bring_into_view(self.highlighted)
        self.refresh()

    # ------------------------------------------------------------------ the view
    def _bring_into_view(self, index: int) -> None:
        start = self._starts[index]
        height = len(self._shown[index].lines)
        taller = height > self.size.height  # its first line, then, rather than its last
        region = Region(0, start, 1, height)
        self.scroll_to_region(region, animate=False, immediate=True, top=taller, force=True)

    def _highlight(self, index: int) -> None:
        self.highlighted = index
        self._bring_into_view(index)
        self.refresh()

    def action_move(self, step: int) -> None:
        if self._shown:
            current = len(self._shown) - 1 if self.highlighted is None else self.highlighted
            self._highlight(max(0, min(len(self._shown) - 1, current + step)))

    def action_move_page(self, pages: int) -> None:
        """Move by about a screenful of lines."""
        if not self._shown or self.highlighted is None:
            return
        target = self._starts[self.highlighted] + pages * max(1, self.size.height - 1)
        index = self._entry_at(max(0, min(self._line_count - 1, target)))
        if index == self.highlighted:
            index += pages
        self._highlight(max(0, min(len(self._shown) - 1, index)))

    def action_move_to(self, index: int) -> None:
        if self._shown:
            self._highlight(index % len(self._shown))

    def action_select(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Selected())

    def _entry_at(self, line: int) -> int:
        """The index of the entry drawn on line ``line`` of the whole log."""
        low, high = 0, len(self._starts) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if self._starts[middle] <= line:
                low = middle
            else:
                high = middle - 1
        return low

    def on_click(self, event: events.Click) -> None:
        line = round(self.scroll_y) + event.y
        if self._shown and 0 <= line < self._line_count:
            self._highlight(self._entry_at(line))
            self.action_select()

    # -------------------------------------------------------------------- drawing
    def render_lines(self, crop: Region) -> list[Strip]:
        """Draw the lines in ``crop``, with the styles looked up once.

        Widget styles are properties that walk the DOM on every read; read once per line,
        they cost more than drawing the line.
        """
        base = self.rich_style
        self._styles = (base, base + self.get_component_rich_style("commit-log--highlighted"))
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        base, highlighted = self._styles
        width = self.scrollable_content_region.width
        line = round(self.scroll_y) + y
        if not 0 <= line < self._line_count:
            return Strip.blank(width, base)
        index = self._entry_at(line)
        entry = self._shown[index]
        offset = line - self._starts[index]
        style = highlighted if index == self.highlighted else base
        key = (id(entry), offset, style, width)
        cached = self._drawn.get(key)
        if cached is not None and cached[0] is entry:
            return cached[1]
        lines = self._wrapped(entry)
        segments = list(lines[offset]) if offset < len(lines) else []  # wrapped anew meanwhile
        segments = list(Segment.apply_style(segments, style))
        strip = Strip(Segment.adjust_line_length(segments, width, style), width)
        self._drawn[key] = (entry, strip)
        return strip

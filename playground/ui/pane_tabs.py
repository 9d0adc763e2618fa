"""The tabs above the log, details and script panes, drawn by one widget."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget


class PaneTabs(Widget, can_focus=True):
    """A row of tab labels over an underline; the app shows the page of the active one.

    Textual's TabbedContent mounts thirteen widgets for three tabs (a strip of nine, a
    switcher, and a pane around each page), which the benchmark finds costs about two
    frames before the app is usable (docs/benchmarks.md). This widget draws both lines
    itself and leaves the pages to a ContentSwitcher. Like Textual's tabs it takes focus,
    Left and Right move between tabs, and a click on a label opens its page.
    """

    COMPONENT_CLASSES = {
        "pane-tabs--label",
        "pane-tabs--active",
        "pane-tabs--bar",
        "pane-tabs--highlight",
    }
    DEFAULT_CSS = """
    PaneTabs {
        height: 2;
        & > .pane-tabs--label { color: $foreground 50%; }
        & > .pane-tabs--active { color: $foreground; }
        & > .pane-tabs--bar { color: $foreground 10%; }
        & > .pane-tabs--highlight { color: $block-cursor-background; }
        &:focus > .pane-tabs--active {
            color: $block-cursor-foreground;
            background: $block-cursor-background;
            text-style: $block-cursor-text-style;
        }
        &:focus > .pane-tabs--bar { color: $foreground 30%; }
    }
    """
    BINDINGS = [
        Binding("left", "move(-1)", "previous tab", show=False, id="pane-tabs-previous"),
        Binding("right", "move(1)", "next tab", show=False, id="pane-tabs-next"),
    ]

    active: reactive[str] = reactive("", layout=False)
    """The id of the page shown."""

    @dataclass
    class Activated(Message):
        """Another tab became the active one; ``pane`` is the id of its page."""

        pane: str

    def __init__(self, labels: dict[str, str]) -> None:
        """``labels`` maps each page's id to its tab's label; the first one is active."""
        super().__init__()
        self._labels = dict(labels)
        self._spans: list[tuple[int, int, str]] = []  # start, end, page id
        self.set_reactive(PaneTabs.active, next(iter(self._labels)))

    def set_label(self, pane: str, text: str) -> None:
        """Change one tab's label (the log's says how many entries it dropped)."""
        self._labels[pane] = text
        self.refresh()

    def validate_active(self, pane: str) -> str:
        if pane not in self._labels:
            raise ValueError(f"no tab for {pane!r}")
        return pane

    def watch_active(self, pane: str) -> None:
        self.refresh()
        self.post_message(self.Activated(pane))

    def action_move(self, step: int) -> None:
        panes = list(self._labels)
        self.active = panes[(panes.index(self.active) + step) % len(panes)]

    def on_click(self, event: events.Click) -> None:
        for start, end, pane in self._spans:
            if start <= event.x < end:
                self.active = pane
                return

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        spans, x = [], 0
        for pane, label in self._labels.items():
            spans.append((x, x + cell_len(label) + 2, pane))
            x += cell_len(label) + 2
        self._spans = spans
        if y == 0:
            segments = []
            for pane, label in self._labels.items():
                part = "pane-tabs--active" if pane == self.active else "pane-tabs--label"
                style = base + self.get_component_rich_style(part)
                segments.append(Segment(f" {label} ", style))
            return Strip(segments).crop_extend(0, width, base)
        bar = base + self.get_component_rich_style("pane-tabs--bar")
        highlight = base + self.get_component_rich_style("pane-tabs--highlight")
        start, end = next((s, e) for s, e, pane in spans if pane == self.active)
        segments = [
            Segment("━" * start, bar),
            Segment("━" * (end - start), highlight),
            Segment("━" * max(0, width - end), bar),
        ]
        return Strip(segments).crop_extend(0, width, base)

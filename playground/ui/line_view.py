"""A base for the line-API views (the log, the users table): Textual's ScrollView, quieter."""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView


class LineView(ScrollView):
    """A ScrollView whose line count changes without a layout pass of the whole screen.

    Textual lays the screen out again whenever a widget's virtual size changes; for a view
    that grows by a few lines per commit, that pass was most of the frame that shows them.
    Only the scrollbar depends on the line count: it is updated here, and a layout pass is
    asked for only when the bar comes or goes, since then the view's text width changes.
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def set_line_count(self, count: int) -> None:
        """Make the view ``count`` lines tall (no wider than it is)."""
        self.virtual_size = Size(0, count)
        height = self.scrollable_content_region.height
        needs_bar = count > height
        if needs_bar != self.show_vertical_scrollbar:
            self.refresh(layout=True)
        elif needs_bar:
            bar = self.vertical_scrollbar
            bar.window_virtual_size = count
            bar.window_size = height
            bar.refresh()

    def show_last_line(self) -> None:
        """Scroll to the last line at once.

        Forced: until the next layout, the view may not know it has a scrollbar, and an
        unforced scroll would then be refused.
        """
        self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)

"""Terminal input where a bracketed paste is only ever text, delivered exactly.

Textual's parser turns an escape sequence inside a bracketed paste back into keys (so a
pasted ESC followed by Ctrl+Q quits the app, and ESC then Ctrl+B opens a dialog), and it
deletes NUL characters from the pasted text. This parser watches the raw characters for
the paste markers itself: while a paste is open no key event gets out, and the paste is
delivered with every character it had, for the name field to accept or refuse as a whole.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

from textual import events
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message

from .compat import ParseError, Peek1, Read1, XTermParser, driver_debug, read_input

PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"


class PasteSafeParser(XTermParser):
    """Textual's xterm parser, with pastes taken out of its hands."""

    def parse(
        self, token_callback: Callable[[Message], None]
    ) -> Generator[Read1 | Peek1, str, None]:
        tail = ""
        pasting = False
        pasted: list[str] = []

        def inner_token(token: Message) -> None:
            if isinstance(token, events.Paste):
                return  # replaced by the exact text, below
            if pasting and isinstance(token, events.Key):
                return  # a key inside a paste is text, never a command
            token_callback(token)

        inner = super().parse(inner_token)
        request = next(inner)
        while True:
            try:
                char = yield request
            except ParseError as error:
                try:
                    request = inner.throw(error)
                except StopIteration:
                    return
                continue
            tail = (tail + char)[-len(PASTE_END) :]
            if pasting:
                pasted.append(char)
            try:
                request = inner.send(char)
            except StopIteration:
                return
            if not pasting and tail == PASTE_START:
                pasting = True
                pasted.clear()
            elif pasting and tail == PASTE_END:
                pasting = False
                token_callback(events.Paste("".join(pasted)[: -len(PASTE_END)]))


class PasteSafeDriver(LinuxDriver):
    """The Linux and macOS driver, reading input with ``PasteSafeParser``."""

    def run_input_thread(self) -> None:
        """Wait for input and dispatch events, as LinuxDriver does, with the safe parser."""
        read_input(self, PasteSafeParser(driver_debug(self)))

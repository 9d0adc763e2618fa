"""Terminal input where a bracketed paste is only ever text, delivered exactly.

Textual's parser turns an escape sequence inside a bracketed paste back into keys (so a
pasted ESC followed by Ctrl+Q quits the app, and ESC then Ctrl+B opens a dialog), and it
deletes NUL characters from the pasted text. This parser watches the raw characters for
the paste markers itself: while a paste is open no key event gets out, and the paste is
delivered with every character it had, for the name field to accept or refuse as a whole.
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder
from collections.abc import Callable, Generator

from textual import events
from textual._parser import ParseError, Peek1, Read1
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message

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
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        parser = PasteSafeParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode

        def process(ready: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            for index, (_key, mask) in enumerate(ready):
                if mask & selectors.EVENT_READ:
                    last = index == len(ready) - 1
                    data = decode(os.read(self.fileno, 1024 * 4), final=final and last)
                    if not data:
                        break
                    for event in parser.feed(data):
                        self.process_message(event)
            for event in parser.tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process(selector.select(0.1))
            selector.unregister(self.fileno)
            process(selector.select(0.1), final=True)
        finally:
            selector.close()
            try:
                for _event in parser.feed(""):
                    pass
            except (EOFError, ParseError):
                pass

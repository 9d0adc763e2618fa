"""Every use of Textual's private names, in one place, each saying what it needs and why.

Textual does not promise these names across releases: ``pyproject.toml`` pins Textual to
the minor series CI proves, and CI's canary step runs the terminal and parser tests on the
newest Textual, so a release that moves one of these shows up as a warning, here.
Nothing else in the package (or its tests) touches a private Textual name.
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder
from collections.abc import Iterable
from typing import TYPE_CHECKING

# The xterm parser and the generator protocol it speaks (Read1 / Peek1 requests, a
# ParseError thrown in). PasteSafeParser wraps Textual's parser to take bracketed pastes
# out of its hands: Textual offers no public hook on what its parser makes of a paste.
from textual._parser import ParseError, Peek1, Read1
from textual._xterm_parser import XTermParser
from textual.binding import Binding

if TYPE_CHECKING:
    from textual.dom import DOMNode
    from textual.drivers.linux_driver import LinuxDriver

__all__ = [
    "ParseError",
    "Peek1",
    "Read1",
    "XTermParser",
    "character_key",
    "driver_debug",
    "own_bindings",
    "read_input",
]


def driver_debug(driver: LinuxDriver) -> bool:
    """Whether the driver was started in debug mode, for the parser it reads input with.

    ``Driver._debug`` is what LinuxDriver hands its own XTermParser; there is no public
    accessor for it.
    """
    return bool(driver._debug)


def read_input(driver: LinuxDriver, parser: XTermParser) -> None:
    """Read the terminal and dispatch what ``parser`` makes of it, until the driver exits.

    The loop of ``LinuxDriver.run_input_thread`` (Textual 8.2), which builds its parser
    inside that method with no hook to give it another one; so the loop is rewritten here
    around the parser it is given. It uses only the driver's public ``fileno``,
    ``exit_event`` and ``process_message``.
    """
    selector = selectors.SelectSelector()
    selector.register(driver.fileno, selectors.EVENT_READ)
    decode = getincrementaldecoder("utf-8")().decode

    def process(ready: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
        for index, (_key, mask) in enumerate(ready):
            if mask & selectors.EVENT_READ:
                last = index == len(ready) - 1
                data = decode(os.read(driver.fileno, 1024 * 4), final=final and last)
                if not data:
                    break
                for event in parser.feed(data):
                    driver.process_message(event)
        for event in parser.tick():
            driver.process_message(event)

    try:
        while not driver.exit_event.is_set():
            process(selector.select(0.1))
        selector.unregister(driver.fileno)
        process(selector.select(0.1), final=True)
    finally:
        selector.close()
        try:
            for _event in parser.feed(""):
                pass
        except (EOFError, ParseError):
            pass


def own_bindings(node: DOMNode, key: str) -> Iterable[Binding]:
    """The bindings ``node`` itself (its class and its bases) declares for ``key``.

    ``DOMNode._bindings`` is the node's merged binding map; the public ``active_bindings``
    is the screen's whole chain, resolved after a key has bubbled up to the app, which is
    too late for the widgets that act on their keys in the order they were typed.
    """
    return tuple(node._bindings.key_to_bindings.get(key, ()))


def character_key(char: str) -> str:
    """The key name Textual's parser gives a typed character (``"a"``, ``"full_stop"``).

    ``textual.keys._character_to_key`` is how the parser names it; the tests use it to
    make the same key events a terminal would.
    """
    from textual.keys import _character_to_key

    return _character_to_key(char)


# Not private, noted here because keyboard input depends on it: the widgets that act on
# keys in order (widgets.KeysInOrder, NameInput) define ``on_key`` / ``on_paste`` and rely
# on Textual calling the handler of every class in the MRO, subclass first, until one
# calls ``prevent_default()`` (Textual's documented "default behaviour" of handlers).

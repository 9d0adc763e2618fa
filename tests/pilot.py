"""Helpers for driving the real app: wait on conditions, read what the screen shows."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual import events
from textual.pilot import Pilot
from textual.widgets import Static

from playground.ui.app import PlaygroundApp
from playground.ui.commit_log import CommitLog
from playground.ui.compat import character_key
from playground.ui.widgets import UsersTable


async def settle(pilot: Pilot[None], until: Callable[[], bool], timeout: float = 15.0) -> None:
    """Let workers and messages run until ``until()`` holds; fail after ``timeout`` seconds."""
    app = pilot.app
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not until():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await app.workers.wait_for_complete()
        await pilot.pause()


def entries(app: PlaygroundApp) -> list:
    """The results in the log, oldest first."""
    return [result for result, _ in app.query_one(CommitLog).entries.values()]


def log_text(app: PlaygroundApp) -> str:
    """The plain text of every log entry, as rendered for the screen."""
    log = app.query_one(CommitLog)
    return "\n".join(log.entry_text(i) for i in range(log.entry_count))


def static_text(app: PlaygroundApp, selector: str) -> str:
    """The text a Static holds, whatever kind of renderable it was given."""
    widget = app.query_one(selector, Static)
    renderable = widget.renderable if hasattr(widget, "renderable") else widget.content
    if hasattr(renderable, "renderables"):
        return "\n".join(str(part) for part in renderable.renderables)
    if hasattr(renderable, "code"):
        return renderable.code
    return str(renderable)


def table_rows(app: PlaygroundApp) -> list[tuple[str, str]]:
    return app.query_one(UsersTable).row_texts()


async def add(pilot: Pilot[None], name: str) -> None:
    """Type a name and press Enter, then wait for its log entry."""
    app = pilot.app
    before = len(entries(app))  # type: ignore[arg-type]
    await pilot.press(*name) if name else None
    await pilot.press("enter")
    await settle(pilot, lambda: len(entries(app)) > before)  # type: ignore[arg-type]


def key_event(char: str) -> events.Key:
    """The key event a terminal's parser makes for one typed character."""
    if char in "\r\n":
        return events.Key("enter", "\r")
    if char == "\t":
        return events.Key("tab", "\t")
    return events.Key(character_key(char), char)


def burst(app: PlaygroundApp, keys: list[events.Key | str]) -> None:
    """Deliver keys the way a fast typist or a non-bracketed paste does: all at once.

    Pilot's ``press`` waits for each key to be handled before the next, which hides any
    ordering problem; a terminal does not wait.
    """
    for key in keys:
        if isinstance(key, str):
            for event in map(key_event, key):
                app.post_message(event)
        else:
            app.post_message(key)

"""What reaches the terminal around a commit: the frames the app writes, in order.

The app runs with a driver that renders each frame to text, as in a terminal (Textual's
headless driver tells the app to skip that step), so the test sees what a user would.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path

from textual import events
from textual.drivers.headless_driver import HeadlessDriver

from playground.ui.app import make_app

from .pilot import settle

SIZE = (100, 32)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Written:
    """The frames a driver was handed: when, in which turn of the event loop, and as text.

    A frame may go out in several writes (a layout pass, then a repaint) within one turn
    of the loop, with nothing else run between them: to a person, one frame.
    """

    def __init__(self) -> None:
        self.frames: list[tuple[float, int, str]] = []
        self._turn = 0
        self._turn_open = False

    def add(self, text: str) -> None:
        """Note a write; writes before the loop next runs a callback share its turn."""
        if not self._turn_open:
            self._turn_open = True
            asyncio.get_running_loop().call_soon(self._end_turn)
        self.frames.append((time.perf_counter(), self._turn, text))

    def _end_turn(self) -> None:
        self._turn += 1
        self._turn_open = False

    def since(self, moment: float) -> list[str]:
        """What each turn since ``moment`` wrote, one text per turn."""
        turns: dict[int, str] = {}
        for at, turn, text in self.frames:
            if at >= moment:
                turns[turn] = turns.get(turn, "") + text
        return list(turns.values())


def rendering_driver(written: Written) -> type[HeadlessDriver]:
    class Rendering(HeadlessDriver):
        @property
        def is_headless(self) -> bool:
            return False

        def write(self, data: str) -> None:
            written.add(ANSI.sub("", data))

    return Rendering


async def test_the_frame_after_enter_shows_the_commits_entry(tmp_path: Path):
    """A quick commit's entry comes in the same frame as the cleared field and its message.

    Drawn one frame apart, the second came two frame slots after the first (Textual's
    update timer skips one after a late tick): some 35 ms after Enter instead of ~12.
    """
    written = Written()
    app = make_app(f"sqlite+aiosqlite:///{tmp_path / 'f.db'}", exports_dir=tmp_path)
    app.driver_class = rendering_driver(written)
    async with app.run_test(headless=False, size=SIZE) as pilot:
        await settle(pilot, lambda: "row" in str(app.screen.query_one("#users").border_subtitle))
        for number, name in enumerate(["ada", "grace", "linus"], start=1):
            await pilot.press(*name)
            await settle(pilot, lambda: app.main.jobs.idle)
            start = time.perf_counter()
            # Posted as Textual's driver posts a key, and then left alone: the pilot's own
            # waits draw a frame whenever they end, which no terminal does.
            app.post_message(events.Key("enter", "\r"))
            entry = f"#{number}  "  # the entry's first line: its number, then the time
            await frames_show(written, start, entry)
            frames = written.since(start)
            with_entry = next(i for i, f in enumerate(frames) if entry in f)
            with_message = next(i for i, f in enumerate(frames) if f"#{number} done" in f)
            assert with_entry <= with_message, "the entry is drawn no later than its message"


async def frames_show(written: Written, start: float, text: str, timeout: float = 10) -> None:
    """Wait, without drawing anything, until a frame written since ``start`` shows ``text``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not any(text in frame for frame in written.since(start)):
        assert asyncio.get_running_loop().time() < deadline, f"no frame showed {text!r}"
        await asyncio.sleep(0.005)


def hold_write_lock(path: Path) -> subprocess.Popen[str]:
    """Another process holding SQLite's write lock until it reads a line."""
    code = (
        "import sqlite3, sys\n"
        f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); sys.stdin.readline()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


async def test_a_commit_held_up_never_holds_the_screen(tmp_path: Path):
    """A commit waiting on another process's lock: the screen draws on meanwhile.

    Once the lock is let go, the entry still comes no later than its message.
    """
    path = tmp_path / "locked.db"
    written = Written()
    app = make_app(f"sqlite+aiosqlite:///{path}?timeout=30", exports_dir=tmp_path)
    app.driver_class = rendering_driver(written)
    async with app.run_test(headless=False, size=SIZE) as pilot:
        await settle(pilot, lambda: "row" in str(app.screen.query_one("#users").border_subtitle))
        holder = hold_write_lock(path)
        try:
            start = time.perf_counter()
            await pilot.press(*"late", "enter")
            await frames_show(written, start, "#1 queued", timeout=5)
            assert app.lab.lock.locked(), "and the commit is still waiting"
        finally:
            holder.communicate("\n", timeout=10)
        await frames_show(written, start, "#1  ")
        frames = written.since(start)
        with_entry = next(i for i, f in enumerate(frames) if "#1  " in f)
        with_message = next(i for i, f in enumerate(frames) if "#1 done" in f)
        assert with_entry <= with_message, "the entry is drawn no later than its message"

"""The app in a real terminal (tmux): key timing, pastes and focus as a person makes them.

A pilot hands the app one key at a time and waits for each, so it cannot see what happens
when keys arrive together, or what the terminal parser makes of a bracketed paste. Here
the app runs in tmux, keys are sent with real delays, pastes go through tmux's paste
buffer (``-p`` brackets them), and what was committed is read from the SQLite file.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
KEY_DELAY = 0.03  # seconds between keys: a typing tool, or a fast typist


def _need_tmux() -> None:
    if TMUX is None:
        if os.environ.get("CI"):
            pytest.fail("CI runs the terminal tests, but tmux is not installed")
        pytest.skip("tmux is not installed: these tests drive the app in a real terminal")


class Terminal:
    """One app in its own tmux server, on a SQLite file."""

    def __init__(self, tmp_path: Path, width: int, height: int) -> None:
        self.db = tmp_path / "lab.db"
        self.socket = f"playground-test-{os.getpid()}-{tmp_path.name}"
        self.width, self.height = width, height
        self.tmp_path = tmp_path

    def tmux(self, *args: str, data: bytes | None = None) -> str:
        done = subprocess.run(
            [TMUX or "tmux", "-L", self.socket, "-f", os.devnull, *args],
            input=data,
            capture_output=True,
            check=True,
            timeout=30,
        )
        return done.stdout.decode("utf-8", "replace")

    def start(self) -> None:
        app = shlex.join(
            [sys.executable, "-m", "playground", "--db", f"sqlite+aiosqlite:///{self.db}"]
        )
        command = f"{app}; echo '[exited with' $? ']'; sleep 600"
        self.tmux(
            "new-session", "-d", "-x", str(self.width), "-y", str(self.height),
            "-c", str(self.tmp_path), "-e", "TERM=xterm-256color", command,
        )  # fmt: skip
        self.wait_for(lambda screen: "0 rows" in screen, "the app shows its empty table")

    def stop(self) -> None:
        subprocess.run([TMUX or "tmux", "-L", self.socket, "kill-server"], capture_output=True)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p")

    def wait_for(self, ready: Callable[[str], bool], what: str, timeout: float = 20) -> str:
        """Poll the screen until ``ready(screen)``; fail with the screen after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if ready(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"not seen within {timeout}s: {what}\n{screen}")
            time.sleep(0.1)

    def type(self, text: str, delay: float = KEY_DELAY) -> None:
        """Type ``text`` one key at a time; a newline is Enter."""
        for char in text:
            if char == "\n":
                self.tmux("send-keys", "Enter")
            else:
                self.tmux("send-keys", "-l", "--", char)
            time.sleep(delay)

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", key)
            time.sleep(KEY_DELAY)

    def paste(self, text: str, bracketed: bool) -> None:
        """Paste ``text`` as a terminal does: bracketed or as raw keys (newline is Enter)."""
        self.tmux("load-buffer", "-", data=text.encode("utf-8"))
        self.tmux("paste-buffer", *(["-p"] if bracketed else []))

    def names(self) -> list[str]:
        with sqlite3.connect(self.db) as db:
            rows = db.execute("SELECT name FROM playground_users ORDER BY uid").fetchall()
        return [name for (name,) in rows]

    def wait_for_names(self, count: int, timeout: float = 20) -> list[str]:
        """The committed names once there are ``count`` and every queued commit is done."""
        deadline = time.monotonic() + timeout
        while len(self.names()) < count or f"#{count} done" not in self.screen():
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} commits not seen: {self.names()}\n{self.screen()}")
            time.sleep(0.1)
        return self.names()

    @property
    def running(self) -> bool:
        return "[exited with" not in self.screen()


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    _need_tmux()
    term = Terminal(tmp_path, 100, 32)
    try:
        term.start()
        yield term
    finally:
        term.stop()


def test_typing_at_30ms_a_key_commits_each_name_exactly(terminal: Terminal):
    names = [f"h{i}" for i in range(11, 19)]
    terminal.type("".join(name + "\n" for name in names))
    assert terminal.wait_for_names(len(names)) == names


def test_an_unbracketed_multiline_paste_commits_one_name_per_line(terminal: Terminal):
    terminal.paste("alice\nbob\ncarol\n", bracketed=False)
    assert terminal.wait_for_names(3) == ["alice", "bob", "carol"]


def test_no_key_inside_a_bracketed_paste_acts(terminal: Terminal):
    terminal.paste("\x1b\x11", bracketed=True)  # ESC, then Ctrl+Q
    terminal.wait_for(lambda s: "Paste refused" in s, "the ESC + Ctrl+Q paste refused")
    assert terminal.running
    terminal.paste("\x1b\x02", bracketed=True)  # ESC, then Ctrl+B
    terminal.paste("x\x1b[31mred\x1b[0m", bracketed=True)
    screen = terminal.wait_for(lambda s: "position 2 of 13" in s, "the colour paste refused")
    assert "Add many users" not in screen, "Ctrl+B inside a paste opened the bulk dialog"
    terminal.type("after\n")
    assert terminal.wait_for_names(1) == ["after"], "nothing of the pastes was typed"


def test_a_pasted_nul_is_named_not_dropped(terminal: Terminal):
    terminal.paste("nul\x00byte", bracketed=True)
    terminal.wait_for(lambda s: r"\x00 at position 4 of 8" in s, "the NUL named")
    terminal.paste("fine", bracketed=True)
    terminal.keys("Enter")
    assert terminal.wait_for_names(1) == ["fine"]


def test_a_paste_longer_than_a_name_is_refused_and_the_app_stays_usable(terminal: Terminal):
    terminal.paste("y" * 200_000, bracketed=True)
    terminal.wait_for(lambda s: "Paste refused: 200,000" in s, "the long paste refused", timeout=60)
    terminal.type("ok\n")
    assert terminal.wait_for_names(1) == ["ok"]


def test_typed_format_characters_are_stored(terminal: Terminal):
    name = "x\u202ey\u200dz \U0001f468\u200d\U0001f469"
    terminal.type(name + "\n")
    assert terminal.wait_for_names(1) == [name]


def test_q_typed_after_tabs_starts_a_name(terminal: Terminal):
    terminal.keys("Tab")
    terminal.type("quinn\n")
    terminal.keys("BTab", "BTab")
    terminal.type("qa\n")
    assert terminal.wait_for_names(2) == ["quinn", "qa"]
    screen = terminal.screen()
    assert terminal.running
    assert "ON  expire_on_commit" in screen and "OFF auto refresh" in screen, "no switch flipped"


def test_ctrl_q_with_nothing_in_flight_quits_at_once(terminal: Terminal):
    terminal.keys("C-q")
    terminal.wait_for(lambda s: "[exited with 0 ]" in s, "the app exits", timeout=5)


def parsed(chunks: list[str]) -> list[tuple[str, str]]:
    """What the app's input parser makes of terminal input read in these chunks."""
    from textual import events

    from playground.ui.terminal import PasteSafeParser

    parser = PasteSafeParser()
    tokens = [token for chunk in chunks for token in parser.feed(chunk)]
    return [
        ("paste", token.text) if isinstance(token, events.Paste) else ("key", token.key)
        for token in tokens
        if isinstance(token, events.Paste | events.Key)
    ]


@pytest.mark.parametrize("chunk", [1, 3, 1000])
def test_the_parser_turns_a_bracketed_paste_into_exact_text_and_no_keys(chunk: int):
    pasted = "x\x1b\x11y\x00z\x1b[31mred\x1b\x02"
    data = f"ab\x1b[200~{pasted}\x1b[201~c"
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    assert parsed(chunks) == [("key", "a"), ("key", "b"), ("paste", pasted), ("key", "c")]

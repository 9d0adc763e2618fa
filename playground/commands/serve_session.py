"""One tab's app process under ``playground serve``: the URL from the environment, then the app.

It is kept apart from the server's module so that each session starts by importing the
app alone, not the web server (aiohttp, jinja2, textual-serve), which it never uses.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

DB_ENV = "PLAYGROUND_DB"
"""The child reads its database URL from here, so a password never shows in ``ps``."""
PARENT_ENV = "PLAYGROUND_SERVE_PARENT"
"""The server's pid, so a child whose server is already gone exits at once."""
MEMORY_URL = "sqlite+aiosqlite://"


def _die_with_parent() -> None:
    """Have Linux kill this process when the server dies, even by SIGKILL, so none is orphaned."""
    parent = os.environ.pop(PARENT_ENV, "")
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if parent and os.getppid() != int(parent):
        os._exit(1)


def session_main(argv: Sequence[str]) -> int:
    """Run one tab's app (``argv`` is empty, or ``["tour"]``) on the URL the server passed.

    The URL arrives in the environment and is handed to the command line parser in this
    process, so it never appears in this process's own command line.
    """
    _die_with_parent()
    url = os.environ.pop(DB_ENV, MEMORY_URL)
    if url == MEMORY_URL:
        # A file in the tab's own temporary folder rather than memory: some scenarios need a
        # second connection to the same data (a fresh engine, a session per task).
        url = f"sqlite+aiosqlite:///{Path.cwd() / 'playground.db'}"
    from playground.__main__ import main as playground_main

    if argv and argv[0] == "tour":
        return playground_main(["tour", "--db", url, *argv[1:]])
    return playground_main(["--db", url, *argv])


if __name__ == "__main__":
    sys.exit(session_main(sys.argv[1:]))

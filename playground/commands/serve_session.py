"""One tab's app process under ``playground serve``: the URL from the environment, then the app.

It is kept apart from the server's module so that each session starts by importing the
app alone, not the web server (aiohttp, jinja2, textual-serve), which it never uses.

With ``--preload`` it is the server's preloaded parent instead: it imports the app once,
then forks one child per session on request, so a session starts without the CPU time
that importing Textual, SQLAlchemy and the app costs (what gunicorn's ``--preload``
and multiprocessing's forkserver do). Requests come on a socket with the child's three
standard streams attached; the reply pipe carries ``started ID PID`` and
``exited PID STATUS`` lines.
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


def _preload() -> None:
    """Import what every session imports, so that forked children start with it in memory."""
    import textual.drivers.web_driver  # noqa: F401

    import playground.__main__  # noqa: F401
    import playground.commands.tour  # noqa: F401
    import playground.ui.app  # noqa: F401


def _become_session(request: dict[str, object], streams: list[int], own: list[int]) -> None:
    """In a freshly forked child: take the session's streams, folder and environment, run it."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in own:
            os.close(fd)
        for target, fd in enumerate(streams):
            os.dup2(fd, target)
            if fd > 2:
                os.close(fd)
        os.setsid()
        os.chdir(str(request["cwd"]))
        environment = request["env"]
        assert isinstance(environment, dict)
        os.environ.clear()
        os.environ.update(environment)
        os.environ[PARENT_ENV] = str(os.getppid())  # this child's parent is the preloader
        import importlib

        import textual.constants

        importlib.reload(textual.constants)  # read from the session's environment
        argv = request["argv"]
        assert isinstance(argv, list)
        code = session_main([str(item) for item in argv])
    except SystemExit as ended:
        code = ended.code if isinstance(ended.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def preload_main(requests_fd: int, replies_fd: int) -> int:
    """The preloaded parent: fork a session per request until the server goes."""
    import json
    import selectors
    import socket

    _die_with_parent()
    _preload()
    requests = socket.socket(fileno=requests_fd)
    replies = os.fdopen(replies_fd, "w", buffering=1)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda number, frame: None)
    own = [requests_fd, replies_fd, wake_read, wake_write]
    selector = selectors.DefaultSelector()
    selector.register(requests, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    replies.write("ready\n")
    while True:
        for key, _ in selector.select():
            if key.fileobj is requests:
                message, streams, _, _ = socket.recv_fds(requests, 1 << 20, 3)
                if not message:
                    return 0  # the server is gone
                request = json.loads(message)
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    _become_session(request, streams, own)
                for fd in streams:
                    os.close(fd)
                replies.write(f"started {request['id']} {pid}\n")
            else:
                os.read(wake_read, 4096)
            while True:  # reap every child that has ended, and say so
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                replies.write(f"exited {pid} {os.waitstatus_to_exitcode(status)}\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--preload"]:
        sys.exit(preload_main(int(sys.argv[2]), int(sys.argv[3])))
    sys.exit(session_main(sys.argv[1:]))

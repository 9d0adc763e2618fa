"""``playground serve``: the app in a browser tab, one app process per tab, for a classroom.

It builds on textual-serve, which starts one app process per websocket; this module adds
what a room full of students needs: a private database per tab (or one shared
``--db``), a cap on concurrent sessions, processes that end with their tab, and a database
URL that travels to each process in its environment, never on a command line or a page.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import ipaddress
import json
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TypeGuard, cast
from urllib.parse import urlsplit

import jinja2
from aiohttp import WSMsgType, web
from aiohttp.http_exceptions import HttpProcessingError
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from playground.commands.serve_session import DB_ENV, MEMORY_URL, PARENT_ENV
from playground.core.names import visible

DEFAULT_MAX_SESSIONS = 20
QUIT_GRACE = 5.0
"""Seconds a tab's app gets to quit cleanly before it is terminated, then killed."""
HEARTBEAT = 15.0
"""Websocket ping interval: a connection that stops answering is dropped after about this."""
SEND_TIMEOUT = HEARTBEAT
"""Seconds one send to a browser may wait on a client that reads nothing before it is cut."""
MAX_COLUMNS = 768
MAX_ROWS = 240
"""The largest terminal a session gets: a 3840x2160 screen at the page's smallest font
(8 px, a cell of about 5x9 pixels). A larger request is clamped, since its first frame
alone would cost megabytes (3000x3000 was 9.6 MB) and the app's memory grows with it."""
MAX_MESSAGE = 1 << 20
"""Largest message a browser may send (a paste into the app), in bytes."""
PRELOAD_WAIT = 30.0
"""Seconds the server waits at start for its preloaded parent to have imported the app."""
FOLDER_PREFIX = "playground-serve-"
"""Each session's private folder is ``FOLDER_PREFIX<server pid>-<random>`` in the temp dir."""

PAGE = jinja2.Environment(autoescape=True).from_string(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<link rel="stylesheet" href="/static/css/xterm.css">
<style>
@font-face {
  font-family: "Roboto Mono";
  src: url("/static/fonts/RobotoMono-VariableFont_wght.ttf") format("truetype");
  font-weight: 100 700;
}
html, body { margin: 0; height: 100%; background: #0c181f; color: #e8eef2; }
body { display: flex; flex-direction: column; font: 15px/1.4 system-ui, sans-serif; }
header { padding: 6px 12px; background: #12232d; display: flex; gap: 1.2em; flex-wrap: wrap; }
header .shared { color: #ffd37a; }
main { flex: 1; min-height: 0; padding: 4px; display: flex; flex-direction: column; }
.notice { max-width: 40em; margin: 4em auto; padding: 1.5em 2em; background: #12232d; }
button { font: inherit; padding: 0.4em 1.2em; background: #5e0ba7; color: #fff; border: 0; }
button:hover { background: #ac5af4; cursor: pointer; }
#ended { display: none; padding: 6px 12px; background: #3a2a00; }
body.-closed #ended { display: block; }
#terminal { flex: 1; min-height: 0; }
</style>
{% if not full %}<script src="/static/js/textual.js"></script>{% endif %}
</head>
<body>
<header>
<strong>{{ title }}</strong>
<span class="{{ 'shared' if shared else '' }}">{{ database_note }}</span>
<span>{{ hint }}</span>
</header>
{% if full %}
<div class="notice" role="status">
<h1>The classroom is full</h1>
<p>All {{ max_sessions }} sessions are in use, so a new one cannot start right now.
A place frees up as soon as someone closes their tab: please try again in a minute.</p>
<p><button type="button" onclick="location.reload()">Try again</button></p>
</div>
{% else %}
<div id="ended" role="status">This session has ended (the app quit, the server stopped, or the
connection dropped). <button type="button" onclick="location.reload()">Start a new session</button>
</div>
<main><div id="terminal" class="textual-terminal" data-font-size="{{ font_size }}"></div></main>
<script>
document.getElementById("terminal").dataset.sessionWebsocketUrl =
  (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
</script>
{% endif %}
</body>
</html>
"""
)


def _now() -> str:
    return time.strftime("%H:%M:%S")


def is_loopback(host: str) -> bool:
    """True when ``host`` names only this machine, so no one else can reach the port."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(
        ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos
    )


WILDCARDS = ("0.0.0.0", "::", "")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _host_and_port(netloc: str, default_port: int) -> tuple[str, int] | None:
    """``("example.org", 8000)`` from ``"Example.org:8000"``; None when it does not parse."""
    try:
        parts = urlsplit("//" + netloc)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or parts.username is not None or parts.path:
        return None
    return parts.hostname.lower(), default_port if port is None else port


def parse_origin(text: str) -> tuple[str, str, int] | None:
    """``("https", "lab.example.org", 443)`` from ``"https://lab.example.org"``, else None."""
    scheme, _, rest = text.strip().rstrip("/").partition("://")
    scheme = scheme.lower()
    if scheme not in ("http", "https") or "/" in rest:
        return None
    parsed = _host_and_port(rest, 443 if scheme == "https" else 80)
    return None if parsed is None else (scheme, *parsed)


def browser_address(host: str, port: int) -> str:
    """The address to type into a browser for a server bound to ``host`` and ``port``."""
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


class ForkedProcess:
    """A session's app forked by the preloader: what ``Session`` uses of an asyncio process."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.stdin: asyncio.StreamWriter | None = None
        self.stdout: asyncio.StreamReader | None = None
        self.stderr: asyncio.StreamReader | None = None
        self._ended = asyncio.get_running_loop().create_future()

    def ended(self, code: int) -> None:
        self.returncode = code
        if not self._ended.done():
            self._ended.set_result(code)

    async def wait(self) -> int:
        return int(await asyncio.shield(self._ended))

    def send_signal(self, number: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, number)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Preloader:
    """The preloaded parent that forks sessions (``serve_session --preload``), seen from here.

    A session forked from it skips importing the app (the largest part of a start on a
    small machine, where a class opening at once is bound by CPU). If it is not ready or
    has gone, sessions start as processes of their own, as before.
    """

    def __init__(self) -> None:
        self.process: asyncio.subprocess.Process | None = None
        self.ready = asyncio.Event()
        self.children: dict[int, ForkedProcess] = {}
        self._starting: dict[int, asyncio.Future[ForkedProcess]] = {}
        self._numbers = 0
        self._requests: socket.socket | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self, environment: dict[str, str]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        replies_read, replies_write = os.pipe()
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "playground.commands.serve_session",
                "--preload",
                str(theirs.fileno()),
                str(replies_write),
                pass_fds=(theirs.fileno(), replies_write),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                env=environment,
                start_new_session=True,
            )
        finally:
            theirs.close()
            os.close(replies_write)
        # Room for a whole class's requests at once, so a send never waits on the preloader.
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 21)
        self._requests = ours
        replies = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(replies), os.fdopen(replies_read, "rb", 0)
        )
        self._reader = asyncio.create_task(self._read(replies))

    async def _read(self, replies: asyncio.StreamReader) -> None:
        try:
            while line := await replies.readline():
                kind, *fields = line.decode().split()
                if kind == "ready":
                    self.ready.set()
                elif kind == "started":
                    number, pid = int(fields[0]), int(fields[1])
                    child = self.children[pid] = ForkedProcess(pid)
                    waiter = self._starting.pop(number, None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(child)
                    else:  # its session gave up waiting: nobody would ever stop it
                        with contextlib.suppress(ProcessLookupError):
                            child.kill()
                elif kind == "exited":
                    ended = self.children.pop(int(fields[0]), None)
                    if ended is not None:
                        ended.ended(int(fields[1]))
        finally:  # the preloader is gone, and with it (by the kernel) its children
            self.ready.clear()
            for child in self.children.values():
                child.ended(-signal.SIGKILL)
            for waiter in self._starting.values():
                if not waiter.done():
                    waiter.set_exception(ConnectionError("the preloaded parent is gone"))

    async def spawn(self, argv: list[str], environment: dict[str, str], cwd: str) -> ForkedProcess:
        """Fork a session with these arguments, environment and folder; its three pipes here."""
        assert self._requests is not None
        loop = asyncio.get_running_loop()
        stdin_read, stdin_write = os.pipe()
        stdout_read, stdout_write = os.pipe()
        stderr_read, stderr_write = os.pipe()
        self._numbers += 1
        number = self._numbers
        waiter: asyncio.Future[ForkedProcess] = loop.create_future()
        self._starting[number] = waiter
        request = json.dumps({"id": number, "argv": argv, "env": environment, "cwd": cwd})
        try:
            socket.send_fds(
                self._requests, [request.encode()], [stdin_read, stdout_write, stderr_write]
            )
        except OSError:
            self._starting.pop(number, None)
            for fd in (stdin_write, stdout_read, stderr_read):
                os.close(fd)
            raise
        finally:
            for fd in (stdin_read, stdout_write, stderr_write):  # the child's ends are its own now
                os.close(fd)
        try:
            child = await asyncio.wait_for(waiter, 30)
        except BaseException:
            self._starting.pop(number, None)
            for fd in (stdin_write, stdout_read, stderr_read):
                os.close(fd)
            raise
        child.stdout = asyncio.StreamReader(limit=1 << 16)
        child.stderr = asyncio.StreamReader(limit=1 << 16)
        for reader, fd in ((child.stdout, stdout_read), (child.stderr, stderr_read)):
            await loop.connect_read_pipe(
                partial(asyncio.StreamReaderProtocol, reader), os.fdopen(fd, "rb", 0)
            )
        transport, protocol = await loop.connect_write_pipe(
            lambda: asyncio.StreamReaderProtocol(asyncio.StreamReader()),
            os.fdopen(stdin_write, "wb", 0),
        )
        child.stdin = asyncio.StreamWriter(transport, protocol, None, loop)
        return child

    async def stop(self) -> None:
        if self._requests is not None:
            self._requests.close()  # the preloader reads the end of its requests and exits
            self._requests = None
        if self.process is not None and not await _exited(self.process, 5.0):
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await _exited(self.process, 3.0)
        if self._reader is not None:
            await _finished(self._reader, 2.0)


class Session(AppService):
    """One tab's app process, in its own folder, stopped for certain when the tab goes.

    textual-serve starts the app through a shell and trusts it to quit when asked; here the
    process is started directly (no shell between, no URL on its command line) and is
    terminated, then killed, if it does not quit in time. The relay from the app to the
    browser never dies with the browser: once the browser is gone the app's output is read
    and dropped, so the app can never block on a pipe nobody reads, and can be waited for.
    """

    def __init__(
        self,
        number: int,
        argv: list[str],
        env: dict[str, str],
        websocket: web.WebSocketResponse,
        server: ClassroomServer,
        request: web.BaseRequest,
    ) -> None:
        super().__init__(
            " ".join(argv),
            write_bytes=self._to_browser_bytes,
            write_str=self._to_browser_str,
            close=self._close_browser,
            download_manager=server.download_manager,
        )
        self.number = number
        self.argv = argv
        self.extra_env = env
        self.websocket = websocket
        self.server = server
        self.request = request
        self.workdir = tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-")
        self.browser_gone = False
        self.warned = False
        self._stopped = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    # -- to the browser: a send that fails or stalls drops the browser, never the relay --
    async def _send(self, send: Awaitable[None]) -> None:
        try:
            await asyncio.wait_for(send, SEND_TIMEOUT)
        except (OSError, RuntimeError, asyncio.TimeoutError):
            self.drop_browser()

    async def _to_browser_bytes(self, data: bytes) -> None:
        if not self.browser_gone:
            await self._send(self.websocket.send_bytes(data))

    async def _to_browser_str(self, data: str) -> None:
        if not self.browser_gone:
            await self._send(self.websocket.send_str(data))

    async def _close_browser(self) -> None:
        if not self.browser_gone:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.websocket.close(), SEND_TIMEOUT)

    def drop_browser(self) -> None:
        """Forget the browser and cut its connection, so the message loop ends at once."""
        if self.browser_gone:
            return
        self.browser_gone = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    # -- the app process --------------------------------------------------------------
    async def _open_app_process(
        self, width: int = 80, height: int = 24
    ) -> asyncio.subprocess.Process:
        environment = self._build_environment(width=width, height=height)
        environment.update(self.extra_env)
        # Saved state (the tour's progress) stays with this tab, not in the teacher's folders.
        environment["XDG_DATA_HOME"] = os.path.join(self.workdir, "data")
        preloader = self.server.preloader
        if preloader is not None and preloader.ready.is_set():
            with contextlib.suppress(OSError, ConnectionError, asyncio.TimeoutError):
                forked = await preloader.spawn(self.argv[3:], environment, self.workdir)
                assert forked.stdin is not None
                self._stdin = forked.stdin
                self._process = cast(asyncio.subprocess.Process, forked)
                return self._process
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
            cwd=self.workdir,
            start_new_session=True,
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def run(self) -> None:
        """Relay the app's packets to the browser until the app's output ends, then close.

        Unlike textual-serve's relay this one outlives any error of the browser's side, and
        keeps what the app wrote on stderr to say in one line why an app ended early.
        """
        process = self._process
        assert process is not None and process.stdout is not None and process.stderr is not None
        stdout = process.stdout
        errors = asyncio.create_task(_read_tail(process.stderr))
        started = False
        try:
            for _ in range(10):  # the app announces itself before its first packet
                line = await stdout.readline()
                if not line or line == b"__GANGLION__\n":
                    started = bool(line)
                    break
            while started:
                kind = await stdout.readexactly(1)
                size = int.from_bytes(await stdout.readexactly(4), "big")
                payload = await stdout.readexactly(size)
                try:
                    if kind == b"D":
                        await self.on_data(payload)
                    elif kind == b"M":
                        await self.on_meta(payload)
                    elif kind == b"P":
                        await self.on_packed(payload)
                except (ValueError, KeyError, TypeError) as error:
                    self.server.say(
                        f"session {self.number}: unreadable packet from the app: {error!r}"
                    )
        except (asyncio.IncompleteReadError, asyncio.CancelledError, ValueError):
            pass  # the output ended, the relay was cancelled, or a prelude line was too long
        finally:
            with contextlib.suppress(Exception):
                await stdout.read()  # whatever is left, so the pipe closes and wait() returns
        tail = await errors
        if process.returncode is None:
            await _exited(process, QUIT_GRACE)
        if not self._stopped and (not started or process.returncode not in (0, None)):
            reason = self.server.one_line(tail).removeprefix("playground: ")
            reason = reason or f"it exited with status {process.returncode}"
            what = "stopped" if started else "could not start"
            self.server.say(f"session {self.number}: the app {what}: {reason}")
            await self._to_browser_bytes(f"\r\n  The app {what}: {reason}\r\n".encode())
        await self._close_browser()

    async def stop(self) -> None:
        """Ask the app to quit, and terminate or kill it if it has not within the grace time.

        Every wait here is bounded: a browser that takes nothing, or an app that ignores
        its stdin, delays the end of a session by seconds, never for ever.
        """
        if self._stopped:
            return
        self._stopped = True
        await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.send_meta({"type": "quit"}), 1.0)
            if not await _exited(process, QUIT_GRACE):
                with contextlib.suppress(ProcessLookupError):
                    process.terminate()
                if not await _exited(process, 3.0):
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
                    await _exited(process, 3.0)
        if self._task is not None:
            if not await _finished(self._task, 3.0):
                self.drop_browser()  # a relay stuck on a browser that reads nothing
                if not await _finished(self._task, 2.0):
                    self._task.cancel()
                    await _finished(self._task, 2.0)
            self._task = None
        shutil.rmtree(self.workdir, ignore_errors=True)


async def _read_tail(stream: asyncio.StreamReader, keep: int = 8192) -> str:
    """Read a stream to its end, keeping only its last ``keep`` bytes (an app's stderr)."""
    tail = b""
    with contextlib.suppress(Exception):
        while chunk := await stream.read(4096):
            tail = (tail + chunk)[-keep:]
    return tail.decode("utf-8", "replace")


async def _exited(process: asyncio.subprocess.Process, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the process to end; True if it has."""
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(process.wait(), timeout)
    return process.returncode is not None


async def _finished(task: asyncio.Task[None], timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``task`` without cancelling it; True if it is done."""
    await asyncio.wait([task], timeout=timeout)
    if task.done() and not task.cancelled():
        task.exception()  # retrieved, so it is never reported as unretrieved at exit
    return task.done()


class ClassroomServer(Server):
    """textual-serve's server with a session cap, a page of its own and no shell in between."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        child_argv: list[str],
        child_env: dict[str, str],
        max_sessions: int,
        database_note: str,
        shared: bool,
        title: str,
        secrets: Sequence[str] = (),
        preload: bool = True,
        public_origin: tuple[str, str, int] | None = None,
    ) -> None:
        super().__init__(" ".join(child_argv), host=host, port=port, title=title)
        self.secrets = [secret for secret in secrets if secret]
        self.child_argv = child_argv
        self.child_env = child_env
        self.max_sessions = max_sessions
        self.database_note = database_note
        self.shared = shared
        self.hint = (
            "Guess what each snippet does; the tour then runs it for real."
            if "tour" in child_argv
            else "Type a name and press Enter, then F2 to flip the first switch."
        )
        self.sessions: dict[int, Session] = {}
        self._opened = 0
        self.preloader: Preloader | None = Preloader() if preload else None
        self.public_origin = public_origin
        """Behind a proxy: the scheme, host and port students use, accepted as this server's."""

    def say(self, text: str) -> None:
        print(f"[{_now()}] {text}", flush=True)

    def one_line(self, text: str, limit: int = 300) -> str:
        """The last non-blank line of ``text``: password-free, visible, bounded, for log or page."""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        line = lines[-1] if lines else ""
        for secret in self.secrets:
            line = line.replace(secret, "***")
        line = visible(line)
        return line if len(line) <= limit else line[: limit - 1] + "…"

    def is_own_address(self, host: str, port: int) -> bool:
        """True for a name or address this server answers to, on its own port.

        A page fetched under any other name is another site's (or a DNS name rebound to
        this machine), so it must not reach the sessions. Bound to every interface, any
        address and this machine's own names are its own; bound to one, that one (and
        ``localhost`` for a loopback address).
        """
        if port != self.port:
            return False
        if self.host in WILDCARDS:
            names = {"localhost", socket.gethostname().lower(), socket.getfqdn().lower()}
            return _is_ip(host) or host in names
        own = self.host.strip("[]").lower()
        return host == own or (host == "localhost" and is_loopback(own))

    def foreign(self, request: web.BaseRequest) -> str | None:
        """Why a request comes from outside this server's own pages, or None if it does not."""
        public = self.public_origin
        host = request.headers.get("Host", "")
        parsed = _host_and_port(host, 80)
        proxied = public is not None and _host_and_port(host, public[2]) == public[1:]
        if not proxied and (parsed is None or not self.is_own_address(*parsed)):
            return f"host {host!r}"
        origin = request.headers.get("Origin")
        if origin is None:  # not a browser's request from a page: no other site is involved
            return None
        if public is not None and parse_origin(origin) == public:
            return None
        scheme, _, netloc = origin.partition("://")
        parsed = _host_and_port(netloc, 80) if scheme == "http" else None
        if parsed is None or not self.is_own_address(*parsed):
            return f"origin {origin!r}"
        return None

    @web.middleware
    async def only_own_pages(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Refuse, with one log line, a request for another name or from another site's page."""
        reason = self.foreign(request)
        if reason is not None:
            path, why = self.one_line(request.path, 80), self.one_line(reason, 160)
            self.say(f"refused a request for {path}: {why}")
            return web.Response(status=403, text="This server answers only its own pages.\n")
        return await handler(request)

    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self.only_own_pages])
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.get("/download/{key}", self.handle_download, name="download"),
                web.get("/favicon.ico", self.handle_favicon),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        app.on_shutdown.append(self.on_shutdown)
        return app

    async def handle_favicon(self, request: web.Request) -> web.Response:
        """No icon: an empty answer, so the browser's console stays free of 404s."""
        return web.Response(status=204)

    def is_full(self) -> bool:
        return len(self.sessions) >= self.max_sessions

    async def handle_index(self, request: web.Request) -> web.Response:
        full = self.is_full()
        if full:
            self.say(f"page refused: all {self.max_sessions} sessions in use")
        html = PAGE.render(
            title=self.title,
            full=full,
            max_sessions=self.max_sessions,
            database_note=self.database_note,
            shared=self.shared,
            hint=self.hint,
            font_size=min(max(to_int(request.query.get("fontsize", "16"), 16), 8), 40),
        )
        headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
        if full:
            headers["Retry-After"] = "60"
        return web.Response(
            text=html, content_type="text/html", status=503 if full else 200, headers=headers
        )

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        if self.is_full() and self.public_origin is not None:
            # Behind a proxy, a refusal before the upgrade lets it try the next instance.
            self.say(f"session refused: all {self.max_sessions} sessions in use")
            raise web.HTTPServiceUnavailable(text="The classroom is full.\n")
        websocket = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_MESSAGE)
        await websocket.prepare(request)
        if self.is_full():
            self.say(f"session refused: all {self.max_sessions} sessions in use")
            message = (
                f"\r\n  The classroom is full: all {self.max_sessions} sessions are in use.\r\n"
                "  Please try again in a minute, when someone has closed their tab.\r\n"
            )
            with contextlib.suppress(Exception):
                await websocket.send_bytes(message.encode("utf-8"))
                await websocket.close(code=1013, message=b"classroom full")
            return websocket
        self._opened += 1
        session = Session(self._opened, self.child_argv, self.child_env, websocket, self, request)
        self.sessions[session.number] = session
        width = _clamp(to_int(request.query.get("width", "80"), 80), MAX_COLUMNS)
        height = _clamp(to_int(request.query.get("height", "24"), 24), MAX_ROWS)
        try:
            await session.start(width, height)
            self.say(
                f"session {session.number} started (pid {session.pid}, {width}x{height}); "
                f"{len(self.sessions)} of {self.max_sessions} in use"
            )
            await self._process_messages(websocket, session)
        except asyncio.CancelledError:
            pass
        except Exception as error:  # a malformed message from a browser ends only its session
            self.say(f"session {session.number}: {type(error).__name__}: {error}")
        finally:
            await session.stop()
            self.sessions.pop(session.number, None)
            with contextlib.suppress(Exception):
                await websocket.close()
            self.say(
                f"session {session.number} ended (pid {session.pid}); "
                f"{len(self.sessions)} of {self.max_sessions} in use"
            )
        return websocket

    async def _process_messages(
        self, websocket: web.WebSocketResponse, app_service: AppService
    ) -> None:
        """Pass the page's messages to the app; a malformed one is dropped, not obeyed.

        The first malformed message of a session is logged in one line; later ones are
        dropped silently, so a hostile page cannot flood the teacher's log.
        """
        assert isinstance(app_service, Session)
        session = app_service
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            problem = await self._obey(websocket, session, message.data)
            if problem is not None and not session.warned:
                session.warned = True
                self.say(
                    f"session {session.number}: ignored a malformed message "
                    f"({self.one_line(problem, 120)}); any more are ignored without a word"
                )

    async def _obey(
        self, websocket: web.WebSocketResponse, session: Session, text: str
    ) -> str | None:
        """Carry out one message from the page; what is wrong with it, or None."""
        try:
            envelope = json.loads(text)
        except ValueError:
            return "not JSON"
        if not isinstance(envelope, list) or not envelope or not isinstance(envelope[0], str):
            return "not a list that starts with its type"
        kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
        if kind == "stdin":
            if not isinstance(data, str):
                return "stdin without text"
            await session.send_bytes(data.encode("utf-8"))
        elif kind == "resize":
            size = data if isinstance(data, dict) else {}
            width, height = size.get("width"), size.get("height")
            if not (_is_count(width) and _is_count(height)):
                return f"resize to {width!r} x {height!r}"[:120]
            await session.set_terminal_size(_clamp(width, MAX_COLUMNS), _clamp(height, MAX_ROWS))
        elif kind == "ping":
            if not isinstance(data, (str, int, float)) or len(str(data)) > 100:
                return "ping with an odd payload"
            await session._to_browser_str(json.dumps(["pong", data]))
        elif kind == "blur":
            await session.blur()
        elif kind == "focus":
            await session.focus()
        else:
            return f"unknown type {kind[:40]!r}"
        return None

    async def on_shutdown(self, app: web.Application) -> None:
        """End every session's process before the server goes, so none is left behind."""
        sessions = list(self.sessions.values())
        if sessions:
            self.say(f"stopping {len(sessions)} session(s)")
        for session in sessions:
            with contextlib.suppress(Exception):
                await session.websocket.close(code=1001, message=b"server stopping")
        await asyncio.gather(*(session.stop() for session in sessions), return_exceptions=True)
        if self.preloader is not None:
            await self.preloader.stop()

    def preloader_environment(self) -> dict[str, str]:
        """What every session's environment has in common, without the database URL.

        The preloader imports Textual under it, so the module-level settings Textual reads
        at import (the web driver, the colour system) are already a session's.
        """
        from importlib.metadata import version

        environment = dict(os.environ)
        environment.update(
            TEXTUAL_DRIVER="textual.drivers.web_driver:WebDriver",
            TEXTUAL_FPS="60",
            TEXTUAL_COLOR_SYSTEM="truecolor",
            TERM_PROGRAM="textual",
            TERM_PROGRAM_VERSION=version("textual-serve"),
        )
        environment.update(self.child_env)
        environment.pop(DB_ENV, None)
        return environment


def _is_count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _clamp(value: int, largest: int) -> int:
    return min(max(value, 1), largest)


class OneLineLog(logging.Handler):
    """aiohttp's and textual-serve's log records as one line each in the server's log.

    aiohttp logs a refused request (a URL or header over its 8 KiB limit, a garbled
    request line) with a full traceback; the teacher needs only what and why.
    """

    def __init__(self, server: ClassroomServer) -> None:
        super().__init__(logging.INFO)
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        error = record.exc_info[1] if record.exc_info else None
        if error is not None:
            detail = str(getattr(error, "message", "") or error).strip().splitlines()
            # The part before a colon: aiohttp quotes the refused bytes after it.
            reason = f"{type(error).__name__}: {detail[0].partition(': ')[0] if detail else ''}"
            if isinstance(error, HttpProcessingError):
                text = f"bad request {text.partition(' request ')[2]} refused".replace("  ", " ")
            text = f"{text} ({reason})"
        self.server.say(self.server.one_line(text, 200))


def _quiet_libraries(server: ClassroomServer) -> None:
    handler = OneLineLog(server)
    for name in ("aiohttp", "textual-serve"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
        logger.setLevel(logging.WARNING)


async def _serve(server: ClassroomServer) -> int:
    _quiet_libraries(server)
    app = await server._make_app()
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=10.0, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, server.host, server.port)
    try:
        await site.start()
    except OSError as exc:
        print(
            f"playground serve: cannot listen on {server.host}:{server.port}: {exc}",
            file=sys.stderr,
        )
        await runner.cleanup()
        return 2
    port = server.port = int(runner.addresses[0][1])
    if server.preloader is not None:
        await server.preloader.start(server.preloader_environment())
        # Ready before the address is given, so every session is forked the same way.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(server.preloader.ready.wait(), PRELOAD_WAIT)
        if not server.preloader.ready.is_set():
            server.say("the preloaded parent is not ready: sessions start as new processes")
    print(f"Open {browser_address(server.host, port)} in a browser.", flush=True)
    if server.host in ("0.0.0.0", "::", ""):
        print(
            "(Students use this machine's name, or its address on the classroom network.)",
            flush=True,
        )
    print(
        f"Up to {server.max_sessions} sessions at once; {server.database_note}. "
        "Press Ctrl+C to stop.",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        server.say("stopping")
        await runner.cleanup()
        if server.preloader is not None:
            await server.preloader.stop()
    return 0


def _server_alive(pid: int) -> bool:
    """True while ``pid`` is a running ``playground`` process (not a reused pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return b"playground" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc to ask: the pid is taken, so assume it is the server


def _folders_in_use() -> set[Path]:
    """The working folders of this machine's processes, where /proc tells."""
    found = set()
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    found.add(Path(os.readlink(f"/proc/{entry.name}/cwd")))
    return found


def remove_stale_folders(temp: str | None = None) -> int:
    """Remove the session folders of servers that are gone (killed, so they could not).

    A folder is named after its server's pid; one whose server no longer runs is stale.
    Folders named before the pid was part of the name are stale when no process works in
    them. Returns how many were removed.
    """
    base = Path(temp or tempfile.gettempdir())
    in_use: set[Path] | None = None
    removed = 0
    for folder in base.glob(f"{FOLDER_PREFIX}*"):
        if not folder.is_dir() or folder.is_symlink():
            continue
        owner, dash, _ = folder.name[len(FOLDER_PREFIX) :].partition("-")
        if dash and owner.isdigit():
            stale = not _server_alive(int(owner))
        else:
            in_use = _folders_in_use() if in_use is None else in_use
            stale = not any(path == folder or folder in path.parents for path in in_use)
        if stale:
            shutil.rmtree(folder, ignore_errors=True)
            removed += not folder.exists()
    return removed


async def _check_database(url: str) -> None:
    """Open the shared database once, as each tab will, so a bad one fails before class starts."""
    from playground.core.lab import Lab

    lab = Lab(url)
    try:
        await lab.open()
    finally:
        await lab.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="playground serve",
        description=(
            "Serve the playground to web browsers: every tab gets its own app process "
            "and, unless --db is given, its own private database."
        ),
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="port (default: %(default)s; 0 picks a free one)"
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="one database shared by every tab (default: a private SQLite file per tab)",
    )
    parser.add_argument(
        "--tour", action="store_true", help="serve the guided tour instead of the app"
    )
    parser.add_argument(
        "--lesson",
        metavar="NAME",
        help="with --tour: every tab starts on this lesson (a scenario name)",
    )
    parser.add_argument(
        "--max-sessions",
        type=int,
        default=DEFAULT_MAX_SESSIONS,
        metavar="N",
        help="most tabs served at once; the next gets a polite 'full' page (default: %(default)s)",
    )
    parser.add_argument(
        "--behind-proxy",
        metavar="ORIGIN",
        help="served through a reverse proxy (see deploy/nginx-playground.conf) at this "
        "address, such as https://lab.example.org: its pages and websockets are accepted, "
        "and a full server refuses a websocket before the upgrade so the proxy tries the next",
    )
    return parser


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    if args.max_sessions < 1:
        print("playground serve: --max-sessions must be at least 1", file=sys.stderr)
        return 2
    public_origin = None
    if args.behind_proxy is not None:
        public_origin = parse_origin(args.behind_proxy)
        if public_origin is None:
            print(
                "playground serve: --behind-proxy takes the address students use, such as "
                f"https://lab.example.org (not {visible(args.behind_proxy)!r})",
                file=sys.stderr,
            )
            return 2
    if args.lesson is not None:
        from playground.core.scenarios import SCENARIOS

        if not args.tour or args.lesson not in SCENARIOS:
            why = "needs --tour" if not args.tour else f"names no lesson: {', '.join(SCENARIOS)}"
            print(f"playground serve: --lesson {visible(args.lesson)} {why}", file=sys.stderr)
            return 2
    from playground.core.database import DatabaseProblem, describe, is_memory, parse_url

    url = args.db or MEMORY_URL
    try:
        parsed = parse_url(url)
        if args.db is not None and not is_memory(parsed):
            asyncio.run(_check_database(url))
    except DatabaseProblem as exc:
        print(f"playground serve: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # e.g. a URL the dialect refuses; never echo the password
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if parsed.password:
            message = message.replace(str(parsed.password), "***")
        print(f"playground serve: cannot use {describe(parsed)}: {message}", file=sys.stderr)
        return 2
    shared = not is_memory(parsed)
    if shared:
        note = f"all tabs share one database: {describe(parsed)}"
    else:
        note = "each tab has its own private database"

    extra: list[str] = []
    if args.tour:
        if importlib.util.find_spec("playground.commands.tour") is None:
            print("playground serve: this version has no tour", file=sys.stderr)
            return 2
        extra = ["tour", *(["--lesson", args.lesson] if args.lesson else [])]
    child_argv = [sys.executable, "-m", "playground.commands.serve_session", *extra]
    child_env = {DB_ENV: url, PARENT_ENV: str(os.getpid())}

    if not is_loopback(args.host):
        print(
            f"WARNING: listening on {args.host}, not on this machine's loopback address: anyone "
            "who can reach this port can open sessions here"
            + (" and read and change the shared database" if shared else "")
            + ". There is no login. Use it only on a network you trust, and stop it after class.",
            file=sys.stderr,
            flush=True,
        )
    if shared:
        print(f"Note: {note}; students will see each other's rows.", flush=True)
    removed = remove_stale_folders()
    if removed:
        print(
            f"Cleaned up: removed {removed} folder{'s' if removed != 1 else ''} left by a "
            f"server that is gone (in {tempfile.gettempdir()}).",
            flush=True,
        )
    server = ClassroomServer(
        host=args.host,
        port=args.port,
        child_argv=child_argv,
        child_env=child_env,
        max_sessions=args.max_sessions,
        database_note=note,
        shared=shared,
        title="playground tour" if args.tour else "playground",
        secrets=[str(parsed.password)] if parsed.password else [],
        public_origin=public_origin,
    )
    return asyncio.run(_serve(server))

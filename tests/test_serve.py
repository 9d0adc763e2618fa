"""``playground serve`` in a real browser: Playwright driving the system's Chromium.

The page draws the app with xterm.js on a canvas, so the tests read the terminal's own
buffer: an init script catches the xterm ``Terminal`` object as textual-serve's bundle
creates it, and ``page.evaluate`` reads its lines. Without a browser these tests are
skipped with the reason; under CI (``CI`` set) a missing browser is a failure.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("PLAYGROUND_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 45_000
"""The longest any single wait in a page may take (a loaded 2-core machine starts apps slowly)."""

CATCH_TERMINAL = """
window.__terminals = [];
Object.defineProperty(Object.prototype, "_addonManager", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "_addonManager",
      {value, writable: true, configurable: true, enumerable: true});
    if ("buffer" in this) window.__terminals.push(this);
  },
});
"""
"""Keep a reference to each xterm.js Terminal: its public class is the one with an addon manager."""

READ_SCREEN = """() => {
  const terminal = window.__terminals && window.__terminals[0];
  if (!terminal) return "";
  const buffer = terminal.buffer.active;
  const lines = [];
  for (let i = 0; i < buffer.length; i++) {
    const line = buffer.getLine(i);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
}"""

SCREEN_HAS = "(text) => (" + READ_SCREEN + ")().includes(text)"


def browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set PLAYGROUND_CHROMIUM)"
    return None


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium with an empty profile for the module; each test opens its tabs."""
    reason = browser_missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI runs the browser tests, but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 800},
        )
        context.add_init_script(CATCH_TERMINAL)
        try:
            yield context
        finally:
            context.close()


# --- the server -------------------------------------------------------------------------


def children_of(pid: int) -> set[int]:
    """Pids whose parent is ``pid``, read from /proc."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            found.add(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rfind(")") + 2] != "Z"


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll a process-level condition until it holds, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


class Served:
    """A running ``playground serve`` with its log collected line by line."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "playground", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        wait_until(lambda: self.url is not None or self.process.poll() is not None, 60, "address")
        if self.url is None:
            raise AssertionError("playground serve did not start:\n" + self.log)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def log(self) -> str:
        return "".join(self.lines)

    @property
    def url(self) -> str | None:
        match = re.search(r"Open (http://\S+) in a browser", self.log)
        return match.group(1) if match else None

    def preloader(self) -> int | None:
        """The preloaded parent that forks the sessions, if it runs."""
        for pid in children_of(self.process.pid):
            with contextlib.suppress(OSError):
                if b"--preload" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"):
                    return pid
        return None

    def sessions(self) -> set[int]:
        """The session processes: forked by the preloader, or the server's own children."""
        preloader = self.preloader()
        if preloader is None:
            return children_of(self.process.pid)
        return (children_of(self.process.pid) - {preloader}) | children_of(preloader)

    def stop(self) -> None:
        children = self.sessions()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
                raise AssertionError("the server did not stop on SIGTERM:\n" + self.log) from None
        self._reader.join(10)
        wait_until(lambda: not any(alive(pid) for pid in children), 10, "sessions to end")


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Served:
        served = Served(*args, env=env)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


def test_refusals_and_the_warning_for_another_interface():
    """Checked before anything listens: a bad cap, an unreachable database, a wide host."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "playground", "serve", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    result = run("--max-sessions", "0")
    assert result.returncode == 2 and "--max-sessions must be at least 1" in result.stderr
    secret = "pw-" + secrets.token_hex(8)
    result = run("--db", f"postgresql+asyncpg://teacher:{secret}@127.0.0.1:1/lab")
    assert (
        result.returncode == 2 and "cannot open postgresql+asyncpg://teacher:***@" in result.stderr
    )
    assert secret not in result.stdout + result.stderr
    result = run("--behind-proxy", "lab.example.org/path")
    assert result.returncode == 2 and "--behind-proxy takes the address" in result.stderr
    # 192.0.2.1 is a documentation address this machine does not have: warned, never bound.
    result = run("--host", "192.0.2.1", "--port", "0")
    assert result.returncode == 2
    assert "WARNING: listening on 192.0.2.1" in result.stderr
    assert "anyone who can reach this port can open sessions" in result.stderr


# --- the page ---------------------------------------------------------------------------


def screen(page: Any) -> str:
    return str(page.evaluate(READ_SCREEN))


def wait_for_screen(page: Any, text: str) -> None:
    """Wait until the terminal in the page shows ``text``; on timeout, show what it showed."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(SCREEN_HAS, arg=text, timeout=WAIT_MS)
    except PlaywrightTimeout:
        raise AssertionError(f"the page never showed {text!r}; it shows:\n{screen(page)}") from None


def open_tab(context: Any, url: str) -> Any:
    """A new tab on the served page, once the app's first frame is drawn."""
    page = context.new_page()
    page.on("console", lambda message: print("console:", message.text))
    page.on("pageerror", lambda error: print("page error:", error))
    page.goto(url, timeout=WAIT_MS)
    wait_for_screen(page, "Add user")
    return page


def commit(page: Any, name: str) -> None:
    """Type a name into the app and press Enter, as a student would."""
    page.focus(".xterm-helper-textarea")
    page.keyboard.type(name)
    wait_for_screen(page, name)
    page.keyboard.press("Enter")


def users_table(page: Any) -> str:
    """The lines of the screen that belong to the users table (its left column)."""
    return "\n".join(line[:26] for line in screen(page).splitlines())


# --- the tests --------------------------------------------------------------------------


def test_commit_flip_and_commit_again_in_the_browser(browser_context, serve):
    served = serve()
    page = open_tab(browser_context, served.url)
    assert "each tab has its own private database" in page.inner_text("header")
    commit(page, "ada")
    wait_for_screen(page, "MissingGreenlet")
    wait_for_screen(page, "row committed anyway: uid 1")
    page.keyboard.press("F2")
    wait_for_screen(page, "OFF expire_on_commit")
    commit(page, "grace")
    wait_for_screen(page, "user.uid = 2")
    page.close()


def test_the_tour_is_served_with_its_progress_private_to_the_tab(browser_context, serve):
    served = serve("--tour")
    page = browser_context.new_page()
    page.goto(served.url, timeout=WAIT_MS)
    wait_for_screen(page, "esson 1")  # "Lesson 1 of", or the page before it
    assert "Guess what each snippet does" in page.inner_text("header")
    (pid,) = served.sessions()
    (private,) = serve_folders(served)
    assert private.name.startswith("playground-serve-") and private.is_dir()
    page.close()
    wait_until(lambda: not alive(pid), 20, f"session process {pid} to end")
    wait_until(lambda: not private.exists(), 10, "the tab's private folder to go")


def test_two_tabs_do_not_see_each_others_rows(browser_context, serve):
    served = serve()
    first = open_tab(browser_context, served.url)
    second = open_tab(browser_context, served.url)
    assert len(served.sessions()) == 2
    commit(first, "alpha")
    wait_for_screen(first, "row committed anyway: uid 1")
    commit(second, "bravo")
    wait_for_screen(second, "row committed anyway: uid 1")
    # The first tab's next commit re-reads the table: a shared database would now show bravo.
    commit(first, "charlie")
    wait_for_screen(first, "row committed anyway: uid 2")
    first.wait_for_function(
        "(text) => (" + READ_SCREEN + ")().includes(text)", arg="2 rows", timeout=WAIT_MS
    )
    assert "charlie" in users_table(first) and "alpha" in users_table(first)
    assert "bravo" not in screen(first)
    assert "alpha" not in screen(second) and "charlie" not in screen(second)
    first.close()
    second.close()


def test_a_shared_database_is_said_and_shared(browser_context, serve, tmp_path):
    served = serve("--db", f"sqlite+aiosqlite:///{tmp_path / 'class.db'}")
    assert "all tabs share one database" in served.log
    first = open_tab(browser_context, served.url)
    assert "all tabs share one database" in first.inner_text("header")
    second = open_tab(browser_context, served.url)
    commit(first, "alpha")
    wait_for_screen(first, "row committed anyway: uid 1")
    commit(second, "bravo")
    wait_for_screen(second, "row committed anyway: uid 2")
    commit(first, "charlie")
    wait_for_screen(first, "row committed anyway: uid 3")
    wait_for_screen(first, "3 rows")
    assert "bravo" in users_table(first)
    first.close()
    second.close()


def test_closing_a_tab_ends_its_process(browser_context, serve):
    served = serve()
    page = open_tab(browser_context, served.url)
    (pid,) = served.sessions()
    assert alive(pid)
    page.close()
    wait_until(lambda: not alive(pid), 20, f"session process {pid} to end")
    wait_until(lambda: "ended (pid" in served.log, 10, "the log line for the end")


def connect_client(served: Served) -> subprocess.Popen[str]:
    """A bare websocket client in its own process, once its session has sent output."""
    ws_url = str(served.url).replace("http://", "ws://") + "ws?width=100&height=30"
    client = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import asyncio, aiohttp\n"
            "async def main():\n"
            "    async with aiohttp.ClientSession() as s:\n"
            f"        async with s.ws_connect({ws_url!r}) as ws:\n"
            "            await ws.receive(timeout=60)\n"
            "            print('connected', flush=True)\n"
            "            await asyncio.sleep(600)\n"
            "asyncio.run(main())\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert client.stdout is not None
    assert client.stdout.readline().strip() == "connected"
    return client


def test_a_dropped_connection_ends_its_process(serve):
    """A client killed without closing its websocket: the server sees the socket go."""
    served = serve()
    client = connect_client(served)
    try:
        (pid,) = served.sessions()
        client.kill()
        client.wait(10)
        wait_until(lambda: not alive(pid), 20, f"session process {pid} to end")
    finally:
        client.kill()
        client.wait(10)


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_stopping_the_server_ends_every_session(serve, how):
    """Ctrl+C ends sessions in order; a killed server's sessions are ended by the kernel."""
    served = serve()
    clients = [connect_client(served), connect_client(served)]
    try:
        sessions = served.sessions()
        assert len(sessions) == 2
        preloader = served.preloader()
        assert preloader is not None and preloader not in sessions
        served.process.send_signal(how)
        served.process.wait(30)
        wait_until(lambda: not any(alive(pid) for pid in sessions), 20, "every session to end")
        wait_until(lambda: not alive(preloader), 20, "the preloaded parent to end")
        if how == signal.SIGINT:
            wait_until(lambda: served.log.count("ended (pid") == 2, 10, "two log lines")
    finally:
        for client in clients:
            client.kill()
            client.wait(10)


def test_the_cap_refuses_the_next_tab_politely(browser_context, serve):
    served = serve("--max-sessions", "1")
    first = open_tab(browser_context, served.url)
    second = browser_context.new_page()
    response = second.goto(served.url, timeout=WAIT_MS)
    assert response is not None and response.status == 503
    assert "The classroom is full" in second.inner_text("body")
    assert "All 1 sessions are in use" in second.inner_text("body")
    assert len(served.sessions()) == 1
    assert "page refused: all 1 sessions in use" in served.log
    # A websocket opened anyway (a page loaded just before the last place went) is told too.
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import asyncio, aiohttp\n"
            "async def main():\n"
            "    async with aiohttp.ClientSession() as s:\n"
            f"        async with s.ws_connect({served.url.replace('http', 'ws') + 'ws'!r}) as ws:\n"
            "            message = await ws.receive(timeout=30)\n"
            "            print(message.data.decode())\n"
            "            await ws.receive(timeout=30)\n"
            "            print('close code', ws.close_code)\n"
            "asyncio.run(main())\n",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "The classroom is full: all 1 sessions are in use" in probe.stdout
    assert "close code 1013" in probe.stdout
    first.close()
    wait_until(lambda: not served.sessions(), 20, "the first session to end")
    third = open_tab(browser_context, served.url)
    assert len(served.sessions()) == 1
    third.close()
    second.close()


def _check_no_secret(browser_context: Any, served: Served, secret: str) -> None:
    """Use a tab fully, then look for the password everywhere a student or `ps` could."""
    seen: list[str] = []
    page = browser_context.new_page()
    page.on("request", lambda request: seen.append(request.url))
    page.on("console", lambda message: seen.append(message.text))
    page.on(
        "websocket",
        lambda ws: (
            seen.append(ws.url),
            ws.on("framereceived", lambda frame: seen.append(str(frame))),
        ),
    )
    page.goto(served.url, timeout=WAIT_MS)
    wait_for_screen(page, "Add user")
    assert "all tabs share one database" in page.inner_text("header")
    commit(page, "dora")
    wait_for_screen(page, "MissingGreenlet")
    page.keyboard.press("F6")
    wait_for_screen(page, "name: dora")
    for pid in served.sessions():
        seen.append(Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"))
    seen += [page.content(), page.url, screen(page), served.log]
    page.close()
    assert len(seen) > 5
    leaks = [item[:200] for item in seen if secret in item]
    assert not leaks, leaks


@contextlib.contextmanager
def postgres_role() -> Iterator[Any]:
    """A PostgreSQL role and database made for one test, with a random password: its URL."""
    import asyncio
    import concurrent.futures

    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    from .conftest import postgres_url

    admin = postgres_url()
    role = "serve_" + secrets.token_hex(4)
    secret = "pw-" + secrets.token_hex(8)

    async def execute(*statements: str) -> None:
        engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                for statement in statements:
                    await conn.execute(text(statement))
        finally:
            await engine.dispose()

    def run(*statements: str) -> None:
        # Playwright's sync API keeps an event loop in this thread: use another one.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, execute(*statements)).result(timeout=60)

    run(f"CREATE ROLE {role} LOGIN PASSWORD '{secret}'", f"CREATE DATABASE {role} OWNER {role}")
    try:
        yield make_url(admin).set(username=role, password=secret, database=role)
    finally:
        run(f"DROP DATABASE IF EXISTS {role} WITH (FORCE)", f"DROP ROLE {role}")


def test_no_password_reaches_the_page_urls_console_or_ps(browser_context, serve):
    """A PostgreSQL role made for this test, with a random password, shared by the tabs."""
    with postgres_role() as url:
        served = serve("--db", url.render_as_string(hide_password=False))
        _check_no_secret(browser_context, served, url.password)
        served.stop()


# --- a hostile or careless client ---------------------------------------------------------


def raw_websocket(served: Served, path: str, headers: dict[str, str] | None = None) -> Any:
    """A websocket handshake on a plain socket with a tiny receive buffer, never read from.

    A client that stops reading makes the server's sends wait: this is the laptop whose lid
    closed, or the frozen tab, with output still on its way.
    """
    import base64
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(str(served.url))
    assert address.hostname is not None and address.port is not None
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((address.hostname, address.port))
    fields = {
        "Host": address.netloc,
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": base64.b64encode(secrets.token_bytes(16)).decode(),
        "Sec-WebSocket-Version": "13",
        **(headers or {}),
    }
    request = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    sock.sendall((request + "\r\n").encode())
    return sock


def drop(sock: Any) -> None:
    """Close with a reset (no goodbye), as a vanished network does."""
    import socket
    import struct

    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def serve_folders(served: Served) -> set[Path]:
    """The private folders of this server's sessions, found through their processes' cwd."""
    return {Path(os.readlink(f"/proc/{pid}/cwd")) for pid in served.sessions()}


def test_sockets_dropped_while_the_server_sends_free_their_seats(serve):
    """Three clients that read nothing, then vanish: the seats and folders come back."""
    from playground.commands.serve import HEARTBEAT

    served = serve("--max-sessions", "3")
    sockets = [raw_websocket(served, "/ws?width=3000&height=3000") for _ in range(3)]
    wait_until(lambda: served.log.count(" started (pid") == 3, 60, "three sessions")
    wait_until(lambda: len(served.sessions()) == 3, 30, "three session processes")
    folders = serve_folders(served)
    assert len(folders) == 3 and all(f.name.startswith("playground-serve-") for f in folders)
    time.sleep(6)  # the clients read nothing while the first frames pile up, as in the issue
    for sock in sockets:
        drop(sock)
    dropped = time.monotonic()
    wait_until(lambda: served.log.count(" ended (pid") == 3, HEARTBEAT, "three seats to free")
    wait_until(lambda: not any(f.exists() for f in folders), HEARTBEAT, "the folders to go")
    assert time.monotonic() - dropped < HEARTBEAT
    assert "0 of 3 in use" in served.log.splitlines()[-1]
    # A new student gets a session, not the "full" page.
    client = connect_client(served)
    client.kill()
    client.wait(10)
    served.process.send_signal(signal.SIGINT)
    served.process.wait(30)
    served._reader.join(10)
    assert "Task exception was never retrieved" not in served.log
    assert "Event loop is closed" not in served.log
    assert "Traceback" not in served.log, served.log


def test_a_client_that_stops_reading_loses_its_seat(serve):
    """The frozen tab: connected, but reading nothing while output waits for it."""
    from playground.commands.serve import HEARTBEAT

    served = serve("--max-sessions", "1")
    sock = raw_websocket(served, "/ws?width=3000&height=3000")
    try:
        wait_until(lambda: len(served.sessions()) == 1, 60, "the session process")
        (folder,) = serve_folders(served)
        started = time.monotonic()
        wait_until(lambda: "session 1 ended" in served.log, 2 * HEARTBEAT, "the seat to free")
        wait_until(lambda: not folder.exists(), 10, "the folder to go")
        assert time.monotonic() - started < 2 * HEARTBEAT
        assert "Traceback" not in served.log
    finally:
        drop(sock)


def run_async(coroutine: Any) -> Any:
    """Run a coroutine in a thread of its own (Playwright's sync API owns this thread's loop)."""
    import asyncio
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=120)


async def handshake(url: str, headers: dict[str, str]) -> int:
    """The status of a websocket handshake to ``url`` with ``headers`` (101 when accepted)."""
    import aiohttp

    async with aiohttp.ClientSession() as client:
        try:
            async with client.ws_connect(url, headers=headers) as ws:
                await ws.receive(timeout=60)  # the first frame: the session really started
                return 101
        except aiohttp.WSServerHandshakeError as error:
            return error.status


async def page_status(url: str, headers: dict[str, str]) -> int:
    import aiohttp

    async with aiohttp.ClientSession() as client:
        async with client.get(url, headers=headers) as response:
            return response.status


def test_foreign_origins_and_hosts_are_refused(serve):
    """Another site's page, or a rebound DNS name, gets neither the page nor a session."""
    from urllib.parse import urlsplit

    served = serve()
    own = urlsplit(str(served.url)).netloc
    port = urlsplit(str(served.url)).port
    ws = str(served.url).replace("http://", "ws://") + "ws"
    foreign = [
        {"Origin": "http://evil.example"},
        {"Origin": f"http://evil.example:{port}"},
        {"Origin": "null"},
        {"Host": f"evil.example:{port}"},
        {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"},
        {"Host": f"127.0.0.1:{port + 1}"},
    ]
    for headers in foreign:
        assert run_async(handshake(ws, headers)) == 403, headers
        assert run_async(page_status(str(served.url), headers)) == 403, headers
    assert not served.sessions()
    assert served.log.count("refused a request") == 2 * len(foreign)
    assert "evil.example" in served.log and "Traceback" not in served.log
    own_ones = [{}, {"Origin": f"http://{own}"}, {"Host": f"localhost:{port}"}]
    for headers in own_ones:
        assert run_async(page_status(str(served.url), headers)) == 200, headers
    assert run_async(handshake(ws, {"Origin": f"http://{own}"})) == 101
    assert run_async(handshake(ws, {"Host": f"localhost:{port}"})) == 101


async def malformed_session(url: str, messages: list[str]) -> tuple[int, int, int]:
    """Open a 3000x3000 session, send ``messages`` then a good resize and a key.

    Returns the size of the first frame in bytes, the lowest row it draws on (the app's
    height), and the bytes received after the good messages (the app still drawing).
    """
    import json

    import aiohttp

    async with aiohttp.ClientSession() as client:
        async with client.ws_connect(url + "?width=3000&height=3000", max_msg_size=0) as ws:
            frame = b""
            while b"Add user" not in frame:  # the first frame, maybe in several messages
                message = await ws.receive(timeout=60)
                assert message.type == aiohttp.WSMsgType.BINARY, message
                frame += message.data
            rows = re.findall(rb"\x1b\[(\d+);\d+H", frame)  # the cursor moves to each line
            lowest = max(int(row) for row in rows)
            for text in messages:
                await ws.send_str(text)
            await ws.send_str(json.dumps(["resize", {"width": 90, "height": 28}]))
            await ws.send_str(json.dumps(["stdin", "Q"]))
            after = 0
            while after < 500:
                message = await ws.receive(timeout=30)
                assert message.type == aiohttp.WSMsgType.BINARY, message
                after += len(message.data)
            return len(frame), lowest, after


def test_sizes_are_clamped_and_malformed_messages_leave_the_session_alive(serve):
    """A 3000x3000 request gets a screen-sized app; bad resizes are refused in one log line."""
    from playground.commands.serve import MAX_COLUMNS, MAX_ROWS

    served = serve()
    ws = str(served.url).replace("http://", "ws://") + "ws"
    bad = [
        '["resize", {"width": "wide", "height": 30}]',
        '["resize", {"width": -5, "height": -5}]',
        '["resize", {"width": 1e400, "height": 2}]',
        '["resize", {"width": 1000000000, "height": 1000000000}]',
        '["resize", "big"]',
        '["resize"]',
        '["stdin", 42]',
        "not json at all",
        "{}",
    ]
    first, lowest, after = run_async(malformed_session(ws, bad))
    assert after >= 500
    wait_until(lambda: "session 1 ended" in served.log, 30, "the session to end with its socket")
    assert served.log.count("malformed") == 1, served.log
    assert "Traceback" not in served.log and "locals" not in served.log
    assert re.search(rf"session 1 started \(pid \d+, {MAX_COLUMNS}x{MAX_ROWS}\)", served.log)
    assert lowest == MAX_ROWS  # the app itself draws MAX_ROWS lines, not 3000
    assert first < 1_000_000  # far from the 9.6 MB of an unclamped first frame


def test_over_long_urls_and_headers_give_one_line(serve):
    import socket
    from urllib.parse import urlsplit

    served = serve()
    address = urlsplit(str(served.url))
    host = address.netloc.encode()
    requests = [
        b"GET /?" + b"x" * 20_000 + b" HTTP/1.1\r\nHost: " + host + b"\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: " + host + b"\r\nX-Long: " + b"y" * 20_000 + b"\r\n\r\n",
    ]
    for request in requests:
        with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
            sock.sendall(request)
            assert sock.recv(100).startswith(b"HTTP/1.0 400")
    wait_until(lambda: served.log.count("bad request") == 2, 10, "two log lines")
    assert "Traceback" not in served.log and "xxxxxxxxxx" * 100 not in served.log


def test_stale_folders_of_a_killed_server_are_removed_at_start(serve, tmp_path):
    """Folders whose server is gone go; a running server's and anything else's stay."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {"TMPDIR": str(temp)}
    running = serve(env=env)
    client = connect_client(running)
    try:
        (kept,) = serve_folders(running)
        assert kept.parent == temp
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        gone.wait(30)
        stale = temp / f"playground-serve-{gone.pid}-abc123"
        legacy = temp / "playground-serve-x1y2z3"  # named before folders carried the pid
        for folder in (stale, legacy):
            (folder / "data").mkdir(parents=True)
            (folder / "playground.db").write_bytes(b"rows")
        other = temp / "another-program"
        other.mkdir()
        served = serve(env=env)
        assert not stale.exists() and not legacy.exists()
        assert kept.is_dir() and other.is_dir()
        assert "removed 2 folders left by a server that is gone" in served.log
    finally:
        client.kill()
        client.wait(10)


class Forwarder:
    """A TCP relay on loopback to the test's PostgreSQL server, that can be cut: the
    database "goes down" for whoever connects through it, as a shared server does."""

    def __init__(self, host: str, port: int) -> None:
        import socket

        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open: list[Any] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target, timeout=30)
            self.open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: Any, sink: Any) -> None:
        import socket

        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):  # shutdown wakes the other direction's recv
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()

    def cut(self) -> None:
        """Refuse new connections and break the open ones."""
        import socket

        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept
        self.listener.close()
        for sock in self.open:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def test_a_shared_database_gone_down_is_said_on_the_page(browser_context, serve):
    """The shared server stops answering after the class started: the page says why."""
    with postgres_role() as direct:
        assert direct.host is not None and direct.password
        relay = Forwarder(direct.host, direct.port or 5432)
        try:
            url = direct.set(host="127.0.0.1", port=relay.port)
            served = serve("--db", url.render_as_string(hide_password=False))
            relay.cut()
            page = browser_context.new_page()
            page.goto(served.url, timeout=WAIT_MS)
            wait_for_screen(page, "The app could not start: cannot open postgresql+asyncpg://")
            shown = screen(page).strip().replace("\n", "")  # one line, wrapped by the terminal
            assert shown.startswith("The app could not start") and shown.count("The app") == 1
            assert f"{direct.username}:***@127.0.0.1:{relay.port}/" in shown, shown
            assert "Connect call failed" in shown or "refused" in shown.lower(), shown
            assert "This session has ended" in page.inner_text("body")
            wait_until(lambda: "session 1 ended" in served.log, 30, "the session's end")
            assert served.log.count("cannot open postgresql") == 1, served.log
            assert str(direct.password) not in served.log + screen(page)
            page.close()
        finally:
            relay.cut()


def test_saved_files_download_to_the_students_machine(browser_context, serve):
    """F9 and F10 in a browser send the script and the log to the browser as downloads."""
    served = serve()
    downloads: list[Any] = []

    def watch(page: Any) -> None:
        page.on("download", lambda download: downloads.append(download))

    browser_context.on("page", watch)
    page = open_tab(browser_context, served.url)
    try:
        commit(page, "ada")
        wait_for_screen(page, "MissingGreenlet")
        for key, count in (("F9", 1), ("F10", 2)):
            page.keyboard.press(key)
            deadline = time.monotonic() + WAIT_MS / 1000
            while len(downloads) < count:  # events arrive while Playwright waits
                assert time.monotonic() < deadline, f"no download after {key}:\n{served.log}"
                page.wait_for_timeout(100)
        script, log = downloads
        assert script.suggested_filename == "playground_after_commit.py"
        text = Path(script.path()).read_text(encoding="utf-8")
        assert "expire_on_commit" in text and "import asyncio" in text
        compile(text, script.suggested_filename, "exec")
        assert re.fullmatch(r"playground-log-\d{8}-\d{6}\.md", log.suggested_filename)
        text = Path(log.path()).read_text(encoding="utf-8")
        assert "ada" in text and "MissingGreenlet" in text
        wait_for_screen(page, "sent to your browser")
    finally:
        browser_context.remove_listener("page", watch)
        page.close()


# --- several instances behind nginx -------------------------------------------------------

NGINX = os.environ.get("PLAYGROUND_NGINX", "/usr/sbin/nginx")
NGINX_CONF = Path(__file__).resolve().parent.parent / "deploy" / "nginx-playground.conf"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_nginx(folder: Path, port: int, upstreams: list[int]) -> subprocess.Popen[bytes]:
    """nginx on loopback with the repository's configuration, pointed at ``upstreams``."""
    import socket

    site = NGINX_CONF.read_text()
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    site = site.replace("127.0.0.1:8001", f"127.0.0.1:{upstreams[0]}")
    site = site.replace("127.0.0.1:8002", f"127.0.0.1:{upstreams[1]}")
    temp = "".join(
        f"{kind}_temp_path {folder}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        f"daemon off;\nworker_processes 1;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log warn;\nevents {{ worker_connections 256; }}\n"
        f"http {{\naccess_log off;\n{temp}{site}\n}}\n"
    )
    process = subprocess.Popen(
        [NGINX, "-p", str(folder), "-e", str(folder / "error.log"), "-c", "nginx.conf"]
    )

    def listening() -> bool:
        assert process.poll() is None, (folder / "error.log").read_text()
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    wait_until(listening, 30, "nginx to listen")
    return process


async def fill_through(public: str, count: int, check: Callable[[], None]) -> tuple[int, str]:
    """Open ``count`` sessions through the proxy, run ``check``, then knock once more.

    Returns the status of the next websocket handshake and the page the next student gets.
    """
    import aiohttp

    headers = {"Origin": public}
    async with aiohttp.ClientSession() as client:
        sockets = []
        try:
            for _ in range(count):
                ws = await client.ws_connect(public.replace("http", "ws") + "/ws", headers=headers)
                sockets.append(ws)
                message = await ws.receive(timeout=60)  # the first frame: a real session
                assert message.type == aiohttp.WSMsgType.BINARY, message
            check()
            status = 101
            try:
                extra = await client.ws_connect(
                    public.replace("http", "ws") + "/ws", headers=headers
                )
                await extra.close()
            except aiohttp.WSServerHandshakeError as error:
                status = error.status
            async with client.get(public + "/", headers=headers) as response:
                page = f"{response.status} {await response.text()}"
            return status, page
        finally:
            for ws in sockets:
                await ws.close()


def test_two_instances_behind_nginx_share_a_class(serve, tmp_path):
    """least_conn spreads the students; when both caps are full the next one is told so."""
    if not Path(NGINX).exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI runs the proxy test, but there is no nginx at {NGINX}")
        pytest.skip(f"no nginx at {NGINX} (apt-get install nginx, or set PLAYGROUND_NGINX)")
    from urllib.parse import urlsplit

    port = free_port()
    public = f"http://127.0.0.1:{port}"
    first = serve("--max-sessions", "2", "--behind-proxy", public)
    second = serve("--max-sessions", "2", "--behind-proxy", public)
    upstreams = [urlsplit(str(served.url)).port or 0 for served in (first, second)]
    nginx = start_nginx(tmp_path, port, upstreams)
    try:

        def spread() -> None:
            wait_until(lambda: len(first.sessions()) == 2, 30, "two sessions on the first")
            wait_until(lambda: len(second.sessions()) == 2, 30, "two sessions on the second")

        status, page = run_async(fill_through(public, 4, spread))
        assert status == 503
        assert page.startswith("503 ") and "The classroom is full" in page
        assert "All 2 sessions are in use" in page
        # A page from the public address is the instances' own; another site's is not.
        assert run_async(page_status(public + "/", {"Origin": "http://evil.example"})) == 403
    finally:
        nginx.terminate()
        nginx.wait(30)

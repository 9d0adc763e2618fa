"""Benchmark: the app against baselines measured in the same run, on SQLite.

Usage: python bench/run.py [--quick] [--only app|widgets]
Prints a table: each figure, its absolute difference from its baseline, its target, and
whether it was met; exits with status 1 naming the figures that missed. Start-up and
"usable" run the real command line in a pseudo-terminal and read what it draws; the
commit round trip and the bulk add drive the app with keys, time its messages and the
frames its driver writes. A second table sets Textual's stock widgets against the
hand-rolled ones that replaced them (bench/stock.py builds the app with them): the
start-up and per-commit difference each makes, for deciding which rewrites to keep.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import fcntl
import gc
import os
import random
import re
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine  # noqa: E402
from textual import events  # noqa: E402
from textual.driver import Driver  # noqa: E402
from textual.drivers.headless_driver import HeadlessDriver  # noqa: E402
from textual.geometry import Region  # noqa: E402
from textual.message import Message  # noqa: E402
from textual.pilot import Pilot  # noqa: E402
from textual.widgets import Input  # noqa: E402

from playground.core.lab import Lab  # noqa: E402
from playground.core.models import Model, User  # noqa: E402
from playground.core.results import ExperimentResult, Explanation  # noqa: E402
from playground.core.scenarios import DEFAULT_SCENARIO, SCENARIOS  # noqa: E402
from playground.ui.app import PlaygroundApp, make_app  # noqa: E402
from playground.ui.commit_log import CommitLog  # noqa: E402
from playground.ui.messages import BulkDone, ExperimentDone  # noqa: E402
from playground.ui.screens import BulkDialog  # noqa: E402
from playground.ui.widgets import NameInput  # noqa: E402

FRAME_MS = 1000 / 60
"""One frame at 60 Hz: a delay shorter than this is one no person can see."""
TYPING_GAP = (0.08, 0.12)
"""Seconds from a name's last letter to its Enter, as a quick typist types: drawn anew for
each Enter, so the Enter lands anywhere between two of Textual's frames (a fixed tenth of a
second, six frame periods, put every Enter of one app at the same point between them)."""


@dataclass
class Row:
    figure: str
    measured: str
    difference: str
    target: str
    kind: str  # "ratio" or "absolute"
    ok: bool


ROWS: list[Row] = []


def report(figure: str, measured: str, difference: str, target: str, kind: str, ok: bool) -> None:
    ROWS.append(Row(figure, measured, difference, target, kind, ok))
    verdict = "ok" if ok else "MISSED"
    print(f"  {figure}: {measured} ({difference}; {kind} target {target}) {verdict}", flush=True)


def report_ratio(figure: str, app: float, base: float, limit: float, unit: str = "ms") -> None:
    """A figure that is the app's time over its baseline's, with the gap in absolute terms."""
    ratio = app / base
    report(
        figure,
        f"{app:.1f} {unit} vs {base:.1f} {unit} = {ratio:.2f}x",
        f"{app - base:+.1f} {unit}",
        f"<= {limit:.2f}x",
        "ratio",
        ratio <= limit,
    )


class Ticker:
    """Measures the longest time the event loop went without running this task."""

    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(self.interval)
            now = time.perf_counter()
            self.longest = max(self.longest, now - last - self.interval)
            last = now

    def __enter__(self) -> Ticker:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


# ------------------------------------------------------- 1. start-up and usable
# Both sides run as a fresh process in a pseudo-terminal of 100x32, with Textual's real
# driver; a figure is the time from launching the process until the terminal receives
# what the figure waits for. Nothing inside the processes is patched or timed.
SIZE = (100, 32)
SEED_ROWS = 10
LAST_ROW = rb"seed 10"  # short: a 6-digit uid leaves the name column 13 cells
ACCEPTED = rb"#1 (queued|done)"

MINIMAL_FIRST_FRAME = """
import sqlalchemy.ext.asyncio, aiosqlite, platformdirs, rich
from textual.app import App
from textual.widgets import Footer, Header, Static

class Minimal(App):
    TITLE = "playground"

    def compose(self):
        yield Header()
        yield Static("hello")
        yield Footer()

Minimal().run()
"""

MINIMAL_USABLE = """
import sys
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from textual.app import App
from textual.widgets import DataTable, Footer, Header, Input, Static

class Minimal(App):
    TITLE = "playground"

    def compose(self):
        yield Header()
        yield Input(id="name")
        yield Static(id="said")
        yield DataTable()
        yield Footer()

    async def on_mount(self):
        self.query_one(Input).focus()
        table = self.query_one(DataTable)
        table.add_columns("uid", "name")
        engine = create_async_engine(sys.argv[1])
        async with engine.connect() as conn:
            query = text("SELECT uid, name FROM playground_users ORDER BY uid")
            rows = (await conn.execute(query)).all()
        await engine.dispose()
        for uid, name in rows:
            table.add_row(str(uid), name)

    def on_input_submitted(self, event):
        self.query_one("#said", Static).update(f"#1 queued: {event.value}")

Minimal().run()
"""


def in_terminal(command: list[str], steps: list[tuple[bytes, bytes | None]]) -> list[float]:
    """Run ``command`` in a pseudo-terminal; for each step wait until its pattern is drawn.

    Returns the milliseconds from launch to each pattern; a step's keys, if any, are
    typed as soon as its pattern shows. The process is killed afterwards.
    """
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    env = dict(os.environ, TERM="xterm-256color")
    env.pop("TEXTUAL", None)
    t0 = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
        start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    drawn, times = b"", []
    give_up = t0 + 60
    try:
        for pattern, keys in steps:
            while re.search(pattern, drawn) is None:
                ready, _, _ = select.select([master], [], [], 1)
                if time.perf_counter() > give_up:
                    raise TimeoutError(
                        f"{' '.join(command[-2:])!r} never drew {pattern!r}; "
                        f"its last output: {drawn[-600:]!r}"
                    )
                if ready:
                    drawn += os.read(master, 1 << 16)
            times.append((time.perf_counter() - t0) * 1000)
            if keys:
                os.write(master, keys)
    finally:
        process.kill()  # measured: its exit is no part of any figure
        process.wait()
        os.close(master)
    return times


def app_command(url: str) -> list[str]:
    return [sys.executable, "-m", "playground", "--db", url]


def usable_ms(command: list[str]) -> float:
    """Until the newest row is on screen and an Enter typed after it is acknowledged."""
    return in_terminal(command, [(LAST_ROW, b"x\r"), (ACCEPTED, None)])[-1]


COPIES = iter(range(1_000_000))


def fresh(url: str) -> str:
    """A copy of the SQLite file at ``url``, for one launch: the Enter a launch types may
    commit a row, and rows piling up over launches would push the seeded ones off screen."""
    source = Path(url.removeprefix("sqlite+aiosqlite:///"))
    copy = source.with_name(f"{source.stem}-{next(COPIES)}.db")
    shutil.copyfile(source, copy)
    return f"sqlite+aiosqlite:///{copy}"


async def seed(url: str, count: int) -> None:
    lab = Lab(url)
    await lab.open()
    assert lab.engine is not None
    async with lab.engine.begin() as conn:
        names = [{"name": f"filler {i}"} for i in range(count - SEED_ROWS)]
        names += [{"name": f"seed {i + 1}"} for i in range(SEED_ROWS)]
        await conn.execute(insert(User), names)
    await lab.close()


def alternate(runs: int, *sides: Callable[[], float]) -> list[float]:
    """Medians of each side, run in turn so a burst of load elsewhere hits them alike."""
    samples: list[list[float]] = [[] for _ in sides]
    for _ in range(runs):
        for side, into in zip(sides, samples, strict=True):
            into.append(side())
    return [statistics.median(s) for s in samples]


def compile_package() -> None:
    """Compile the package's bytecode, as installing it does, before any start is timed.

    Both sides then load compiled modules: the minimal app's libraries were compiled when
    pip installed them, while an editable install of this package compiles its ~50
    modules on the first start (and on every start where PYTHONDONTWRITEBYTECODE is set).
    """
    compileall.compile_dir(ROOT / "playground", quiet=1)


def bench_startup(tmp: Path, runs: int) -> None:
    compile_package()
    url = f"sqlite+aiosqlite:///{tmp / 'startup.db'}"
    asyncio.run(seed(url, SEED_ROWS))
    minimal = [sys.executable, "-c", MINIMAL_FIRST_FRAME]
    app, base = alternate(
        runs,
        lambda: in_terminal(app_command(url), [(rb"playground", None)])[0],
        lambda: in_terminal(minimal, [(rb"playground", None)])[0],
    )
    report_ratio("1a. start-up to the first frame", app, base, 1.3)
    minimal = [sys.executable, "-c", MINIMAL_USABLE, url]
    app, base = alternate(
        runs, lambda: usable_ms(app_command(fresh(url))), lambda: usable_ms(minimal)
    )
    report_ratio("1b. usable: rows shown, Enter accepted", app, base, 1.3)


def bench_big_usable(tmp: Path, runs: int) -> None:
    small, big = (f"sqlite+aiosqlite:///{tmp / name}" for name in ("small.db", "big.db"))
    asyncio.run(seed(small, SEED_ROWS))
    asyncio.run(seed(big, 100_000))
    on_big, on_small = alternate(
        runs,
        lambda: usable_ms(app_command(fresh(big))),
        lambda: usable_ms(app_command(fresh(small))),
    )
    report_ratio("4b. usable with 100,000 users vs 10", on_big, on_small, 1.2)


# ----------------------------------------------------------- 2. commit round trip
class Watch:
    """Stamps the moment messages are handled, through Textual's public message hook."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}
        self.events: dict[str, asyncio.Event] = {}
        self.on_message: Callable[[Message], None] | None = None

    def stamp(self, what: str) -> None:
        if what not in self.seen:
            self.seen[what] = time.perf_counter()
        self.event(what).set()

    def event(self, what: str) -> asyncio.Event:
        return self.events.setdefault(what, asyncio.Event())

    def reset(self) -> None:
        self.seen.clear()
        for event in self.events.values():
            event.clear()

    def __call__(self, message: Message) -> None:
        if isinstance(message, events.Key) and message.key == "enter":
            self.stamp("enter")
        elif isinstance(message, NameInput.Submitted):
            self.stamp("submitted")
        elif isinstance(message, ExperimentDone):
            self.stamp("done")
        elif isinstance(message, BulkDone):
            self.stamp("bulk done")
        if self.on_message is not None:
            self.on_message(message)


class Frames:
    """What the app's driver wrote, and when: the frame that shows a pattern is stamped.

    The benchmark's driver (see ``terminal_driver``) hands every frame it is given here.
    """

    def __init__(self) -> None:
        self._pattern: re.Pattern[str] | None = None
        self.drawn = 0.0
        self.shown = asyncio.Event()

    def expect(self, pattern: str) -> None:
        """Stamp the first frame written from now on whose text matches ``pattern``."""
        self._pattern = re.compile(pattern)
        self.shown.clear()

    def written(self, data: str) -> None:
        now = time.perf_counter()
        if self._pattern is not None and self._pattern.search(data) is not None:
            self._pattern = None
            self.drawn = now
            self.shown.set()


def terminal_driver(frames: Frames) -> type[Driver]:
    """A driver that takes no input and turns each frame into a terminal's text, as the
    real one does, then gives it to ``frames`` instead of a terminal.

    Textual's headless driver tells the app it is headless, and the app then never turns
    a frame into text; a frame would cost less than it does in a terminal.
    """

    class Terminal(HeadlessDriver):
        @property
        def is_headless(self) -> bool:
            return False

        def write(self, data: str) -> None:
            frames.written(data)

    return Terminal


Body = Callable[[PlaygroundApp, Pilot[None], Watch], Awaitable[None]]


async def running(
    app: PlaygroundApp, body: Body, watch: Watch | None = None, frames: Frames | None = None
) -> None:
    """Run ``app`` off-screen; start ``body`` once the users table shows what the file holds.

    Its frames are rendered as for a terminal and go to ``frames``.
    """
    watch = watch or Watch()
    app.driver_class = terminal_driver(frames or Frames())
    async with app.run_test(headless=False, size=SIZE, message_hook=watch) as pilot:
        table = app.screen.query_one("#users")  # by id: bench/stock.py may swap its class
        while "row" not in str(table.border_subtitle or ""):
            await asyncio.sleep(0.005)
        log = app.screen.query_one("#log")  # by id: bench/stock.py may swap its class
        add_entry = log.add_entry

        def stamped(result: ExperimentResult, explanation: Explanation) -> None:
            add_entry(result, explanation)
            watch.stamp("entry")  # the entry is in the log, to be drawn with the next frame

        log.add_entry = stamped  # type: ignore[method-assign]
        await pilot.pause()
        await body(app, pilot, watch)


async def bare_commit(url: str, runs: int) -> list[float]:
    """The same add/commit/read in plain asyncio: the floor the app is compared with."""
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Model.metadata.create_all)
    session = async_sessionmaker(engine, expire_on_commit=False)()
    times = []
    for i in range(runs):
        t0 = time.perf_counter()
        user = User(name=f"bare {i}")
        session.add(user)
        await session.commit()
        _ = user.uid
        times.append((time.perf_counter() - t0) * 1000)
    await session.close()
    await engine.dispose()
    return times


SETTINGS = {"expire_on_commit": False}


async def lab_parts(url: str, runs: int) -> list[float]:
    """The core's own share, outside the UI: one experiment, as the app runs it."""
    lab = Lab(url)
    await lab.open()
    experiment = []
    for i in range(runs):
        t0 = time.perf_counter()
        await lab.run(SCENARIOS[DEFAULT_SCENARIO], f"lab {i}", SETTINGS, seq=i + 1)
        experiment.append((time.perf_counter() - t0) * 1000)
    await lab.close()
    return experiment


def entry_pattern(seq: int) -> str:
    """The first line of log entry ``seq`` as a frame writes it: ``#3``, styles, the time."""
    return rf"#{seq}(?:\x1b\[[0-9;]*m)*  \d\d:\d\d:\d\d"


async def app_commit(url: str, runs: int) -> dict[str, list[float]]:
    """Enter typed in the name field to the frame that shows its entry, through keys.

    Returns the times of each stage: the key to the field's submission, the submission to
    the worker's result arriving at the screen, that result to the entry in the log, the
    entry to the frame that shows it; and ``total``, from Enter to that frame.
    """
    stages: dict[str, list[float]] = {
        "key": [], "worker": [], "entry": [], "frame": [], "total": [],
    }  # fmt: skip
    frames = Frames()
    gaps = random.Random(url)

    async def body(app: PlaygroundApp, pilot: Pilot[None], watch: Watch) -> None:
        for i in range(runs):
            await pilot.press(*f"u{i}")
            # Enter comes about a tenth of a second after the last letter, as a quick
            # typist's does. Pressed at once, it would find the frame that drew that
            # letter a millisecond old, and Textual draws at most one frame per 1/60 s.
            await asyncio.sleep(gaps.uniform(*TYPING_GAP))
            watch.reset()
            frames.expect(entry_pattern(i + 1))
            # Posted to the app as Textual's driver posts a key, then left alone until
            # its entry is drawn. pilot.press goes on to poll every widget meanwhile, loop
            # work no terminal makes: measured in turn, it added ~0.6 ms to this figure.
            t0 = time.perf_counter()
            app.post_message(events.Key("enter", "\r"))
            await asyncio.wait_for(frames.shown.wait(), 10)
            seen = watch.seen
            stages["key"].append((seen["submitted"] - t0) * 1000)
            stages["worker"].append((seen["done"] - seen["submitted"]) * 1000)
            stages["entry"].append((seen["entry"] - seen["done"]) * 1000)
            stages["frame"].append((frames.drawn - seen["entry"]) * 1000)
            stages["total"].append((frames.drawn - t0) * 1000)
            await pilot.pause()

    await running(make_app(url, settings=SETTINGS), body, frames=frames)
    return stages


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


async def bench_commit(tmp: Path, runs: int) -> None:
    """The app, the lab alone and the bare commit, in alternating blocks.

    Each commit waits on the disk (SQLite syncs its file), whose speed drifts over
    seconds; blocks taken in turn let a slow spell fall on every side alike.
    """
    bare: list[float] = []
    experiment: list[float] = []
    stages: dict[str, list[float]] = {}
    blocks = 4
    for block in range(blocks):
        bare += await bare_commit(f"sqlite+aiosqlite:///{tmp / f'bare{block}.db'}", runs // blocks)
        app = await app_commit(f"sqlite+aiosqlite:///{tmp / f'app{block}.db'}", runs // blocks)
        for stage, times in app.items():
            stages.setdefault(stage, []).extend(times)
        experiment += await lab_parts(
            f"sqlite+aiosqlite:///{tmp / f'lab{block}.db'}", runs // blocks
        )
    median = {stage: statistics.median(times) for stage, times in stages.items()}
    bare_ms, lab_ms = statistics.median(bare), statistics.median(experiment)
    app50, app95 = median["total"], percentile(stages["total"], 0.95)
    bare95 = percentile(bare, 0.95)
    report(
        "2. commit round trip: Enter to entry drawn",
        f"p50 {app50:.1f} / p95 {app95:.1f} ms vs bare commit p50 {bare_ms:.1f} / p95 "
        f"{bare95:.1f} ms (p50 {app50 / bare_ms:.2f}x)",
        f"{app50 - bare_ms:+.1f} / {app95 - bare95:+.1f} ms",
        f"p95 <= bare p95 + {FRAME_MS:.1f} ms",
        "absolute",
        app95 - bare95 <= FRAME_MS,
    )
    print(
        "     where it goes (medians, ms): "
        f"Enter to submission {median['key']:.1f}; "
        f"submission to result {median['worker']:.1f} "
        f"(of which Lab.run alone {lab_ms:.1f} [bare add/commit/read {bare_ms:.1f}]; "
        f"the rest, {median['worker'] - lab_ms:.1f}, is the worker's start and the "
        f"loop's other work); result to log entry {median['entry']:.1f}; entry to the "
        f"frame written {median['frame']:.1f}; the table's new rows are read after the entry",
        flush=True,
    )


# ------------------------------------------------------------------ 3. bulk add
async def one_statement_stall(url: str, count: int) -> float:
    """The loop's longest stall while the same rows go in as one Core INSERT."""
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Model.metadata.create_all)
    rows = [{"name": f"statement {i}"} for i in range(count)]
    with Ticker() as ticker:
        async with engine.begin() as conn:
            await conn.execute(insert(User).values(rows))
        await asyncio.sleep(0.01)
    await engine.dispose()
    return ticker.longest * 1000


async def app_bulk(url: str, count: int, gap: float, want_keys: int) -> tuple[float, list[float]]:
    """Bulk adds started from the dialog, letters typed every ``gap`` s while they run.

    Returns the loop's longest stall from the dialog's Enter until the frames after the
    bulk add's end are drawn (the dialog's own opening is not part of a bulk add) and,
    for each letter, the time until the name field held it. Bulk adds are repeated (up
    to 30) until ``want_keys`` letters were typed during them; the first letter of each
    comes at a different fraction of a gap after its Enter.
    """
    keys: list[float] = []
    stalls: list[float] = []

    async def body(app: PlaygroundApp, pilot: Pilot[None], watch: Watch) -> None:
        name_input = app.query_one(NameInput)
        typed = asyncio.Event()

        def changed(message: Message) -> None:
            if isinstance(message, Input.Changed) and message.value:
                typed.set()

        watch.on_message = changed
        for attempt in range(30):  # at most 30 bulk adds, however few keys fit in them
            if len(keys) >= want_keys:
                break
            # The first letter comes an eighth of a gap after the dialog's Enter, then two
            # eighths, and so on: letters land at every stage of a bulk add, even one
            # shorter than a gap (10,000 rows take ~130 ms, less than 150 ms).
            first = gap * (1 + attempt % 8) / 8
            watch.reset()
            await pilot.press("ctrl+b")
            while not isinstance(app.screen, BulkDialog):
                await pilot.pause()
            with Ticker() as ticker:
                # Not pilot.press: it waits for the app to go idle, which is after the bulk.
                app.simulate_key("enter")
                while isinstance(app.screen, BulkDialog):
                    await asyncio.sleep(0.001)
                await asyncio.sleep(first)
                while "bulk done" not in watch.seen:
                    typed.clear()
                    t0 = time.perf_counter()
                    app.simulate_key("x")
                    await asyncio.wait_for(typed.wait(), 5)
                    if "bulk done" not in watch.seen:
                        keys.append((time.perf_counter() - t0) * 1000)
                    name_input.value = ""
                    await asyncio.sleep(gap)
                await pilot.pause()
                await asyncio.sleep(0.1)  # the frames that show the new table and the note
            stalls.append(ticker.longest * 1000)

    await running(make_app(url), body)
    return max(stalls), keys


async def bench_bulk(tmp: Path, count: int, want_keys: int) -> None:
    baseline = await one_statement_stall(f"sqlite+aiosqlite:///{tmp / 'one.db'}", count)
    for label, gap in (("150 ms", 0.15), ("30 ms", 0.03)):
        url = f"sqlite+aiosqlite:///{tmp / f'bulk{int(gap * 1000)}.db'}"
        stall, keys = await app_bulk(url, count, gap, want_keys)
        report(
            f"3. bulk add {count:,}, a key every {label}: longest loop stall",
            f"{stall:.1f} ms vs one INSERT statement {baseline:.1f} ms = {stall / baseline:.2f}x",
            f"{stall - baseline:+.1f} ms",
            "<= 50 ms",
            "absolute",
            stall <= 50,
        )
        slowest = max(keys, default=float("nan"))
        report(
            f"3. bulk add {count:,}, a key every {label}: key to name field",
            f"slowest of {len(keys)} {slowest:.1f} ms, "
            f"median {statistics.median(keys or [0]):.1f} ms",
            "-",
            "<= 50 ms",
            "absolute",
            len(keys) > 0 and slowest <= 50,
        )


# ------------------------------------------------------------ 4a. big table commit
async def bench_big_commit(tmp: Path, runs: int) -> None:
    small, big = (f"sqlite+aiosqlite:///{tmp / name}" for name in ("small.db", "big.db"))
    smalls: list[float] = []
    bigs: list[float] = []
    for _ in range(3):  # alternated, so a burst of load elsewhere hits both sides
        smalls += (await app_commit(small, runs))["total"]
        bigs += (await app_commit(big, runs))["total"]
    # The median of all the commits of a side: a median of three apps' medians moved by
    # whole frame slots when two of the three happened to wait longer for their frames.
    big_ms, small_ms = statistics.median(bigs), statistics.median(smalls)
    report_ratio("4a. commit round trip with 100,000 users vs 10", big_ms, small_ms, 1.2)


# ------------------------------------------------------------ 5. entry rendering
async def real_results(count: int, settings: dict[str, bool]) -> list[ExperimentResult]:
    lab = Lab("sqlite+aiosqlite://")
    await lab.open()
    results = [
        await lab.run(SCENARIOS["after-commit"], f"r{i}", settings, seq=i + 1) for i in range(count)
    ]
    await lab.close()
    return results


async def bench_entry(tmp: Path, runs: int) -> None:
    failing = await real_results(runs, {"expire_on_commit": True})
    passing = await real_results(runs, {"expire_on_commit": False})
    assert failing[0].outcome.error is not None and passing[0].outcome.error is None
    times: dict[str, list[float]] = {"fail": [], "ok": []}

    async def body(app: PlaygroundApp, pilot: Pilot[None], watch: Watch) -> None:
        log = app.query_one(CommitLog)
        seq = 0
        for fail, ok in zip(failing, passing, strict=True):
            for kind, result in (("fail", fail), ("ok", ok)):
                seq += 1
                result = replace(result, seq=seq)
                await pilot.pause()
                # The loop time one entry costs: explaining it, adding it, then drawing the
                # log's visible lines (where a Rich traceback would have cost its ~200 ms).
                t0 = time.perf_counter()
                log.add_entry(result, SCENARIOS[result.scenario].explain(result))
                log.render_lines(Region(0, 0, log.size.width, log.size.height))
                times[kind].append((time.perf_counter() - t0) * 1000)

    await seed(f"sqlite+aiosqlite:///{tmp / 'entries.db'}", SEED_ROWS)
    await running(make_app(f"sqlite+aiosqlite:///{tmp / 'entries.db'}"), body)
    fail, ok = statistics.median(times["fail"]), statistics.median(times["ok"])
    report(
        "5. MissingGreenlet entry vs plain entry",
        f"{fail:.1f} ms vs {ok:.1f} ms",
        f"{fail - ok:+.1f} ms",
        "<= plain + 5 ms",
        "absolute",
        fail <= ok + 5,
    )


# ------------------------------------------------------------ 6. many entries
async def bench_many(tmp: Path, count: int) -> None:
    templates = await real_results(2, {"expire_on_commit": True})
    times: list[float] = []
    memory: dict[int, int] = {}

    async def body(app: PlaygroundApp, pilot: Pilot[None], watch: Watch) -> None:
        log = app.query_one(CommitLog)
        tracemalloc.start()
        for i in range(count):
            result = replace(templates[i % 2], seq=i + 1)
            t0 = time.perf_counter()
            log.add_entry(result, SCENARIOS[result.scenario].explain(result))
            times.append((time.perf_counter() - t0) * 1000)
            if (i + 1) % 1000 == 0:
                await pilot.pause()
                gc.collect()
                memory[i + 1] = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()

    await seed(f"sqlite+aiosqlite:///{tmp / 'many.db'}", SEED_ROWS)
    await running(make_app(f"sqlite+aiosqlite:///{tmp / 'many.db'}"), body)
    first, last = statistics.mean(times[:1000]), statistics.mean(times[-1000:])
    report_ratio(f"6a. mean append time, last vs first 1,000 of {count:,}", last, first, 1.5)
    growth = (memory[count] - memory[2000]) / 1e6
    report(
        "6b. memory from entry 2,000 to the last",
        f"{growth:+.1f} MB (the log keeps the newest {CommitLog.MAX_ENTRIES:,})",
        f"{growth:+.1f} MB",
        "< 10 MB",
        "absolute",
        growth < 10,
    )


# ------------------------------------------------ W. stock widgets vs hand-rolled
# Each hand-rolled widget of the main screen replaced a stock Textual one to save time.
# bench/stock.py builds the app with the stock widget put back; each variant is timed
# against the app as it is, in the same run, taken in turn: start-up in a pseudo-terminal
# (as figures 1a/1b) and the commit round trip (as figure 2, Enter to the entry drawn).
# A difference of more than one frame is one a person can see; the verdict says which.
STOCK = ROOT / "bench" / "stock.py"


@dataclass
class Measure:
    """One measure of one stock widget: its samples, and the app's as it is, the baseline.

    ``paired`` says the i-th samples of both sides were taken one after the other (the
    launches of a round): the noise is then estimated round by round.
    """

    name: str
    stock: list[float]
    ours: list[float]
    paired: bool

    def difference(self) -> float:
        return statistics.median(self.stock) - statistics.median(self.ours)

    def interval(self, rounds: int = 2000) -> tuple[float, float]:
        """A 90% bootstrap interval of :meth:`difference`: how far the noise could move it."""
        draw = random.Random(0)
        found = []
        for _ in range(rounds):
            if self.paired:  # whole rounds drawn again, so a loaded round counts on both sides
                picked = draw.choices(range(len(self.stock)), k=len(self.stock))
                stock = [self.stock[i] for i in picked]
                ours = [self.ours[i] for i in picked]
            else:
                stock = draw.choices(self.stock, k=len(self.stock))
                ours = draw.choices(self.ours, k=len(self.ours))
            found.append(statistics.median(stock) - statistics.median(ours))
        found.sort()
        return found[int(0.05 * rounds)], found[int(0.95 * rounds) - 1]

    def seen(self) -> str:
        """Whether a person sees the difference: more than one frame, beyond the noise."""
        low, high = self.interval()
        if low > FRAME_MS:
            return "yes"
        if high <= FRAME_MS:
            return "no"
        return "unclear"


@dataclass
class WidgetRow:
    variant: str
    what: str
    measures: list[Measure]


def stock_command(variant: str, url: str) -> list[str]:
    return [sys.executable, str(STOCK), variant, url]


def widget_startup(
    tmp: Path, runs: int, variants: list[str]
) -> tuple[dict[str, list[float]], dict[str, list[float]], list[float]]:
    """First frame and usable of each variant (``none``: the app as is) in each round, and
    the minimal app's first frame (figure 1a's baseline), all launched in turn, the i-th
    samples of every side from the same round."""
    compile_package()
    url = f"sqlite+aiosqlite:///{tmp / 'widgets.db'}"
    asyncio.run(seed(url, SEED_ROWS))
    steps = [(rb"playground", None), (LAST_ROW, b"x\r"), (ACCEPTED, None)]
    firsts: dict[str, list[float]] = {v: [] for v in variants}
    usables: dict[str, list[float]] = {v: [] for v in variants}
    minimal: list[float] = []
    sides = [*variants, "minimal"]
    for run in range(runs):
        # Each round starts one further along, so no side always runs first or last.
        for side in sides[run % len(sides) :] + sides[: run % len(sides)]:
            if side == "minimal":
                command = [sys.executable, "-c", MINIMAL_FIRST_FRAME]
                minimal.append(in_terminal(command, [(rb"playground", None)])[0])
                continue
            first, _, usable = in_terminal(stock_command(side, fresh(url)), steps)
            firsts[side].append(first)
            usables[side].append(usable)
    return firsts, usables, minimal


async def screen_tree(url: str, variant: str) -> list[tuple[str, str]]:
    """The main screen's widgets (class, id) once composed, with ``variant``'s swaps."""
    from stock import stock

    tree: list[tuple[str, str]] = []

    async def body(app: PlaygroundApp, pilot: Pilot[None], watch: Watch) -> None:
        tree.extend((type(w).__name__, w.id or "") for w in app.screen.walk_children())

    with stock(variant):
        await running(make_app(url), body)
    return tree


async def widget_commits(tmp: Path, runs: int, variants: list[str]) -> dict[str, list[float]]:
    """Commit round trips of each variant, in alternating blocks (as figure 2)."""
    from stock import stock

    # The tabs variant composes the screen itself: it must compose the app's own widget
    # tree when its TabbedContent is left out, or the comparison would be of two layouts.
    url = f"sqlite+aiosqlite:///{tmp / 'tree.db'}"
    if await screen_tree(url, "none") != await screen_tree(url, "mirror"):
        raise SystemExit(
            "bench/stock.py's tabs variant no longer composes the app's screen: "
            "bring StockScreen.compose in line with MainScreen.compose"
        )
    totals: dict[str, list[float]] = {v: [] for v in variants}
    blocks = 4
    for block in range(blocks):
        turn = block * len(variants) // blocks  # each block starts further along the sides
        for variant in variants[turn:] + variants[:turn]:
            with stock(variant):
                url = f"sqlite+aiosqlite:///{tmp / f'w-{variant}-{block}.db'}"
                totals[variant] += (await app_commit(url, runs // blocks))["total"]
    return totals


def bench_widgets(tmp: Path, quick: bool) -> list[WidgetRow]:
    from stock import ALL, VARIANTS

    variants = ["none", *VARIANTS, ALL]
    firsts, usables, minimal = widget_startup(tmp, 3 if quick else 15, variants)
    commits = asyncio.run(widget_commits(tmp, 12 if quick else 40, variants))
    widgets = {
        "none": asyncio.run(screen_tree(f"sqlite+aiosqlite:///{tmp / 'tree.db'}", "none")),
        ALL: asyncio.run(screen_tree(f"sqlite+aiosqlite:///{tmp / 'tree.db'}", ALL)),
    }
    rows = []
    for variant in variants[1:]:
        what = VARIANTS.get(variant, "every stock widget at once")
        measures = [
            Measure("first frame", firsts[variant], firsts["none"], paired=True),
            Measure("usable", usables[variant], usables["none"], paired=True),
            Measure("commit", commits[variant], commits["none"], paired=False),
        ]
        rows.append(WidgetRow(variant, what, measures))
    all_first, our_first, minimal_first = (
        statistics.median(firsts[ALL]),
        statistics.median(firsts["none"]),
        statistics.median(minimal),
    )
    print(
        f"     every stock widget at once, first frame: {all_first:.1f} ms vs the minimal "
        f"app {minimal_first:.1f} ms = {all_first / minimal_first:.2f}x (the app as is: "
        f"{our_first:.1f} ms = {our_first / minimal_first:.2f}x); the main screen has "
        f"{len(widgets[ALL])} widgets with them, {len(widgets['none'])} as it is",
        flush=True,
    )
    return rows


def widget_table(rows: list[WidgetRow]) -> list[str]:
    """The stock-widget figures as lines of a table, each with its verdict."""
    headers = (
        "stock widget (against the hand-rolled one)",
        "measure",
        "stock vs as is (medians)",
        "difference (90% interval)",
        "seen",
    )
    table = [headers]
    for row in rows:
        for number, measure in enumerate(row.measures):
            stock, ours = statistics.median(measure.stock), statistics.median(measure.ours)
            low, high = measure.interval()
            shown = f"{stock:.1f} vs {ours:.1f} ms = {stock / ours:.2f}x"
            if measure.name == "commit":
                stock95, ours95 = percentile(measure.stock, 0.95), percentile(measure.ours, 0.95)
                shown += f" (p95 {stock95:.1f} vs {ours95:.1f})"
            table.append(
                (
                    row.what if number == 0 else "",
                    measure.name,
                    shown,
                    f"{measure.difference():+.1f} ms ({low:+.1f} to {high:+.1f})",
                    measure.seen(),
                )
            )
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in table
    ]


async def main_async(tmp: Path, quick: bool) -> None:
    runs = 10 if quick else 40
    await bench_commit(tmp, runs)
    await bench_bulk(tmp, 10_000, 6 if quick else 15)
    await bench_big_commit(tmp, runs)
    await bench_entry(tmp, runs)
    await bench_many(tmp, 3000 if quick else 10_000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, for a smoke test")
    parser.add_argument(
        "--only", choices=("app", "widgets"), help="only the app's figures, or only the widgets'"
    )
    args = parser.parse_args()
    print("running the benchmark (a few minutes)...", flush=True)
    widget_rows: list[WidgetRow] = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        if args.only != "widgets":
            bench_startup(tmp, 3 if args.quick else 15)
            bench_big_usable(tmp, 3 if args.quick else 7)
            asyncio.run(main_async(tmp, args.quick))
        if args.only != "app":
            widget_rows = bench_widgets(tmp, args.quick)
    headers = ("figure", "measured", "difference", "target", "")
    table = [headers] + [
        (r.figure, r.measured, r.difference, f"{r.target} ({r.kind})", "ok" if r.ok else "MISSED")
        for r in sorted(ROWS, key=lambda r: r.figure)
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    if ROWS:
        print()
        for row in table:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    if widget_rows:
        print(
            "\nstock widgets against the hand-rolled ones, the app as it is the baseline "
            f"(seen: yes if the whole interval is over one frame, {FRAME_MS:.1f} ms; no if "
            "it is all under; unclear otherwise):\n"
        )
        print("\n".join(widget_table(widget_rows)))
    missed = [r.figure for r in ROWS if not r.ok]
    if missed:
        print(f"\nMISSED {len(missed)} of {len(ROWS)}: " + "; ".join(missed), file=sys.stderr)
        return 1
    if ROWS:
        print(f"\nall {len(ROWS)} figures met")
    return 0


if __name__ == "__main__":
    sys.exit(main())

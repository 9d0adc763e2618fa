"""Benchmark: each figure as a ratio against a baseline measured in the same run.

Usage: python bench/run.py [--quick]
Prints a table of figures and targets. Timings are medians; the machine's load moves
both sides of a ratio alike, which is why no figure is an absolute number of seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine  # noqa: E402
from textual.geometry import Region  # noqa: E402

from playground.core.bulk import bulk_add  # noqa: E402
from playground.core.lab import Lab  # noqa: E402
from playground.core.models import Model, User  # noqa: E402
from playground.core.scenarios import SCENARIOS  # noqa: E402
from playground.ui.app import PlaygroundApp, make_app  # noqa: E402
from playground.ui.messages import ExperimentDone  # noqa: E402
from playground.ui.widgets import CommitLog, NameInput  # noqa: E402

FRAME_MS = 1000 / 60
ROWS: list[tuple[str, str, str, bool]] = []


def report(figure: str, value: str, target: str, ok: bool) -> None:
    ROWS.append((figure, value, target, ok))
    print(f"  {figure}: {value} (target {target}) {'OK' if ok else 'MISSED'}", flush=True)


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


# ------------------------------------------------------------------ 1. start-up
STARTUP_CHILD = """
import time; t0 = time.perf_counter()
import sys; sys.path.insert(0, {root!r})
mode, url = sys.argv[1], sys.argv[2]
if mode == "app":
    import asyncio
    from playground.__main__ import _preflight
    from playground.ui.app import make_app
    asyncio.run(_preflight(url))
    app = make_app(url)
else:
    import sqlalchemy.ext.asyncio, aiosqlite, platformdirs, rich
    from textual.app import App
    from textual.widgets import Footer, Header, Static
    class Baseline(App):
        def compose(self):
            yield Header(); yield Static("hello"); yield Footer()
    app = Baseline()
# The first frame is the first time Textual hands the screen to its driver to draw
# (headless drivers draw nothing, but the app renders just the same).
display = app._display
def first_frame(screen, renderable):
    if renderable is not None and not getattr(app, "_first_frame_seen", False):
        app._first_frame_seen = True
        print((time.perf_counter() - t0) * 1000)
        app.call_later(app.exit)
    return display(screen, renderable)
app._display = first_frame
app.run(headless=True, size=(100, 32))
"""


def startup_ms(mode: str, url: str) -> float:
    code = STARTUP_CHILD.format(root=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code, mode, url], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def bench_startup(tmp: Path, runs: int) -> None:
    url = f"sqlite+aiosqlite:///{tmp / 'startup.db'}"
    app, base = [], []
    for _ in range(runs):
        base.append(startup_ms("baseline", url))
        app.append(startup_ms("app", url))
    ratio = statistics.median(app) / statistics.median(base)
    report(
        "1. start-up to first frame",
        f"{statistics.median(app):.0f} ms vs {statistics.median(base):.0f} ms = {ratio:.2f}x",
        "<= 1.30x",
        ratio <= 1.3,
    )


# ----------------------------------------------------------- 2. commit round trip
async def bare_commit_ms(url: str, runs: int) -> float:
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
    return statistics.median(times)


async def running(app: PlaygroundApp, body: Callable[[PlaygroundApp, object], Awaitable[None]]):
    async with app.run_test(size=(100, 32)) as pilot:
        while app.lab.engine is None or not app.jobs.idle:
            await pilot.pause()
        await body(app, pilot)


async def app_commit_ms(url: str, runs: int) -> float:
    """Submit to entry in the log, through the real widgets, workers and messages."""
    times: list[float] = []

    async def body(app: PlaygroundApp, pilot: object) -> None:
        log = app.query_one(CommitLog)
        name_input = app.query_one(NameInput)
        shown = asyncio.Event()
        add_entry = log.add_entry

        def add_and_signal(*args: object) -> None:
            add_entry(*args)  # type: ignore[arg-type]
            shown.set()

        # Waiting on an event, not polling: a busy loop would steal the GIL from the
        # driver's thread and slow down the very commit being timed.
        log.add_entry = add_and_signal  # type: ignore[method-assign]
        for i in range(runs):
            shown.clear()
            name_input.value = f"app {i}"
            t0 = time.perf_counter()
            await name_input.action_submit()
            await shown.wait()
            times.append((time.perf_counter() - t0) * 1000)

    await running(make_app(url, settings={"expire_on_commit": False}), body)
    return statistics.median(times)


async def bench_commit(tmp: Path, runs: int) -> None:
    bare = await bare_commit_ms(f"sqlite+aiosqlite:///{tmp / 'bare.db'}", runs)
    app = await app_commit_ms(f"sqlite+aiosqlite:///{tmp / 'app.db'}", runs)
    limit = 2 * bare + FRAME_MS
    report(
        "2. commit round trip",
        f"{app:.1f} ms vs bare {bare:.1f} ms",
        f"<= 2x bare + 1 frame = {limit:.1f} ms",
        app <= limit,
    )


# ------------------------------------------------------------------ 3. bulk add
async def single_flush_stall(url: str, count: int) -> float:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Model.metadata.create_all)
    session = async_sessionmaker(engine)()
    session.add_all(User(name=f"flush {i}") for i in range(count))
    with Ticker() as ticker:
        await session.commit()
        await asyncio.sleep(0.01)
    await session.close()
    await engine.dispose()
    return ticker.longest * 1000


async def bench_bulk(tmp: Path, count: int) -> None:
    flush = await single_flush_stall(f"sqlite+aiosqlite:///{tmp / 'flush.db'}", count)
    keys: list[float] = []

    async def body(app: PlaygroundApp, pilot) -> None:
        name_input = app.query_one(NameInput)
        typed = asyncio.Event()
        app.watch(name_input, "value", lambda value: value and typed.set(), init=False)
        with Ticker() as ticker:
            app._bulk_answered(count)
            while not app._bulk_running:
                await asyncio.sleep(0.001)
            while app._bulk_running:
                # A key pressed as a user would; time until the field holds it.
                typed.clear()
                t0 = time.perf_counter()
                app.simulate_key("x")
                await asyncio.wait_for(typed.wait(), 5)
                keys.append((time.perf_counter() - t0) * 1000)
                name_input.value = ""
                # 50 keys a second, faster than anyone types; back-to-back keys would
                # keep the GIL from the driver's thread and measure only that contention.
                await asyncio.sleep(0.02)
            while not app.jobs.idle:
                await asyncio.sleep(0.001)
        body.stall = ticker.longest * 1000  # type: ignore[attr-defined]

    await running(make_app(f"sqlite+aiosqlite:///{tmp / 'bulk.db'}"), body)
    stall = body.stall  # type: ignore[attr-defined]
    report(
        f"3. bulk add {count:,}: longest loop stall",
        f"{stall:.1f} ms vs one flush {flush:.0f} ms; keys typed during it: {len(keys)}, "
        f"slowest shown in {max(keys, default=0):.1f} ms",
        "<= 50 ms",
        stall <= 50,
    )


# ----------------------------------------------------------------- 4. big table
async def fill(url: str, count: int) -> None:
    lab = Lab(url)
    await lab.open()
    await bulk_add(lab, count, batch_size=5000)
    await lab.close()


async def table_startup_ms(url: str) -> float:
    t0 = time.perf_counter()
    result = {}

    async def body(app: PlaygroundApp, pilot: object) -> None:
        result["ms"] = (time.perf_counter() - t0) * 1000

    await running(make_app(url), body)
    return result["ms"]


async def bench_big_table(tmp: Path, runs: int) -> None:
    small, big = (f"sqlite+aiosqlite:///{tmp / name}" for name in ("small.db", "big.db"))
    await fill(small, 10)
    await fill(big, 100_000)
    # Alternate the two, three rounds, so a burst of load elsewhere hits both sides.
    smalls, bigs = [], []
    for _ in range(3):
        smalls.append(await app_commit_ms(small, runs))
        bigs.append(await app_commit_ms(big, runs))
    commit_small, commit_big = statistics.median(smalls), statistics.median(bigs)
    start_smalls, start_bigs = [], []
    for _ in range(5):
        start_smalls.append(await table_startup_ms(small))
        start_bigs.append(await table_startup_ms(big))
    start_small, start_big = statistics.median(start_smalls), statistics.median(start_bigs)
    ratio_commit, ratio_start = commit_big / commit_small, start_big / start_small
    report(
        "4a. commit with 100,000 users vs 10",
        f"{commit_big:.1f} ms vs {commit_small:.1f} ms = {ratio_commit:.2f}x",
        "<= 1.20x",
        ratio_commit <= 1.2,
    )
    report(
        "4b. start-up with 100,000 users vs 10",
        f"{start_big:.0f} ms vs {start_small:.0f} ms = {ratio_start:.2f}x",
        "<= 1.20x",
        ratio_start <= 1.2,
    )


# ------------------------------------------------------------ 5. entry rendering
async def real_results(count: int, settings: dict[str, bool]):
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

    async def body(app: PlaygroundApp, pilot) -> None:
        log = app.query_one(CommitLog)
        seq = 0
        for fail, ok in zip(failing, passing, strict=True):
            for kind, result in (("fail", fail), ("ok", ok)):
                seq += 1
                message = ExperimentDone(replace(result, seq=seq), [])
                await pilot.pause()
                # The loop time one entry costs: the handler, then drawing the log's
                # visible lines (where a Rich traceback would have cost its ~200 ms).
                t0 = time.perf_counter()
                app._experiment_done(message)
                log.render_lines(Region(0, int(log.scroll_y), log.size.width, log.size.height))
                times[kind].append((time.perf_counter() - t0) * 1000)

    await running(make_app(f"sqlite+aiosqlite:///{tmp / 'entries.db'}"), body)
    fail, ok = statistics.median(times["fail"]), statistics.median(times["ok"])
    report(
        "5. MissingGreenlet entry vs plain entry",
        f"{fail:.1f} ms vs {ok:.1f} ms (+{fail - ok:.1f} ms)",
        "<= plain + 5 ms",
        fail <= ok + 5,
    )


# ------------------------------------------------------------ 6. many entries
async def bench_many(tmp: Path, count: int) -> None:
    templates = await real_results(2, {"expire_on_commit": True})
    times: list[float] = []
    memory: dict[int, int] = {}

    async def body(app: PlaygroundApp, pilot) -> None:
        tracemalloc.start()
        for i in range(count):
            result = replace(templates[i % 2], seq=i + 1)
            t0 = time.perf_counter()
            app._experiment_done(ExperimentDone(result, []))
            times.append((time.perf_counter() - t0) * 1000)
            if (i + 1) % 1000 == 0:
                await pilot.pause()
                gc.collect()
                memory[i + 1] = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()

    await running(make_app(f"sqlite+aiosqlite:///{tmp / 'many.db'}"), body)
    first, last = statistics.mean(times[:1000]), statistics.mean(times[-1000:])
    growth = (memory[count] - memory[2000]) / 1e6
    report(
        f"6a. mean append time, first vs last 1,000 of {count:,}",
        f"{first:.2f} ms vs {last:.2f} ms = {last / first:.2f}x",
        "<= 1.5x (flat)",
        last / first <= 1.5,
    )
    report(
        "6b. memory from entry 2,000 to the last",
        f"{growth:+.1f} MB (log keeps the newest {CommitLog.MAX_ENTRIES:,}, says how many dropped)",
        "bounded: < 10 MB",
        growth < 10,
    )


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        runs = 10 if args.quick else 40
        print("running the benchmark (a minute or two)...", flush=True)
        bench_startup(tmp, 3 if args.quick else 7)
        await bench_commit(tmp, runs)
        await bench_bulk(tmp, 10_000)
        await bench_big_table(tmp, runs)
        await bench_entry(tmp, runs)
        await bench_many(tmp, 3000 if args.quick else 10_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, for a smoke test")
    asyncio.run(main_async(parser.parse_args()))
    width = max(len(row[0]) for row in ROWS)
    print(f"\n{'figure':<{width}}  {'measured':<70}  target")
    for figure, value, target, ok in ROWS:
        print(f"{figure:<{width}}  {value:<70}  {target}  {'ok' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()

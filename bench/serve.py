"""Benchmark for ``playground serve``: start-up in a real browser, memory per session, capacity.

Usage: python bench/serve.py [--sessions N] [--rounds N]

It starts the server on a free loopback port and drives Debian's Chromium with Playwright,
as tests/test_serve.py does. It prints:
- the time from opening the page to the app's first frame, and to a usable app (a typed
  letter shown back in the name field), over several fresh tabs opened one after another;
- RSS and PSS of each session's process after one commit, and of the server itself (PSS
  shares the pages that sessions have in common, so it is the fairer per-session cost);
- how many sessions this machine's available memory holds at that PSS, and the CPU an idle
  session uses.
These are measurements of this machine, not targets.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_serve import (  # noqa: E402
    CATCH_TERMINAL,
    CHROMIUM,
    CHROMIUM_ARGS,
    WAIT_MS,
    Served,
    browser_missing,
    commit,
    wait_for_screen,
    wait_until,
)


def memory_kib(pid: int) -> dict[str, int]:
    """Rss and Pss of one process, in KiB, from /proc/PID/smaps_rollup."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("Rss", "Pss"):
            values[key] = int(rest.split()[0])
    return values


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def available_mib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=5, help="tabs open at once (default 5)")
    parser.add_argument("--rounds", type=int, default=5, help="fresh tabs timed (default 5)")
    args = parser.parse_args()
    reason = browser_missing()
    if reason:
        print(f"bench/serve.py: {reason}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    served = Served("--max-sessions", str(max(args.sessions, 1) + 1))
    assert served.url is not None
    try:
        with (
            tempfile.TemporaryDirectory() as profile,
            sync_playwright() as playwright,
        ):
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 800},
            )
            context.add_init_script(CATCH_TERMINAL)
            first_frame: list[float] = []
            usable: list[float] = []
            startup_cpu: list[float] = []
            for _ in range(args.rounds):
                page = context.new_page()
                start = time.perf_counter()
                page.goto(served.url, timeout=WAIT_MS)
                wait_for_screen(page, "Add user")
                first_frame.append(time.perf_counter() - start)
                page.focus(".xterm-helper-textarea")
                page.keyboard.type("Q")
                wait_for_screen(page, "▊  Q ")
                usable.append(time.perf_counter() - start)
                before = served.sessions()
                startup_cpu.extend(cpu_seconds(pid) for pid in before)
                page.close()
                wait_until(lambda before=before: not (before & served.sessions()), 30, "end")

            pages = []
            for number in range(args.sessions):
                page = context.new_page()
                page.goto(served.url, timeout=WAIT_MS)
                wait_for_screen(page, "Add user")
                commit(page, f"user{number}")
                wait_for_screen(page, "MissingGreenlet")
                pages.append(page)
            sessions = sorted(served.sessions())
            memory = [memory_kib(pid) for pid in sessions]
            server_memory = memory_kib(served.process.pid)
            cpu_before = {pid: cpu_seconds(pid) for pid in sessions}
            idle_start = time.perf_counter()
            time.sleep(10)  # idle on purpose: the CPU an untouched tab costs over 10 s
            idle = time.perf_counter() - idle_start
            idle_cpu = [(cpu_seconds(pid) - cpu_before[pid]) / idle * 100 for pid in sessions]
            for page in pages:
                page.close()
            context.close()
    finally:
        served.stop()

    rss = statistics.median(item["Rss"] for item in memory)
    pss = statistics.median(item["Pss"] for item in memory)
    free = available_mib()
    fits = int(free / (pss / 1024))
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores, {free:.0f} MiB available after the run")
    print(
        f"page opened -> first frame: median {statistics.median(first_frame):.2f} s "
        f"(min {min(first_frame):.2f}, max {max(first_frame):.2f}, {len(first_frame)} tabs)"
    )
    print(
        f"page opened -> usable (typed letter echoed): median {statistics.median(usable):.2f} s "
        f"(min {min(usable):.2f}, max {max(usable):.2f})"
    )
    print(
        f"per session after one commit ({len(memory)} open): RSS median {mib(rss)} "
        f"(max {mib(max(m['Rss'] for m in memory))}), PSS median {mib(pss)} "
        f"(max {mib(max(m['Pss'] for m in memory))})"
    )
    print(
        f"CPU to start one session (until usable): median {statistics.median(startup_cpu):.2f} s;"
        f" {cores} cores start about {cores / statistics.median(startup_cpu):.1f} sessions a second"
    )
    print(f"server process: RSS {mib(server_memory['Rss'])}, PSS {mib(server_memory['Pss'])}")
    print(
        f"idle CPU per session: median {statistics.median(idle_cpu):.1f} % of one core "
        f"(max {max(idle_cpu):.1f} %)"
    )
    idle_fit = int(cores * 100 / max(statistics.median(idle_cpu), 0.01))
    print(
        f"idle sessions would fill the {cores} cores at about {idle_fit}; "
        "typing and commits cost more, in short bursts"
    )
    print(
        f"memory holds about {fits} sessions at the median PSS "
        f"({free:.0f} MiB available / {pss / 1024:.1f} MiB); the default cap of 20 needs "
        f"about {20 * pss / 1024:.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

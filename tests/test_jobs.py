"""The job queue on a bare App: one job at a time, in order; closing skips what waits."""

from __future__ import annotations

import asyncio

from textual.app import App

from playground.ui.jobs import JobChain

from .pilot import settle


async def test_jobs_run_one_at_a_time_in_order_and_a_failure_does_not_stop_the_rest():
    app: App[None] = App()
    async with app.run_test() as pilot:
        jobs = JobChain(app)
        running: list[int] = []
        done: list[int] = []

        def job(n: int, fail: bool = False):
            async def run() -> None:
                running.append(n)
                assert len(running) == 1, f"job {n} started while {running[0]} ran"
                await asyncio.sleep(0.01)
                running.remove(n)
                if fail:
                    raise RuntimeError(f"job {n} failed")
                done.append(n)

            return run

        for n in range(5):
            jobs.add(job(n, fail=n == 2), f"job {n}", what=f"job {n}" if n % 2 == 0 else None)
        assert jobs.in_flight() == ["job 0", "job 2", "job 4"] and not jobs.idle
        await settle(pilot, lambda: jobs.idle)
        assert done == [0, 1, 3, 4] and jobs.in_flight() == []


async def test_closing_lets_the_running_job_finish_and_skips_the_rest():
    app: App[None] = App()
    async with app.run_test() as pilot:
        jobs = JobChain(app)
        gate = asyncio.Event()
        done: list[str] = []

        async def first() -> None:
            await gate.wait()
            done.append("first")

        async def second() -> None:
            done.append("second")

        jobs.add(first, "first", what="the first")
        jobs.add(second, "second", what="the second")
        await pilot.pause()
        jobs.close()
        jobs.add(second, "late", what="the late one")
        assert jobs.closing and jobs.in_flight() == ["the first"]
        gate.set()
        await settle(pilot, lambda: jobs.idle)
        assert done == ["first"]

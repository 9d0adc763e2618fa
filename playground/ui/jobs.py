"""Database jobs run one after another, in the order they were asked for.

Each job is an async Textual worker on the app's own loop; a chain of futures makes
the next one wait for the one before, because one ``AsyncSession`` must never serve
two operations at once, and because ten quick Enters must give ten entries in order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from textual.app import App
from textual.worker import Worker

from ..core.lab import LabClosed

Job = Callable[[], Awaitable[None]]


class JobChain:
    """Queue async jobs for a Textual app; they run strictly one after another."""

    def __init__(self, app: App[Any]) -> None:
        self._app = app
        self._tail: asyncio.Future[None] | None = None
        self._waiting: dict[int, str] = {}
        self._next = 0
        self.closing = False

    def add(self, job: Job, name: str = "lab job", *, what: str | None = None) -> Worker[None]:
        """Queue ``job``; ``what`` names work the user asked for, to say what quitting waits on."""
        previous = self._tail
        self._next += 1
        if what is not None:
            self._waiting[self._next] = what
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tail = done
        return self._app.run_worker(
            self._run(job, previous, done, self._next), name=name, group="lab", exit_on_error=False
        )

    async def _run(
        self,
        job: Job,
        previous: asyncio.Future[None] | None,
        done: asyncio.Future[None],
        key: int,
    ) -> None:
        try:
            if previous is not None:
                await asyncio.shield(previous)
            if not self.closing:
                await job()
        except LabClosed:
            pass
        finally:
            self._waiting.pop(key, None)
            self._release(previous, done)

    def in_flight(self) -> list[str]:
        """What the user asked for that has not finished yet (running or queued), oldest first."""
        return list(self._waiting.values())

    @staticmethod
    def _release(previous: asyncio.Future[None] | None, done: asyncio.Future[None]) -> None:
        """Mark this job finished, but never before the one it waited for."""
        if previous is not None and not previous.done():

            def finish(_: asyncio.Future[None]) -> None:
                if not done.done():
                    done.set_result(None)

            previous.add_done_callback(finish)
        elif not done.done():
            done.set_result(None)

    @property
    def idle(self) -> bool:
        return self._tail is None or self._tail.done()


class FrameHold:
    """Holds the screen's frames while a quick job runs, for at most ``limit`` seconds.

    A frame drawn between Enter and the commit's result runs on the same loop as the
    commit and delays the driver's replies by its whole length; held instead, the
    cleared field, the entry and the message arrive together in one frame. The limit
    keeps a slow commit (a lock, a far server) from ever freezing the screen.
    """

    def __init__(self, app: App[Any], limit: float = 0.025) -> None:
        self._app = app
        self._limit = limit
        self._batch: contextlib.ExitStack | None = None
        self._timer: asyncio.TimerHandle | None = None

    @property
    def held(self) -> bool:
        return self._batch is not None

    def hold(self) -> None:
        """Stop drawing until :meth:`release` or the limit, whichever comes first."""
        if self._batch is not None:
            return
        self._batch = contextlib.ExitStack()
        self._batch.enter_context(self._app.batch_update())
        # A plain loop callback: a Textual timer would start a task of its own per commit.
        self._timer = asyncio.get_running_loop().call_later(self._limit, self.release)

    def release(self) -> None:
        """Draw again: everything that changed meanwhile goes out in the next frame."""
        batch, self._batch = self._batch, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if batch is not None:
            batch.close()
            if self._app.is_running:
                self._app.screen.check_idle()  # the held changes asked for a frame already

"""Database jobs run one after another, in the order they were asked for.

One async Textual worker on the app's own loop reads the jobs from an ``asyncio.Queue``
and runs them one at a time, because one ``AsyncSession`` must never serve two
operations at once, and because ten quick Enters must give ten entries in order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from textual.app import App
from textual.dom import DOMNode
from textual.widget import Widget
from textual.worker import Worker

from ..core.lab import LabClosed

Job = Callable[[], Awaitable[None]]


@dataclass
class _Queued:
    """One job as queued: what to run, its name, and how the user would name it."""

    run: Job
    name: str
    what: str | None


class JobChain:
    """Queue async jobs for a Textual app; one worker runs them strictly one after another.

    The worker runs while there is work and ends when the queue is empty (the next job
    starts another), so waiting for the app's workers to finish means waiting for the
    queue to drain. ``close`` drops what is queued and puts a sentinel behind the job
    that is running: nothing after it runs.
    """

    def __init__(self, app: App[Any]) -> None:
        self._app = app
        self._queue: asyncio.Queue[_Queued | None] = asyncio.Queue()
        self._pending: list[_Queued] = []
        """The running job, then the queued ones: the queue's contents, in order."""
        self._worker: Worker[None] | None = None
        self._closing = False

    @property
    def closing(self) -> bool:
        """True once the app has begun to quit: queued jobs are skipped, new ones refused."""
        return self._closing

    def add(self, job: Job, name: str = "lab job", *, what: str | None = None) -> None:
        """Queue ``job``; ``what`` names work the user asked for, to say what quitting waits on."""
        if self._closing:
            return
        queued = _Queued(job, name, what)
        self._pending.append(queued)
        self._queue.put_nowait(queued)
        if self._worker is None:
            self._worker = self._app.run_worker(
                self._serve(), name="lab jobs", group="lab", exit_on_error=False
            )

    def close(self) -> None:
        """Skip what is queued, let the running job finish, and end the worker after it."""
        self._closing = True
        while True:
            try:
                dropped = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            if dropped is not None:
                self._pending.remove(dropped)
        self._queue.put_nowait(None)

    async def _serve(self) -> None:
        while True:
            try:
                queued = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                queued = None
            if queued is None:  # drained, or the sentinel: this worker ends here
                self._worker = None
                return
            try:
                await queued.run()
            except LabClosed:
                pass
            except Exception as error:  # one failed job must not stop the ones behind it
                self._app.log.error(f"{queued.name} failed: {error!r}")
            finally:
                self._pending.remove(queued)

    def in_flight(self) -> list[str]:
        """What the user asked for that has not finished yet (running or queued), oldest first."""
        return [queued.what for queued in self._pending if queued.what is not None]

    @property
    def idle(self) -> bool:
        return not self._pending


class FrameHold:
    """Holds the screen's frames while a quick job runs, for at most ``limit`` seconds.

    A frame drawn between Enter and the commit's result runs on the same loop as the
    commit and delays the driver's replies by its whole length; held instead, the
    cleared field, the entry and the message arrive together in one frame. The limit
    keeps a slow commit (a lock, a far server) from ever freezing the screen.
    """

    def __init__(self, owner: DOMNode, limit: float = 0.025) -> None:
        self._owner = owner  # its app is looked up when needed: a screen has none until mounted
        self._limit = limit
        self._batch: contextlib.ExitStack | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._on_limit: Callable[[], object] | None = None

    def hold(self, on_limit: Callable[[], object] | None = None) -> None:
        """Stop drawing until :meth:`release` or the limit, whichever comes first.

        ``on_limit`` runs if the limit comes first, before the frame is drawn: what only a
        slow job needs to say (that it is queued) costs a quick one nothing. Held again
        before the limit, the newer hold's ``on_limit`` replaces it: the job has finished,
        and its "queued" must not overwrite what the result said.
        """
        self._on_limit = on_limit
        if self._batch is not None:
            return
        self._batch = contextlib.ExitStack()
        self._batch.enter_context(self._owner.app.batch_update())

        def limit_reached() -> None:
            if self._on_limit is not None:
                self._on_limit()
            self.release()

        # A plain loop callback: a Textual timer would start a task of its own per commit.
        self._timer = asyncio.get_running_loop().call_later(self._limit, limit_reached)

    @property
    def held(self) -> bool:
        return self._batch is not None

    def release(self) -> None:
        """Draw again: everything that changed meanwhile goes out in the next frame."""
        batch, self._batch = self._batch, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if batch is not None:
            batch.close()
            app = self._owner.app
            if app.is_running:
                app.screen.check_idle()  # the held changes asked for a frame already

    def release_after(self, widget: Widget) -> None:
        """Release once ``widget``, refreshed just now, has asked the screen to draw it.

        A widget asks only when its own queue is empty. Released before that, the frame
        would go out without it, and the next one comes two frame slots later (Textual's
        update timer skips a slot after a late tick).
        """
        widget.call_next(self.release)

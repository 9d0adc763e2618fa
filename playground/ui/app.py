"""The Textual app: the lab's lifetime, the terminal driver, the palette and quitting.

The main view (settings, the add-user form, the users table, the log and panes) is
``MainScreen``'s; the app opens the lab before the screen is drawn, hands keys to the
screen before Textual routes them, and closes the lab on the way out.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from rich.text import Text
from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.driver import Driver
from textual.reactive import reactive
from textual.screen import Screen

from ..core.database import DatabaseProblem, default_url
from ..core.lab import Lab
from ..core.scenarios import DEFAULT_SCENARIO, SCENARIOS, Scenario
from .jobs import JobChain
from .main_screen import MIN_HEIGHT, MIN_WIDTH, MainScreen
from .panels import OPTION_KEYS
from .widgets import NameInput

__all__ = ["MIN_HEIGHT", "MIN_WIDTH", "PlaygroundApp", "make_app"]


class PlaygroundApp(App[None]):
    """Flip switches, add users, and watch what each commit really did."""

    # MainScreen's own sheet: Textual reads a pushed screen's CSS_PATH, not a default one's.
    CSS_PATH = "main_screen.tcss"
    TITLE = "playground"
    BINDINGS = [
        Binding("ctrl+q", "quit", "quit", id="quit", priority=True),
        # Focus moves as the key arrives, not after it has bubbled up from the focused
        # widget: letters typed right after a Tab must land where the Tab put the focus.
        Binding("tab", "focus_next", "next", id="focus-next", show=False, priority=True),
        Binding(
            "shift+tab",
            "focus_previous",
            "previous",
            id="focus-previous",
            show=False,
            priority=True,
        ),
    ]

    quitting = reactive(False, init=False)
    """Quitting was asked for and agreed: the main screen says what it still waits on."""

    def __init__(
        self,
        lab: Lab,
        scenario: Scenario,
        settings: Mapping[str, bool] | None = None,
        exports_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.lab = lab
        self.jobs = JobChain(self)
        self.main = MainScreen(
            lab, self.jobs, scenario, scenario.settings(settings), exports_dir or Path.cwd()
        )
        self._quit_started = 0.0

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver, except on Linux and macOS: one where a paste is only ever text."""
        driver = super().get_driver_class()
        if driver.__module__ == "textual.drivers.linux_driver":
            from .terminal import PasteSafeDriver

            return PasteSafeDriver
        return driver

    def get_default_screen(self) -> Screen[None]:
        return self.main

    def on_load(self) -> None:
        """Start opening the database before the screen is even composed.

        The driver thread's waits then overlap Textual's work on the first frame, and the
        screen never waits for the database. The rows it reads go to the screen's queue,
        which it reads only once it is composed and mounted.
        """
        self.jobs.add(self._open_lab, "open the lab")

    async def _open_lab(self) -> None:
        try:
            if self.lab.engine is None:
                await self.lab.open()
            await self.main.load_rows()
        except DatabaseProblem as exc:
            # Once the screen is drawn: this can fail while it is still being mounted, and
            # quitting then leaves Textual's mount callbacks to run on removed widgets.
            self.call_after_refresh(self.exit, return_code=2, message=Text(str(exc)))

    async def on_event(self, event: events.Event) -> None:
        """Hand typed keys and pastes to the main screen before Textual routes them."""
        typed = isinstance(event, events.Key | events.Paste) and not event.is_forwarded
        if typed and not self.main.admit(event):  # type: ignore[arg-type]
            return
        if typed and isinstance(event, events.Paste) and not isinstance(self.focused, NameInput):
            # The paste parser keeps NUL for the name field to refuse; elsewhere (the
            # bulk dialog, the paste screen) it is dropped, as Textual's own parser does.
            event = events.Paste(event.text.replace("\x00", ""))
        await super().on_event(event)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.main.too_small and action != "quit":
            return False  # the key bar offers only what works on a screen too small to use
        return True

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Put the main screen's actions in the command palette (Ctrl+P), for the mouse too."""
        yield from super().get_system_commands(screen)
        main = self.main
        for title, help_text, action in (
            ("Diagnose a traceback", "Paste your error; open the scenario (Ctrl+T)", "diagnose"),
            ("Guided tour", "Predict, run, then fix each pitfall (Ctrl+L)", "tour"),
            ("Pick a scenario", "Choose the experiment (F1)", "pick_scenario"),
            ("Show details", "Of the selected log entry (F6)", "show_details"),
            ("Show the script", "For the current settings (F7)", "show_script"),
            ("Copy the script", "To the clipboard (F8)", "copy_script"),
            ("Save the script", "To a file (F9)", "save_script"),
            ("Export the log", "As Markdown (F10)", "export_log"),
            ("Add users in bulk", "Many users, in batches (Ctrl+B)", "bulk_add"),
            ("Reset tables", "Drop the playground's tables (Ctrl+R)", "reset_tables"),
        ):
            yield SystemCommand(title, help_text, getattr(main, f"action_{action}"))
        for index, option in enumerate(main.scenario.options):
            key = f" ({OPTION_KEYS[index].upper()})" if index < len(OPTION_KEYS) else ""
            yield SystemCommand(
                f"Switch: {option.label}",
                f"Turn '{option.hint}' on or off{key}",
                lambda index=index: main.action_toggle_option(index),
            )

    # ----------------------------------------------------------------- exit
    async def action_quit(self) -> None:
        """Quit at once when nothing is in flight; otherwise ask, and say what is awaited.

        Ctrl+Q on the question agrees, so quitting on purpose is two presses.
        """
        if self.quitting:
            self._say_waiting()
            return
        from .screens import ConfirmQuit  # dialogs load on first use, not at start-up

        if isinstance(self.screen, ConfirmQuit):
            self.screen.dismiss(True)
            return
        busy = self.jobs.in_flight()
        if busy:
            self.push_screen(ConfirmQuit(busy), self._quit_answered)
            return
        self._start_quitting()

    def _quit_answered(self, agreed: bool | None) -> None:
        if agreed:
            self._start_quitting()
        else:
            self.main.say("Not quitting: the work goes on.")

    def _start_quitting(self) -> None:
        """Skip queued work, let the running job finish, close the lab, then exit.

        The wait runs in a worker, so the screen keeps drawing and says what it waits on
        (a commit can wait seconds on a database lock); a bulk add stops after its batch.
        """
        self.quitting = True
        self.jobs.close()
        if self.jobs.in_flight():
            self._quit_started = time.monotonic()
            self._say_waiting()
            self.set_interval(1, self._say_waiting)
        self.run_worker(self._close_and_exit(), name="quit", group="quit")

    def watch_quitting(self, quitting: bool) -> None:
        self.main.set_class(quitting, "-quitting")

    def _say_waiting(self) -> None:
        """Say what quitting waits on, and for how long: a lock can hold a commit for seconds."""
        busy = self.jobs.in_flight()
        if busy:
            waited = time.monotonic() - self._quit_started
            self.main.say(
                f"Quitting after {busy[0]} finishes ({waited:.0f} s so far; a database lock "
                "may hold it).",
                error=True,
            )

    async def _close_and_exit(self) -> None:
        await self.lab.close()
        self.exit()

    async def on_unmount(self) -> None:
        self.jobs.close()
        await self.lab.close()


def make_app(
    db: str | None = None,
    *,
    scenario: str = DEFAULT_SCENARIO,
    settings: Mapping[str, bool] | None = None,
    exports_dir: Path | None = None,
) -> PlaygroundApp:
    """Build the app exactly as the command line does; tests call this too."""
    return PlaygroundApp(
        Lab(db or default_url()), SCENARIOS[scenario], settings, exports_dir=exports_dir
    )

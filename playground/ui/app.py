"""The Textual app: settings, the add-user form, the users table, the live log and panes.

It never touches SQLAlchemy objects itself: it queues intent to the lab through a
``JobChain`` (one job after another on the app's own loop) and renders the plain
results that come back as messages.
"""

from __future__ import annotations

import dataclasses
import gc
import time
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

import sqlalchemy
from rich.text import Text
from textual import events, on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical
from textual.driver import Driver
from textual.screen import Screen
from textual.widgets import Button, ContentSwitcher, Input, Static, Switch

from ..core.database import DatabaseProblem, default_url, describe
from ..core.export import log_markdown
from ..core.lab import Lab, LabClosed
from ..core.models import Model
from ..core.names import name_problem, visible
from ..core.scenarios import DEFAULT_SCENARIO, SCENARIOS, Scenario
from .commit_log import CommitLog
from .jobs import FrameHold, JobChain
from .messages import (
    BulkDone,
    BulkProgress,
    ExperimentDone,
    LabProblem,
    RowsLoaded,
    UsersAdded,
)
from .pane_tabs import PaneTabs
from .render import preview, script_view
from .widgets import (
    AddButton,
    BulkMeter,
    DetailsPane,
    KeysBar,
    NameInput,
    OptionSwitch,
    TitleBar,
    UsersTable,
)

OPTION_KEYS = ("f2", "f3", "f4", "f5")
SHORT_SCREEN = 30
EVERYWHERE = frozenset({"quit", "focus_next", "focus_previous"})
"""The app's actions that stay live while another screen or a dialog is on top."""
MIN_WIDTH, MIN_HEIGHT = 64, 20


class MainScreen(Screen[None]):
    """The screen the app composes into; it skips the restyle of its very first resume.

    Textual restyles every widget of a screen each time it resumes. The first resume
    comes right after the widgets were mounted, and styled as they were: restyling all
    ~40 of them again held up the database's first replies at start-up by some 40 ms.
    Every later resume (a dialog closed, the tour or diagnosis left) restyles as usual.
    """

    def __init__(self) -> None:
        super().__init__()
        self._resumed = False

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Runs before Screen's own handler, which reads the flag.
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False


class PlaygroundApp(App[None]):
    """Flip switches, add users, and watch what each commit really did."""

    CSS_PATH = "app.tcss"
    TITLE = "playground"
    BINDINGS = [
        Binding("f1", "pick_scenario", "scenario", id="pick-scenario", priority=True),
        Binding("ctrl+t", "diagnose", "diagnose", id="diagnose", priority=True),
        Binding("ctrl+l", "tour", "tour", id="tour", priority=True),
        *(
            Binding(
                key,
                f"toggle_option({i})",
                f"switch {i + 1}",
                id=f"toggle-option-{i + 1}",
                priority=True,
            )
            for i, key in enumerate(OPTION_KEYS)
        ),
        Binding("f6", "show_details", "details", id="show-details", priority=True),
        Binding("f7", "show_script", "script", id="show-script", priority=True),
        Binding("f8", "copy_script", "copy", id="copy-script", priority=True),
        Binding("f9", "save_script", "save", id="save-script", priority=True),
        Binding("f10", "export_log", "export", id="export-log", priority=True),
        Binding("ctrl+r", "reset_tables", "reset", id="reset-tables", show=False),
        Binding("ctrl+b", "bulk_add", "bulk add", id="bulk-add", priority=True),
        # Said on the progress line instead of the footer, which would be rebuilt twice a bulk.
        Binding("ctrl+g", "stop_bulk", "stop bulk", id="stop-bulk", show=False, priority=True),
        Binding("escape", "show_log", "log", id="show-log", show=False),
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

    def __init__(
        self,
        lab: Lab,
        scenario: Scenario,
        settings: Mapping[str, bool] | None = None,
        exports_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.lab = lab
        self.scenario = scenario
        self.settings = scenario.settings(settings)
        self.exports_dir = exports_dir or Path.cwd()
        self.last_name = "Foo"
        self.jobs = JobChain(self)
        self.frames = FrameHold(self)
        self._seq = 0
        self._seen_uid = 0
        self._total_rows = 0
        self._bulk_running = False
        self._bulk_stop = False
        self._script_stale = True
        self._quitting = False
        self._quit_started = 0.0
        self._too_small = False
        self._frozen = False

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver, except on Linux and macOS: one where a paste is only ever text."""
        driver = super().get_driver_class()
        if driver.__module__ == "textual.drivers.linux_driver":
            from .terminal import PasteSafeDriver

            return PasteSafeDriver
        return driver

    # ----------------------------------------------------------------- layout
    def get_default_screen(self) -> Screen[None]:
        return MainScreen()

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(id="too-small")
        yield Static(self._status_text(), id="status")
        with Horizontal(id="top"):
            with Vertical(id="settings") as settings:
                settings.border_title = "Settings"
                yield from self._option_switches()
            with Vertical(id="form") as form:
                form.border_title = "Add user"
                with Horizontal(id="form-row"):
                    yield NameInput(placeholder="name, then Enter", id="name")
                    yield AddButton("Add", id="add")
                yield Static(Text("Enter commits; F-keys flip the switches.", "dim"), id="message")
                yield BulkMeter(id="bulk-progress")
        with Horizontal(id="main"):
            table = UsersTable(id="users")
            table.border_title = "Users"
            yield table
            with Vertical(id="tabs"):
                yield PaneTabs({"log": "Log", "details": "Details", "script-pane": "Script"})
                with ContentSwitcher(initial="log", id="panes"):
                    yield CommitLog(id="log")
                    yield DetailsPane(id="details")
                    with ScrollableContainer(id="script-pane"):
                        yield Static(id="script")
        yield KeysBar()

    def _option_switches(self) -> list[OptionSwitch]:
        return [
            OptionSwitch(
                option,
                self.settings[option.key],
                OPTION_KEYS[i].upper() if i < len(OPTION_KEYS) else "Tab, Space",
            )
            for i, option in enumerate(self.scenario.options)
        ]

    def _status_text(self) -> Text:
        return Text.assemble(
            ("DB ", "bold"),
            (describe(self.lab.url), ""),
            (f"  ·  SQLAlchemy {sqlalchemy.__version__}", "dim"),
        )

    def on_load(self) -> None:
        """Start opening the database before the screen is even composed.

        The driver thread's waits then overlap Textual's work on the first frame, and the
        screen never waits for the database. The rows it reads are handled only once the
        screen is mounted: Textual composes and mounts before it reads the app's queue.
        """
        self.jobs.add(self._open_lab, "open the lab")

    async def on_mount(self) -> None:
        name = self.query_one(NameInput)
        name.snapshot = lambda: (self.scenario, dict(self.settings))
        name.focus()
        self._scenario_changed()

    def on_resize(self, event: events.Resize) -> None:
        """Switch the short and too-small layouts; nothing is restyled if neither changed.

        Start-up alone brings several resize events, each of which used to restyle the
        screen and ask for another layout pass before the first frame.
        """
        width, height = event.size
        self.screen.set_class(height < SHORT_SCREEN, "-short")
        too_small = width < MIN_WIDTH or height < MIN_HEIGHT
        if too_small:
            self.query_one("#too-small", Static).update(
                Text.assemble(
                    (f"The terminal is {width}x{height}.\n", "bold"),
                    f"Make the terminal at least {MIN_WIDTH}x{MIN_HEIGHT} to use playground; "
                    "Ctrl+Q quits.",
                )
            )
        if too_small != self._too_small:
            self._too_small = too_small
            self.screen.set_class(too_small, "-too-small")
            self.refresh_bindings()

    async def on_event(self, event: events.Event) -> None:
        """Route keys and pastes before Textual does: no stray letter can act as a hotkey.

        A letter or a paste that arrives while the focus is on a switch, the table, the
        log or the tabs goes to the name field (focused first), since nothing else on the
        main screen takes text; on a screen too small to show the app only quitting works.
        """
        typed = isinstance(event, events.Key | events.Paste) and not event.is_forwarded
        if typed and self._too_small:
            if not isinstance(event, events.Key) or not self._is_quit_key(event.key):
                return
        elif typed and self._takes_text(event):  # type: ignore[arg-type]
            name = self.query_one(NameInput)
            if self.focused is not name and not isinstance(self.focused, Input):
                self.screen.set_focus(name)
        if typed and isinstance(event, events.Paste) and not isinstance(self.focused, NameInput):
            # The paste parser keeps NUL for the name field to refuse; elsewhere (the
            # bulk dialog, the paste screen) it is dropped, as Textual's own parser does.
            event = events.Paste(event.text.replace("\x00", ""))
        await super().on_event(event)

    def _takes_text(self, event: events.Key | events.Paste) -> bool:
        if len(self.screen_stack) > 1:
            return False
        if isinstance(event, events.Paste):
            return True
        char = event.character
        return (
            char is not None
            and len(char) == 1
            and char != " "
            and unicodedata.category(char) != "Cc"
            and not self._is_quit_key(event.key)
        )

    def _is_quit_key(self, key: str) -> bool:
        active = self.active_bindings.get(key)
        return active is not None and active.binding.action == "quit"

    async def _open_lab(self) -> None:
        try:
            if self.lab.engine is None:
                await self.lab.open()
            rows, total = await self.lab.newest_users()
        except DatabaseProblem as exc:
            # Once the screen is drawn: this can fail while it is still being mounted, and
            # quitting then leaves Textual's mount callbacks to run on removed widgets.
            self.call_after_refresh(self.exit, return_code=2, message=Text(str(exc)))
            return
        self._seen_uid = max((uid for uid, _ in rows), default=0)
        self.post_message(RowsLoaded(rows, total))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Put the app's own actions in the command palette (Ctrl+P), for the mouse too."""
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Diagnose a traceback",
            "Paste your error; open the scenario that reproduces it (Ctrl+T)",
            self.action_diagnose,
        )
        yield SystemCommand(
            "Guided tour", "Predict, run, then fix each pitfall (Ctrl+L)", self.action_tour
        )
        yield SystemCommand(
            "Pick a scenario", "Choose the experiment (F1)", self.action_pick_scenario
        )
        yield SystemCommand(
            "Show details", "Of the selected log entry (F6)", self.action_show_details
        )
        yield SystemCommand(
            "Show the script", "For the current settings (F7)", self.action_show_script
        )
        yield SystemCommand("Copy the script", "To the clipboard (F8)", self.action_copy_script)
        yield SystemCommand("Save the script", "To a file (F9)", self.action_save_script)
        yield SystemCommand("Export the log", "As Markdown (F10)", self.action_export_log)
        yield SystemCommand(
            "Add users in bulk", "Many users, in batches (Ctrl+B)", self.action_bulk_add
        )
        yield SystemCommand(
            "Reset tables", "Drop the playground's tables (Ctrl+R)", self.action_reset_tables
        )
        for index, option in enumerate(self.scenario.options):
            key = f" ({OPTION_KEYS[index].upper()})" if index < len(OPTION_KEYS) else ""
            yield SystemCommand(
                f"Switch: {option.label}",
                f"Turn '{option.hint}' on or off{key}",
                lambda index=index: self.action_toggle_option(index),
            )

    # -------------------------------------------------------------- scenario
    def action_pick_scenario(self) -> None:
        from .screens import ScenarioPicker  # dialogs load on first use, not at start-up

        self.push_screen(ScenarioPicker(self.scenario.name), self.switch_scenario)

    def action_diagnose(self) -> None:
        """Open the paste-and-diagnose screen; what it names opens here, live."""
        from .diagnose_screen import DiagnoseScreen

        self.push_screen(DiagnoseScreen(), self.open_scenario)

    def action_tour(self) -> None:
        """Open the guided tour on this app's database (it keeps a session of its own)."""
        from .tour import TourScreen

        self.push_screen(TourScreen(self.lab.url))

    async def open_scenario(self, chosen: tuple[str, dict[str, bool]] | None) -> None:
        """Switch to a scenario with the given switches, as the diagnosis asks for."""
        if chosen is None:
            return
        name, settings = chosen
        await self.switch_scenario(name)
        wanted = self.scenario.settings(settings)
        for option in self.scenario.options:
            switch = self.query_one(f"#switch-{option.key}", Switch)
            if switch.value != wanted[option.key]:
                switch.value = wanted[option.key]
        self.settings = wanted
        self._refresh_script()
        flags = " ".join(o.flag for o in self.scenario.options if wanted[o.key])
        message = f"Opened {name} {flags}: type a name and press Enter to reproduce it"
        self.call_after_refresh(self._say, message)  # after the switches' own messages

    async def switch_scenario(self, name: str | None) -> None:
        """Make ``name`` the current scenario, its switches at their defaults."""
        if name is None or name == self.scenario.name:
            return
        self.scenario = SCENARIOS[name]
        self.settings = self.scenario.settings()
        panel = self.query_one("#settings")
        await panel.remove_children()
        await panel.mount_all(self._option_switches())
        self._scenario_changed()
        self._say(f"Scenario: {self.scenario.title}. {self.scenario.summary}")
        self.query_one(NameInput).focus()

    def _scenario_changed(self) -> None:
        self.sub_title = self.scenario.title
        self.query_one("#settings").set_class(len(self.scenario.options) > 2, "-many")
        for bindings in self._bindings.key_to_bindings.values():
            for i, binding in enumerate(bindings):
                if binding.action.startswith("toggle_option("):
                    index = int(binding.action.removeprefix("toggle_option(").rstrip(")"))
                    options = self.scenario.options
                    label = options[index].short if index < len(options) else ""
                    bindings[i] = dataclasses.replace(binding, description=label)
        self.refresh_bindings()
        self._refresh_script()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self._too_small and action != "quit":
            return False  # the footer offers only what works on a screen too small to use
        if len(self.screen_stack) > 1 and action not in EVERYWHERE:
            return False  # another screen or dialog is up: its own keys, not the main screen's
        if action == "stop_bulk":
            return self._bulk_running
        if action == "toggle_option":
            index = parameters[0]
            return isinstance(index, int) and index < len(self.scenario.options)
        return True

    # --------------------------------------------------------------- adding
    @on(Button.Pressed, "#add")
    async def _add_pressed(self) -> None:
        await self.query_one(NameInput).action_submit()

    @on(NameInput.Refused)
    def _paste_refused(self, event: NameInput.Refused) -> None:
        self._say(event.reason, error=True)

    @on(NameInput.Submitted, "#name")
    def _name_submitted(self, event: NameInput.Submitted) -> None:
        name = event.value
        problem = name_problem(name)
        if problem is not None:
            self._say(problem, error=True)
            return
        self._seq += 1
        scenario, settings = self.scenario, dict(self.settings)
        if isinstance(event.context, tuple):  # as they were when Enter was handled
            scenario, settings = event.context
        seq = self._seq
        self.last_name = name
        self._say(f"#{seq} queued: {preview(name)}")

        async def experiment() -> None:
            await self._experiment(seq, scenario, name, settings)

        if self.jobs.idle:  # a commit with nothing ahead of it is usually done in a frame
            self.frames.hold()
        self.jobs.add(experiment, f"experiment #{seq}", what=f"the commit of #{seq}")

    async def _experiment(
        self, seq: int, scenario: Scenario, name: str, settings: dict[str, bool]
    ) -> None:
        result = await self.lab.run(scenario, name, settings, seq=seq)
        self.post_message(ExperimentDone(result))

    async def _read_new_rows(self) -> None:
        """Read the rows added since the table was last read, after a commit's entry.

        A job of its own, queued by the entry: read in the commit's job, the query was
        built and sent before the app could show the entry the user is waiting for.
        """
        try:
            rows = await self.lab.fetch_users(after_uid=self._seen_uid)
        except LabClosed:
            raise
        except Exception as exc:
            self.post_message(LabProblem(f"could not read the users table: {exc}"))
            return
        if rows:
            self._seen_uid = max(self._seen_uid, *(uid for uid, _ in rows))
            self.post_message(UsersAdded(rows))

    @on(ExperimentDone)
    def _experiment_done(self, message: ExperimentDone) -> None:
        result = message.result
        explanation = SCENARIOS[result.scenario].explain(result)
        self.query_one(CommitLog).add_entry(result, explanation)
        self._say(f"#{result.seq} done: {explanation.headline}", error=not result.outcome.ok)
        if self.query_one(PaneTabs).active == "details":
            self.query_one(DetailsPane).show(result, explanation)
        self.frames.release()
        self.jobs.add(self._read_new_rows, "read new users")

    @on(UsersAdded)
    def _users_added(self, message: UsersAdded) -> None:
        self._show_rows(message.rows, self._total_rows + len(message.rows))

    @on(RowsLoaded)
    def _rows_loaded(self, message: RowsLoaded) -> None:
        if not self._frozen:
            self._frozen = True
            # What start-up made lives as long as the app: out of the collector's sight, a
            # full collection (which a bulk add's many rows set off) takes ~5 ms, not ~90.
            self.call_after_refresh(gc.freeze)
        self.query_one(UsersTable).replace_users(message.rows)
        self._show_rows([], message.total)
        if message.note:
            self._say(message.note)

    def _show_rows(self, rows: list[tuple[int, str]], total: int) -> None:
        table = self.query_one(UsersTable)
        table.add_users(rows)
        self._total_rows = total
        shown = min(total, table.MAX_ROWS)
        count = plural(total, "row")
        table.border_subtitle = f"{shown:,} of {count}" if total > shown else count

    @on(LabProblem)
    def _lab_problem(self, message: LabProblem) -> None:
        self._say(message.text, error=True)
        self.frames.release()

    def _say(self, text: str, error: bool = False) -> None:
        """Show a one-line message under the form; user text is never markup.

        A layout pass (which reflows the whole screen) is asked for only when the
        message may wrap, before or after: most messages fit the line they replace.
        """
        line = self.query_one("#message", Static)
        content = Text(text, "bold red" if error else "dim")
        width = line.content_size.width
        fits = "\n" not in text and 0 < content.cell_len <= width
        line.update(content, layout=not (fits and line.content_size.height == 1))

    # ------------------------------------------------------------- settings
    def action_toggle_option(self, index: int) -> None:
        """Flip a switch, after the keys typed before it have been handled.

        F-keys act on arrival, while letters and Enter wait their turn in the name field:
        flipping there keeps ``a``, Enter, F2, ``b``, Enter committing ``a`` with the old
        setting and ``b`` with the new one, however fast they come.
        """
        if isinstance(self.focused, NameInput):
            self.focused.call_later(self._toggle_now, index)
        else:
            self._toggle_now(index)

    def _toggle_now(self, index: int) -> None:
        if index < len(self.scenario.options):
            option = self.scenario.options[index]
            switch = self.query_one(f"#switch-{option.key}", Switch)
            switch.toggle()
            self.settings[option.key] = switch.value

    @on(Switch.Changed)
    def _switch_changed(self, event: Switch.Changed) -> None:
        key = (event.switch.id or "").removeprefix("switch-")
        if key in self.settings:
            self.settings[key] = event.value
            self._say(f"{key} {'on' if event.value else 'off'}: applies to the next commit")
            self._refresh_script()

    # ---------------------------------------------------------------- panes
    def _script_text(self) -> str:
        return self.scenario.script(self.settings, str(self.lab.url), self.last_name).text

    def _refresh_script(self) -> None:
        """Re-render the script pane, if it is showing; otherwise when it is next shown.

        Highlighting is the costliest thing on screen, so it is done only when seen.
        """
        if self.query_one(PaneTabs).active != "script-pane":
            self._script_stale = True
            return
        self._script_stale = False
        script = self.scenario.script(self.settings, str(self.lab.url), self.last_name)
        self.query_one("#script", Static).update(script_view(script))

    def action_show_log(self) -> None:
        self.query_one(PaneTabs).active = "log"

    def action_show_script(self) -> None:
        self.query_one(PaneTabs).active = "script-pane"

    def action_show_details(self) -> None:
        self.query_one(PaneTabs).active = "details"
        self._show_selected()

    @on(PaneTabs.Activated)
    def _pane_activated(self, event: PaneTabs.Activated) -> None:
        self.query_one(ContentSwitcher).current = event.pane
        if event.pane == "details":
            self._show_selected()
        elif event.pane == "script-pane" and self._script_stale:
            self._refresh_script()

    @on(CommitLog.Trimmed)
    def _log_trimmed(self, message: CommitLog.Trimmed) -> None:
        """Say on the log's tab that older entries are gone (the export says so too)."""
        self.query_one(PaneTabs).set_label("log", f"Log ({message.dropped:,} older dropped)")

    @on(CommitLog.Selected)
    def _entry_selected(self) -> None:
        self.action_show_details()

    def _show_selected(self) -> None:
        entry = self.query_one(CommitLog).selected_entry()
        if entry is not None:
            self.query_one(DetailsPane).show(*entry)

    # -------------------------------------------------------------- exports
    def action_copy_script(self) -> None:
        self.copy_to_clipboard(self._script_text())
        self.notify(
            "Script sent to the clipboard (OSC 52: some terminals ignore it). "
            "F9 saves it to a file.",
            title="Copied",
            markup=False,
        )

    def action_save_script(self) -> None:
        name = f"playground_{self.scenario.name.replace('-', '_')}.py"
        self._write(name, self._script_text(), "Script")

    def action_export_log(self) -> None:
        log = self.query_one(CommitLog)
        header = f"{describe(self.lab.url)}, SQLAlchemy {sqlalchemy.__version__}"
        text = log_markdown(log.entries.values(), header, log.dropped)
        self._write(f"playground-log-{datetime.now():%Y%m%d-%H%M%S}.md", text, "Log")

    def _write(self, filename: str, text: str, what: str, folder: Path | None = None) -> None:
        """Save ``text``; when the folder refuses, say where and why, and offer other folders."""
        path = (folder or self.exports_dir) / filename
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            reason = f"{what} not saved to {visible(str(path))}: {exc.strerror or exc}"
            self._say(reason, error=True)
            others = [place for place in self._save_places() if place != path.parent]
            if others:

                def retry(place: Path | None) -> None:
                    if place is not None:
                        self._write(filename, text, what, place)

                from .screens import SaveElsewhere  # dialogs load on first use, not at start-up

                self.push_screen(SaveElsewhere(reason, others), retry)
            return
        self._say(f"{what} saved to {visible(str(path))}")
        self.notify(visible(str(path)), title=f"{what} saved", markup=False)

    def _save_places(self) -> list[Path]:
        """Where a file can go when the current folder is read-only: the data folder, home."""
        from ..core.database import default_database_path

        places = [self.exports_dir, default_database_path().parent, Path.home()]
        return list(dict.fromkeys(places))

    # ------------------------------------------------------------- bulk add
    def action_bulk_add(self) -> None:
        """Ask how many; the dialog is made once and kept, with the count last typed.

        Kept, closing it costs no teardown of its widgets, which would otherwise land
        in the same moments as the bulk add's first batches and the keys typed then.
        """
        if not self.is_screen_installed("bulk-dialog"):
            from .screens import BulkDialog  # dialogs load on first use, not at start-up

            self.install_screen(BulkDialog(), "bulk-dialog")
        self.push_screen("bulk-dialog", self._bulk_answered)

    def _bulk_answered(self, count: int | None) -> None:
        if count is None:
            return
        self._say(f"Bulk add of {count:,} users queued.")
        self.jobs.add(
            lambda: self._bulk(count), f"bulk add {count}", what=f"the bulk add of {count:,}"
        )

    async def _bulk(self, count: int) -> None:
        self._bulk_running, self._bulk_stop = True, False
        self.call_later(self._bulk_started, count)
        from ..core.bulk import bulk_add  # loaded on first use, not at start-up

        # Its rows are short-lived and free no cycles; the collector, set off by their
        # sheer number, would only pause the loop (up to ~40 ms a pass) to find nothing.
        gc.disable()
        try:
            result = await bulk_add(
                self.lab,
                count,
                progress=self._post_bulk_progress,
                should_stop=lambda: self._bulk_stop or self.jobs.closing,
            )
        finally:
            gc.enable()
            self._bulk_running = False
        rows, total = list(result.rows), result.total  # read by bulk_add, which never raises
        self._seen_uid = max([self._seen_uid, *(uid for uid, _ in rows)])
        self.post_message(BulkDone(result, rows, total))

    def _bulk_started(self, count: int) -> None:
        self.query_one(BulkMeter).show_progress(0, count)
        self.query_one("#form").add_class("-bulk")
        self.refresh_bindings()

    def action_stop_bulk(self) -> None:
        self._bulk_stop = True
        self._say("Stopping after the batch in flight…")

    def _post_bulk_progress(self, done: int, total: int) -> None:
        self.post_message(BulkProgress(done, total))

    @on(BulkProgress)
    def _bulk_progress(self, message: BulkProgress) -> None:
        self.query_one(BulkMeter).show_progress(message.done, message.total)

    @on(BulkDone)
    def _bulk_done(self, message: BulkDone) -> None:
        result = message.result
        self.query_one("#form").remove_class("-bulk")
        self.refresh_bindings()
        text = (
            f"bulk add: {result.inserted:,} of {result.requested:,} users committed in "
            f"{plural(result.batches, 'batch', 'batches')} ({result.duration_ms:,.0f} ms)"
        )
        if result.cancelled:
            text += "; stopped on request, every batch either fully in or not at all"
        if result.error is not None:
            text += f"; stopped by {result.error.outer.type_name}: {result.error.outer.message}"
        style = "bold red" if result.error else "yellow" if result.cancelled else "green"
        self.query_one(CommitLog).add_note(Text(text, style))
        if message.total is not None:  # None: the table could not be read; keep what is shown
            self.query_one(UsersTable).replace_users(message.rows)
            self._show_rows([], message.total)
        self._say(text, error=result.error is not None)

    # ---------------------------------------------------------------- reset
    def action_reset_tables(self) -> None:
        tables = sorted(Model.metadata.tables)
        from .screens import ConfirmReset  # dialogs load on first use, not at start-up

        self.push_screen(ConfirmReset(tables, describe(self.lab.url)), self._reset_answered)

    def _reset_answered(self, agreed: bool | None) -> None:
        if not agreed:
            self._say("Reset cancelled: nothing was dropped.")
            return
        self._say("Dropping the playground's tables…")
        self.jobs.add(self._reset, "reset tables", what="the table reset")

    async def _reset(self) -> None:
        try:
            await self.lab.reset()
        except LabClosed:
            raise
        except Exception as exc:
            self.post_message(LabProblem(f"reset failed: {exc}"))
            return
        self._seen_uid = 0
        note = "Tables dropped and re-created: the users table is empty."
        self.post_message(RowsLoaded([], 0, note=note))

    # ----------------------------------------------------------------- exit
    async def action_quit(self) -> None:
        """Quit at once when nothing is in flight; otherwise ask, and say what is awaited.

        Ctrl+Q on the question agrees, so quitting on purpose is two presses.
        """
        if self._quitting:
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
            self._say("Not quitting: the work goes on.")

    def _start_quitting(self) -> None:
        """Skip queued work, let the running job finish, close the lab, then exit.

        The wait runs in a worker, so the screen keeps drawing and says what it waits on
        (a commit can wait seconds on a database lock).
        """
        self._quitting = True
        self.jobs.close()
        self._bulk_stop = True
        if self.jobs.in_flight():
            self.query_one("#form").remove_class("-bulk")
            self._quit_started = time.monotonic()
            self._say_waiting()
            self.set_interval(1, self._say_waiting)
        self.run_worker(self._close_and_exit(), name="quit", group="quit")

    def _say_waiting(self) -> None:
        """Say what quitting waits on, and for how long: a lock can hold a commit for seconds."""
        busy = self.jobs.in_flight()
        if busy:
            waited = time.monotonic() - self._quit_started
            self._say(
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


def plural(count: int, one: str, many: str | None = None) -> str:
    """``count`` and the noun that goes with it: 1 batch, 2 batches, 1,000 rows."""
    return f"{count:,} {one if count == 1 else many or one + 's'}"


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

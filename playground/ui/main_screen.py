"""The main screen: settings, the add-user form, the users table, the live log and panes.

It never touches SQLAlchemy objects itself: it queues intent to the lab through a
``JobChain`` (one job after another on the app's own loop) and renders the plain
results that come back as messages.
"""

from __future__ import annotations

import dataclasses
import gc
import unicodedata
from datetime import datetime
from pathlib import Path

import sqlalchemy
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical
from textual.geometry import Size
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Header, Input, Static

from ..core.database import describe
from ..core.export import log_markdown
from ..core.lab import Lab, LabClosed
from ..core.models import Model
from ..core.names import name_problem, visible
from ..core.scenarios import SCENARIOS, Scenario
from .commit_log import CommitLog
from .jobs import FrameHold, JobChain
from .messages import BulkDone, BulkProgress, ExperimentDone, LabProblem, RowsLoaded, UsersAdded
from .pane_tabs import PaneTabs
from .panels import OPTION_KEYS, AddForm, SettingsPanel
from .render import preview, script_view
from .widgets import BulkMeter, DetailsPane, KeysBar, NameInput, UsersTable

SHORT_SCREEN = 30
MIN_WIDTH, MIN_HEIGHT = 64, 20


class MainScreen(Screen[None]):
    """Flip switches, add users, and watch what each commit really did.

    The screen owns the main view's state (scenario, settings, what the table has seen)
    and its keys; the app owns the lab's lifetime, the driver, the palette and quitting.
    ``bulk_running`` and ``too_small`` are reactives whose watchers set classes (on the
    form, on the screen); the style sheet decides what each class shows.
    """

    CSS_PATH = "main_screen.tcss"
    BINDINGS = [
        Binding("f1", "pick_scenario", "scenario", id="pick-scenario", priority=True),
        Binding("ctrl+t", "diagnose", "diagnose", id="diagnose", priority=True),
        Binding("ctrl+l", "tour", "tour", id="tour", priority=True),
        *(
            # Described by the current scenario's switch names: see active_bindings.
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
        # Said on the progress line instead of the key bar, which would change twice a bulk.
        Binding("ctrl+g", "stop_bulk", "stop bulk", id="stop-bulk", show=False, priority=True),
        Binding("escape", "show_log", "log", id="show-log", show=False),
    ]

    bulk_running = reactive(False, init=False)
    """A bulk add is running: its meter shows instead of the message line; Ctrl+G stops it."""
    too_small = reactive(False, init=False)
    """The terminal is below MIN_WIDTH x MIN_HEIGHT: one line says so, only quitting works."""

    def __init__(
        self,
        lab: Lab,
        jobs: JobChain,
        scenario: Scenario,
        settings: dict[str, bool],
        exports_dir: Path,
    ) -> None:
        super().__init__()
        self.lab = lab
        self.jobs = jobs
        self.scenario = scenario
        self.settings = settings
        self.exports_dir = exports_dir
        self.last_name = "Foo"
        self.frames = FrameHold(self)
        self._seq = 0
        self._seen_uid = 0
        self._total_rows = 0
        self._bulk_stop = False
        self._script_stale = True
        self._resumed = False
        self._frozen = False

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        yield Header(icon="▶")
        yield Static(id="too-small")
        yield Static(self._status_text(), id="status")
        with Horizontal(id="top"):
            yield SettingsPanel(self.scenario, self.settings, id="settings")
            yield AddForm(id="form")
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

    def _status_text(self) -> Text:
        return Text.assemble(
            ("DB ", "bold"),
            (describe(self.lab.url), ""),
            (f"  ·  SQLAlchemy {sqlalchemy.__version__}", "dim"),
        )

    def on_mount(self) -> None:
        name = self.query_one(NameInput)
        name.snapshot = lambda: (self.scenario, dict(self.settings))
        name.focus()
        self._fit(self.app.size)
        self._scenario_changed()

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        """Skip the restyle of the very first resume; fit the terminal's size on each.

        Textual restyles every widget of a screen each time it resumes. The first resume
        comes right after the widgets were mounted, and styled as they were: restyling all
        of them again held up the database's first replies at start-up.
        Every later resume (a dialog closed, the tour or diagnosis left) restyles as usual.
        """
        # Runs before Screen's own handler, which reads the flag.
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False
        self._fit(self.app.size)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size)

    def _fit(self, size: Size) -> None:
        """Switch the short and too-small layouts; nothing is restyled if neither changed.

        Start-up alone brings several resize events, each of which used to restyle the
        screen and ask for another layout pass before the first frame.
        """
        width, height = size
        self.set_class(height < SHORT_SCREEN, "-short")
        too_small = width < MIN_WIDTH or height < MIN_HEIGHT
        if too_small:
            self.query_one("#too-small", Static).update(
                Text.assemble(
                    (f"The terminal is {width}x{height}.\n", "bold"),
                    f"Make the terminal at least {MIN_WIDTH}x{MIN_HEIGHT} to use playground; "
                    "Ctrl+Q quits.",
                )
            )
        self.too_small = too_small

    def watch_too_small(self, too_small: bool) -> None:
        self.set_class(too_small, "-too-small")
        self.refresh_bindings()

    def watch_bulk_running(self, running: bool) -> None:
        # On the form, not the screen: a class on the screen restyles every widget on it.
        self.query_one(AddForm).set_class(running, "-bulk")
        self.refresh_bindings()

    # ---------------------------------------------------------------- keys
    def admit(self, event: events.Key | events.Paste) -> bool:
        """Whether a typed key or paste may go on; a letter for the name field goes there.

        Called by the app before Textual routes the event, so no stray letter can act as
        a hotkey: one typed while the focus is on a switch, the table, the log or the tabs
        goes to the name field (focused first), since nothing else here takes text. On a
        screen too small to show the app, only quitting works.
        """
        shown = self.is_current or self.app.screen.is_modal
        if self.too_small and shown:
            return isinstance(event, events.Key) and self._is_quit_key(event.key)
        if self.is_current and self._takes_text(event):
            name = self.query_one(NameInput)
            if self.focused is not name and not isinstance(self.focused, Input):
                self.set_focus(name)
        return True

    def _takes_text(self, event: events.Key | events.Paste) -> bool:
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
        active = self.app.active_bindings.get(key)
        return active is not None and active.binding.action == "quit"

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """Textual's, with each switch key described by the current scenario's switch."""
        active = super().active_bindings
        options = self.scenario.options
        for key, (node, binding, enabled, tooltip) in active.items():
            if node is self and binding.action.startswith("toggle_option("):
                index = int(binding.action.removeprefix("toggle_option(").rstrip(")"))
                label = options[index].short if index < len(options) else ""
                binding = dataclasses.replace(binding, description=label)
                active[key] = ActiveBinding(node, binding, enabled, tooltip)
        return active

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.too_small:
            return False  # the key bar offers only what works on a screen too small to use
        if action == "stop_bulk":
            return self.bulk_running
        if action == "toggle_option":
            index = parameters[0]
            return isinstance(index, int) and index < len(self.scenario.options)
        return True

    # -------------------------------------------------------------- scenario
    def action_pick_scenario(self) -> None:
        from .screens import ScenarioPicker  # dialogs load on first use, not at start-up

        self.app.push_screen(ScenarioPicker(self.scenario.name), self.switch_scenario)

    def action_diagnose(self) -> None:
        """Open the paste-and-diagnose screen; what it names opens here, live."""
        from .diagnose_screen import DiagnoseScreen

        self.app.push_screen(DiagnoseScreen(), self.open_scenario)

    def action_tour(self) -> None:
        """Open the guided tour on this screen's database (it keeps a session of its own)."""
        from .tour import TourScreen

        self.app.push_screen(TourScreen(self.lab.url))

    async def open_scenario(self, chosen: tuple[str, dict[str, bool]] | None) -> None:
        """Switch to a scenario with the given switches, as the diagnosis asks for."""
        if chosen is None:
            return
        name, settings = chosen
        await self.switch_scenario(name)
        wanted = self.scenario.settings(settings)
        self.query_one(SettingsPanel).set_values(wanted)
        self.settings = wanted
        self._refresh_script()
        flags = " ".join(o.flag for o in self.scenario.options if wanted[o.key])
        message = f"Opened {name} {flags}: type a name and press Enter to reproduce it"
        self.call_after_refresh(self.say, message)  # after the switches' own messages

    async def switch_scenario(self, name: str | None) -> None:
        """Make ``name`` the current scenario, its switches at their defaults."""
        if name is None or name == self.scenario.name:
            return
        self.scenario = SCENARIOS[name]
        self.settings = self.scenario.settings()
        await self.query_one(SettingsPanel).show(self.scenario, self.settings)
        self._scenario_changed()
        self.say(f"Scenario: {self.scenario.title}. {self.scenario.summary}")
        self.query_one(NameInput).focus()

    def _scenario_changed(self) -> None:
        self.app.sub_title = self.scenario.title
        self.refresh_bindings()
        self._refresh_script()

    # --------------------------------------------------------------- adding
    async def action_submit_name(self) -> None:
        """Commit what the name field holds, as Enter in it does (the Add button)."""
        await self.query_one(NameInput).action_submit()

    @on(NameInput.Refused)
    def _paste_refused(self, event: NameInput.Refused) -> None:
        self.say(event.reason, error=True)

    @on(NameInput.Submitted, "#name")
    def _name_submitted(self, event: NameInput.Submitted) -> None:
        name = event.value
        problem = name_problem(name)
        if problem is not None:
            self.say(problem, error=True)
            return
        self._seq += 1
        scenario, settings = self.scenario, dict(self.settings)
        if isinstance(event.context, tuple):  # as they were when Enter was handled
            scenario, settings = event.context
        seq = self._seq
        self.last_name = name
        queued = f"#{seq} queued: {preview(name)}"

        async def experiment() -> None:
            await self._experiment(seq, scenario, name, settings)

        if self.jobs.idle:  # a commit with nothing ahead of it is usually done in a frame
            self.frames.hold(on_limit=lambda: self.say(queued))
        else:
            self.say(queued)
        self.jobs.add(experiment, f"experiment #{seq}", what=f"the commit of #{seq}")

    async def _experiment(
        self, seq: int, scenario: Scenario, name: str, settings: dict[str, bool]
    ) -> None:
        result = await self.lab.run(scenario, name, settings, seq=seq)
        self.post_message(ExperimentDone(result))

    async def load_rows(self) -> None:
        """Read the newest rows and the row count, for the table to show (a job)."""
        rows, total = await self.lab.newest_users()
        self.post_message(RowsLoaded(rows, total))

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
        # Held (again, if a slow commit outlasted the hold): the entry and its message
        # go out in the frame that shows the entry, never the message first.
        self.frames.hold()
        log = self.query_one(CommitLog)
        log.add_entry(result, explanation)
        self.say(f"#{result.seq} done: {explanation.headline}", error=not result.outcome.ok)
        if self.query_one(PaneTabs).active == "details":
            self.query_one(DetailsPane).show(result, explanation)
        self.frames.release_after(log)
        # After the frame that shows the entry: read before it, the rows' query (its
        # connection, its statement, its thread hops) ran on the loop the frame waits for.
        self.call_after_refresh(self.jobs.add, self._read_new_rows, "read new users")

    @on(UsersAdded)
    def _users_added(self, message: UsersAdded) -> None:
        self._show_rows(message.rows, self._total_rows + len(message.rows))

    @on(RowsLoaded)
    def _rows_loaded(self, message: RowsLoaded) -> None:
        self._seen_uid = max((uid for uid, _ in message.rows), default=0)
        if not self._frozen:
            self._frozen = True
            # What start-up made lives as long as the app: out of the collector's sight, a
            # full collection (which a bulk add's many rows set off) walks far fewer objects.
            self.call_after_refresh(gc.freeze)
        self.query_one(UsersTable).replace_users(message.rows)
        self._show_rows([], message.total)
        if message.note:
            self.say(message.note)

    def _show_rows(self, rows: list[tuple[int, str]], total: int) -> None:
        table = self.query_one(UsersTable)
        table.add_users(rows)
        self._total_rows = total
        shown = min(total, table.MAX_ROWS)
        count = plural(total, "row")
        table.border_subtitle = f"{shown:,} of {count}" if total > shown else count

    @on(LabProblem)
    def _lab_problem(self, message: LabProblem) -> None:
        self.say(message.text, error=True)
        self.frames.release()

    def say(self, text: str, error: bool = False) -> None:
        """Show a one-line message under the form; user text is never markup."""
        self.query_one(AddForm).say(text, error)

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
            key = self.scenario.options[index].key
            self.settings[key] = self.query_one(SettingsPanel).flip(key)

    @on(SettingsPanel.Changed)
    def _switch_changed(self, event: SettingsPanel.Changed) -> None:
        if event.key in self.settings:
            self.settings[event.key] = event.value
            self.say(f"{event.key} {'on' if event.value else 'off'}: applies to the next commit")
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
        self.app.copy_to_clipboard(self._script_text())
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
            self.say(reason, error=True)
            others = [place for place in self._save_places() if place != path.parent]
            if others:

                def retry(place: Path | None) -> None:
                    if place is not None:
                        self._write(filename, text, what, place)

                from .screens import SaveElsewhere  # dialogs load on first use, not at start-up

                self.app.push_screen(SaveElsewhere(reason, others), retry)
            return
        if self.app.is_web:
            # Served to a browser: the folder is the server's and goes with the tab, so the
            # file travels to the student's own machine as a download.
            self.app.deliver_text(path, save_filename=filename, open_method="download")
            self.say(f"{what} sent to your browser as {visible(filename)}")
            self.notify(visible(filename), title=f"{what} sent to your browser", markup=False)
            return
        self.say(f"{what} saved to {visible(str(path))}")
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
        if not self.app.is_screen_installed("bulk-dialog"):
            from .screens import BulkDialog  # dialogs load on first use, not at start-up

            self.app.install_screen(BulkDialog(), "bulk-dialog")
        self.app.push_screen("bulk-dialog", self._bulk_answered)

    def _bulk_answered(self, count: int | None) -> None:
        if count is None:
            return
        self.say(f"Bulk add of {count:,} users queued.")
        self.jobs.add(
            lambda: self._bulk(count), f"bulk add {count}", what=f"the bulk add of {count:,}"
        )

    async def _bulk(self, count: int) -> None:
        self._bulk_stop = False
        self.call_later(self._bulk_started, count)
        from ..core.bulk import bulk_add  # loaded on first use, not at start-up

        # Its rows are short-lived and free no cycles; the collector, set off by their
        # sheer number, would only pause the loop, pass after pass, to find nothing.
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
        rows, total = list(result.rows), result.total  # read by bulk_add, which never raises
        self._seen_uid = max([self._seen_uid, *(uid for uid, _ in rows)])
        self.post_message(BulkDone(result, rows, total))

    def _bulk_started(self, count: int) -> None:
        self.query_one(BulkMeter).show_progress(0, count)
        self.bulk_running = True

    def action_stop_bulk(self) -> None:
        self._bulk_stop = True
        self.say("Stopping after the batch in flight…")

    def _post_bulk_progress(self, done: int, total: int) -> None:
        self.post_message(BulkProgress(done, total))

    @on(BulkProgress)
    def _bulk_progress(self, message: BulkProgress) -> None:
        self.query_one(BulkMeter).show_progress(message.done, message.total)

    @on(BulkDone)
    def _bulk_done(self, message: BulkDone) -> None:
        result = message.result
        self.bulk_running = False
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
        self.say(text, error=result.error is not None)

    # ---------------------------------------------------------------- reset
    def action_reset_tables(self) -> None:
        tables = sorted(Model.metadata.tables)
        from .screens import ConfirmReset  # dialogs load on first use, not at start-up

        self.app.push_screen(ConfirmReset(tables, describe(self.lab.url)), self._reset_answered)

    def _reset_answered(self, agreed: bool | None) -> None:
        if not agreed:
            self.say("Reset cancelled: nothing was dropped.")
            return
        self.say("Dropping the playground's tables…")
        self.jobs.add(self._reset, "reset tables", what="the table reset")

    async def _reset(self) -> None:
        try:
            await self.lab.reset()
        except LabClosed:
            raise
        except Exception as exc:
            self.post_message(LabProblem(f"reset failed: {exc}"))
            return
        note = "Tables dropped and re-created: the users table is empty."
        self.post_message(RowsLoaded([], 0, note=note))


def plural(count: int, one: str, many: str | None = None) -> str:
    """``count`` and the noun that goes with it: 1 batch, 2 batches, 1,000 rows."""
    return f"{count:,} {one if count == 1 else many or one + 's'}"

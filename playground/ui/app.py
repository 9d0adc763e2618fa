"""The Textual app: settings, the add-user form, the users table, the live log and panes.

It never touches SQLAlchemy objects itself: it queues intent to the lab, one job after
another on its own asyncio loop, and renders the plain results that come back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path

import sqlalchemy
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical
from textual.widgets import (
    Button,
    Footer,
    Header,
    OptionList,
    Static,
    Switch,
    TabbedContent,
    TabPane,
)

from ..core.database import DatabaseProblem, describe
from ..core.export import log_markdown
from ..core.lab import Lab, LabClosed
from ..core.names import name_problem
from ..core.scenarios import DEFAULT_SCENARIO, SCENARIOS, Scenario
from .messages import ExperimentDone, LabProblem, RowsLoaded
from .render import preview, script_view
from .widgets import CommitLog, DetailsPane, NameInput, OptionSwitch, UsersTable

Job = Callable[[], Awaitable[None]]
OPTION_KEYS = ("f2", "f3")


class PlaygroundApp(App[None]):
    """Flip switches, add users, and watch what each commit really did."""

    CSS_PATH = "app.tcss"
    TITLE = "playground"
    BINDINGS = [
        Binding("f2", "toggle_option(0)", "expire", id="toggle-option-1", priority=True),
        Binding("f3", "toggle_option(1)", "refresh", id="toggle-option-2", priority=True),
        Binding("f4", "show_details", "details", id="show-details", priority=True),
        Binding("f5", "show_script", "script", id="show-script", priority=True),
        Binding("f6", "copy_script", "copy", id="copy-script", priority=True),
        Binding("f7", "save_script", "save", id="save-script", priority=True),
        Binding("f8", "export_log", "export", id="export-log", priority=True),
        Binding("escape", "show_log", "log", id="show-log", show=False),
        Binding("ctrl+q", "quit", "quit", id="quit", priority=True),
        Binding("q", "quit", "quit", id="quit-q", show=False),
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
        self._seq = 0
        self._seen_uid = 0
        self._total_rows = 0
        self._tail: asyncio.Future[None] | None = None
        self._closing = False

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        yield Header(icon="▶")
        yield Static(self._status_text(), id="status")
        with Horizontal(id="top"):
            with Vertical(id="settings") as settings:
                settings.border_title = "Settings"
                for index, option in enumerate(self.scenario.options):
                    key = OPTION_KEYS[index].upper() if index < len(OPTION_KEYS) else ""
                    yield OptionSwitch(option, self.settings[option.key], key)
            with Vertical(id="form") as form:
                form.border_title = "Add user"
                with Horizontal(id="form-row"):
                    yield NameInput(placeholder="name, then Enter", id="name")
                    yield Button("Add", id="add", variant="primary")
                yield Static(Text("Enter commits; F2/F3 flip the switches.", "dim"), id="message")
        with Horizontal(id="main"):
            table = UsersTable(id="users")
            table.border_title = "Users"
            yield table
            with TabbedContent(id="tabs"):
                with TabPane("Log", id="tab-log"):
                    yield CommitLog(id="log")
                with TabPane("Details", id="tab-details"):
                    yield DetailsPane(id="details")
                with TabPane("Script", id="tab-script"):
                    with ScrollableContainer(id="script-pane"):
                        yield Static(id="script")
        yield Footer()

    def _status_text(self) -> Text:
        return Text.assemble(
            ("DB ", "bold"),
            (describe(self.lab.url), ""),
            (f"  ·  SQLAlchemy {sqlalchemy.__version__}", "dim"),
        )

    async def on_mount(self) -> None:
        self.sub_title = self.scenario.title
        self.query_one(NameInput).focus()
        self._refresh_script()
        self._enqueue(self._open_lab)

    async def _open_lab(self) -> None:
        try:
            if self.lab.engine is None:
                await self.lab.open()
            rows = await self.lab.fetch_users()
            total = await self.lab.count_users()
        except DatabaseProblem as exc:
            self.exit(return_code=2, message=Text(str(exc)))
            return
        self._seen_uid = max((uid for uid, _ in rows), default=0)
        self.post_message(RowsLoaded(rows, total, replace=True))

    # ------------------------------------------------------------ job queue
    def _enqueue(self, job: Job) -> None:
        """Run ``job`` after every job queued before it, so the session sees one at a time."""
        previous = self._tail
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tail = done
        self._run_job(job, previous, done)

    @work(group="lab", exit_on_error=False)
    async def _run_job(
        self, job: Job, previous: asyncio.Future[None] | None, done: asyncio.Future[None]
    ) -> None:
        try:
            if previous is not None:
                await asyncio.shield(previous)
            if not self._closing:
                await job()
        except LabClosed:
            pass
        finally:
            if previous is not None and not previous.done():
                previous.add_done_callback(lambda _: done.done() or done.set_result(None))
            elif not done.done():
                done.set_result(None)

    # --------------------------------------------------------------- adding
    @on(Button.Pressed, "#add")
    async def _add_pressed(self) -> None:
        await self.query_one(NameInput).action_submit()

    @on(NameInput.Submitted, "#name")
    def _name_submitted(self, event: NameInput.Submitted) -> None:
        name = event.value
        problem = name_problem(name)
        if problem is not None:
            self._say(problem, error=True)
            return
        self._seq += 1
        seq, settings = self._seq, dict(self.settings)
        self.last_name = name
        self._say(f"#{seq} queued: {preview(name)}")

        async def experiment() -> None:
            await self._experiment(seq, name, settings)

        self._enqueue(experiment)

    async def _experiment(self, seq: int, name: str, settings: dict[str, bool]) -> None:
        result = await self.lab.run(self.scenario, name, settings, seq=seq)
        rows: list[tuple[int, str]] = []
        try:
            rows = await self.lab.fetch_users(after_uid=self._seen_uid)
        except LabClosed:
            raise
        except Exception as exc:
            self.post_message(LabProblem(f"could not read the users table: {exc}"))
        self._seen_uid = max([self._seen_uid, *(uid for uid, _ in rows)])
        self.post_message(ExperimentDone(result, rows))

    @on(ExperimentDone)
    def _experiment_done(self, message: ExperimentDone) -> None:
        result = message.result
        explanation = self.scenario.explain(result)
        self.query_one(CommitLog).add_entry(result, explanation)
        self._show_rows(message.new_rows, self._total_rows + len(message.new_rows))
        self._say(f"#{result.seq} done: {explanation.headline}", error=not result.outcome.ok)
        if self.query_one(TabbedContent).active == "tab-details":
            self.query_one(DetailsPane).show(result, explanation)

    @on(RowsLoaded)
    def _rows_loaded(self, message: RowsLoaded) -> None:
        if message.replace:
            self.query_one(UsersTable).clear()
        self._show_rows(message.rows, message.total)

    def _show_rows(self, rows: list[tuple[int, str]], total: int) -> None:
        table = self.query_one(UsersTable)
        table.add_users(rows)
        self._total_rows = total
        shown = table.row_count
        table.border_subtitle = f"{total:,} row{'' if total == 1 else 's'}" + (
            f", last {shown:,} shown" if total > shown else ""
        )

    @on(LabProblem)
    def _lab_problem(self, message: LabProblem) -> None:
        self._say(message.text, error=True)

    def _say(self, text: str, error: bool = False) -> None:
        """Show a one-line message under the form; user text is never markup."""
        self.query_one("#message", Static).update(Text(text, "bold red" if error else "dim"))

    # ------------------------------------------------------------- settings
    def action_toggle_option(self, index: int) -> None:
        if index < len(self.scenario.options):
            switch = self.query_one(f"#switch-{self.scenario.options[index].key}", Switch)
            switch.toggle()

    @on(Switch.Changed)
    def _switch_changed(self, event: Switch.Changed) -> None:
        key = (event.switch.id or "").removeprefix("switch-")
        if key in self.settings:
            self.settings[key] = event.value
            self._say(f"{key} {'on' if event.value else 'off'}: applies to the next commit")
            self._refresh_script()

    # ---------------------------------------------------------------- panes
    def _refresh_script(self) -> None:
        script = self.scenario.script(self.settings, str(self.lab.url), self.last_name)
        self.query_one("#script", Static).update(script_view(script))

    def action_show_log(self) -> None:
        self.query_one(TabbedContent).active = "tab-log"

    def action_show_script(self) -> None:
        self.query_one(TabbedContent).active = "tab-script"

    def action_show_details(self) -> None:
        self.query_one(TabbedContent).active = "tab-details"
        self._show_selected()

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "tab-details":
            self._show_selected()

    @on(OptionList.OptionSelected, "#log")
    def _entry_selected(self) -> None:
        self.action_show_details()

    def _show_selected(self) -> None:
        entry = self.query_one(CommitLog).selected_entry()
        if entry is not None:
            self.query_one(DetailsPane).show(*entry)

    # -------------------------------------------------------------- exports
    def _script_text(self) -> str:
        return self.scenario.script(self.settings, str(self.lab.url), self.last_name).text

    def action_copy_script(self) -> None:
        self.copy_to_clipboard(self._script_text())
        self.notify(
            "Script sent to the clipboard (OSC 52: some terminals ignore it). "
            "F7 saves it to a file.",
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

    def _write(self, filename: str, text: str, what: str) -> None:
        path = self.exports_dir / filename
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self._say(f"{what} not saved: {exc}", error=True)
            return
        self.last_export = path
        self._say(f"{what} saved to {path}")
        self.notify(str(path), title=f"{what} saved", markup=False)

    # ----------------------------------------------------------------- exit
    async def action_quit(self) -> None:
        """Let the running commit finish, close the session and engine, then exit."""
        self._closing = True
        await self.lab.close()
        self.exit()

    async def on_unmount(self) -> None:
        self._closing = True
        await self.lab.close()


def make_app(
    db: str | None = None,
    *,
    scenario: str = DEFAULT_SCENARIO,
    settings: Mapping[str, bool] | None = None,
    exports_dir: Path | None = None,
) -> PlaygroundApp:
    """Build the app exactly as the command line does; tests call this too."""
    from ..core.database import default_url

    return PlaygroundApp(
        Lab(db or default_url()), SCENARIOS[scenario], settings, exports_dir=exports_dir
    )

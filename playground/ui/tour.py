"""The guided tour on screen: predict what a line does, run it for real, then fix it.

``TourScreen(url)`` opens its own ``Lab`` on ``url`` when mounted and closes it when
the learner leaves, so it can be pushed on any app without sharing that app's session:
``app.push_screen(TourScreen(lab.url))`` (pass the ``URL`` object, not ``str()`` of it,
which would hide the password). Escape or q leaves: the screen is dismissed, or, when it
is the app's only screen, the app exits. ``TourApp(url, restart=False, lesson=None)`` is
the app of ``playground tour`` whose only screen is the tour.

The screen's ``phase`` is a reactive; its watcher sets CSS classes and the style sheet
decides what shows. Every run is an async worker on the app's loop that grades and saves
before it reports back, so leaving right after a guess keeps the guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from sqlalchemy.engine import URL
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Button, Footer, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker

from ..core.database import DatabaseProblem, describe
from ..core.lab import Lab, LabClosed
from ..core.names import visible
from ..core.results import ExperimentResult
from ..core.tour import (
    TOUR_NAME,
    Excerpt,
    FixTry,
    Grade,
    Lesson,
    Summary,
    Tour,
    View,
    classify,
    differing,
    works,
)
from .tour_text import (
    DIM,
    FAIL,
    OK,
    fix_verdict,
    guess_verdict,
    primer_text,
    resume_text,
    run_lines,
    summary_table,
    switch_prompt,
)


@dataclass
class TourLabOpened(Message):
    """The tour's lab is open, or could not be opened (``problem`` says why)."""

    problem: str | None


@dataclass
class TourRunDone(Message):
    """A lesson's scenario ran, already graded and saved: for the guess or a fix try."""

    purpose: str
    lesson: str
    result: ExperimentResult | None
    grade: Grade | None = None
    judged: FixTry | None = None
    note: str = ""
    problem: str = ""


LOADING, PRIMER, GUESS, RUNNING, FIX, SOLVED, SUMMARY, BROKEN = (
    "loading",
    "primer",
    "guess",
    "running",
    "fix",
    "solved",
    "summary",
    "broken",
)
PHASES = (LOADING, PRIMER, GUESS, RUNNING, FIX, SOLVED, SUMMARY, BROKEN)
IN_LESSON = (GUESS, RUNNING, FIX, SOLVED)
KINDS = {True: "fix", False: "fix: off", None: "variation"}
"""How a switch is labelled by the position that fixes the read."""


class TourScreen(Screen[None]):
    """Lessons one after another: guess the ending, see the real one, make it work."""

    DEFAULT_CSS = """
    TourScreen { layout: vertical; overflow: hidden hidden; }
    #tour-title { height: auto; padding: 0 1; background: $boost; }
    #tour-primer { height: 1fr; padding: 0 1; display: none; }
    #tour-code { height: auto; border: round $primary; padding: 0 1; display: none; }
    #tour-spacer { height: 1fr; min-height: 0; }
    #tour-question { height: auto; padding: 0 1; text-style: bold; display: none; }
    #tour-choices, #tour-switches {
        height: auto; max-height: 6; border: none; padding: 0 1; display: none;
    }
    #tour-outcome { height: auto; padding: 0 1; display: none; }
    #tour-outcome-text { height: auto; }
    #tour-actions { height: 1; padding: 0 1; display: none; }
    #tour-actions Button { height: 1; min-width: 0; border: none; margin-right: 2; display: none; }
    #tour-status { height: auto; max-height: 4; padding: 0 1; }
    #tour-summary { height: 1fr; padding: 0 1; display: none; }

    TourScreen.-primer #tour-primer { display: block; }
    TourScreen.-lesson #tour-code { display: block; }
    TourScreen.-asking #tour-question { display: block; }
    TourScreen.-asking #tour-choices { display: block; }
    TourScreen.-answered #tour-outcome { display: block; }
    TourScreen.-answered.-switches #tour-switches { display: block; }
    TourScreen.-primer #tour-actions,
    TourScreen.-fix #tour-actions,
    TourScreen.-solved #tour-actions,
    TourScreen.-summary #tour-actions,
    TourScreen.-running.-answered #tour-actions { display: block; }
    TourScreen.-primer #tour-start-button { display: block; }
    TourScreen.-answered.-switches #tour-run-button { display: block; }
    TourScreen.-fix #tour-hint-button { display: block; }
    TourScreen.-solved #tour-next-button { display: block; }
    TourScreen.-summary #tour-again-button { display: block; }
    TourScreen.-summary #tour-summary { display: block; }
    TourScreen.-summary #tour-spacer, TourScreen.-primer #tour-spacer { display: none; }
    """

    BINDINGS = [
        *(
            Binding(str(n), f"number({n})", f"pick {n}", show=False, id=f"tour-number-{n}")
            for n in range(1, 10)
        ),
        Binding("r", "run_fix", "run it", id="tour-run"),
        Binding("h", "hint", "hint", id="tour-hint"),
        Binding("n", "next", "next", id="tour-next"),
        Binding("t", "again", "tour again", id="tour-again"),
        Binding("f", "all_code", "all code", id="tour-all-code"),
        Binding("f", "fold_code", "fold code", id="tour-fold-code"),
        Binding("pageup", "code(-1)", "code ↑", id="tour-code-up", priority=True),
        Binding("pagedown", "code(1)", "code ↓", id="tour-code-down", priority=True),
        Binding("escape,q", "leave", "leave", id="tour-leave"),
    ]

    phase = reactive(LOADING, always_update=True, init=False)
    """Where the learner is; the watcher turns it into CSS classes."""

    def __init__(
        self,
        url: str | URL,
        *,
        restart: bool = False,
        progress_path: Path | None = None,
        lesson: str | None = None,
    ) -> None:
        super().__init__()
        text = url.render_as_string(hide_password=False) if isinstance(url, URL) else url
        self.lab = Lab(text)
        self.tour = Tour(progress_path, restart=restart, lesson=lesson)
        self.lesson: Lesson | None = None
        self.settings: dict[str, bool] = {}
        self.last_result: ExperimentResult | None = None
        self.wrong_tries = 0
        self.hint_level = 0
        self.seen_kinds: set[str] = set()
        self.guessed = False
        self._standalone = False
        self._lab_closed = False
        self._excerpt: Excerpt | None = None
        self._scroll_targets: list[int] = []
        self._code_starts: list[int] = []
        """The first row of each excerpt line in the code box, as last drawn."""
        self._code_view: View | None = None
        """What the code box shows when it folds lines away, as last drawn; None: all."""
        self._all_code = False
        """True after f: the whole excerpt, scrolled, instead of the folded view."""
        self._worker: Worker[None] | None = None
        self.summary: Summary | None = None

    # ------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        yield Static(id="tour-title")
        with VerticalScroll(id="tour-primer"):
            yield Static(primer_text(), id="tour-primer-text")
        with VerticalScroll(id="tour-code"):
            yield Static(id="tour-code-text")
        yield Static(id="tour-question")
        yield OptionList(id="tour-choices")
        with VerticalScroll(id="tour-outcome"):
            yield Static(id="tour-outcome-text")
        yield OptionList(id="tour-switches")
        with VerticalScroll(id="tour-summary"):
            yield Static(id="tour-summary-text")
        with Horizontal(id="tour-actions"):
            yield Button(
                "Start (Enter)", id="tour-start-button", variant="primary", action="screen.next"
            )
            yield Button(
                "Run it (r)", id="tour-run-button", variant="primary", action="screen.run_fix"
            )
            yield Button("Hint (h)", id="tour-hint-button", action="screen.hint")
            yield Button(
                "Next lesson (n)", id="tour-next-button", variant="success", action="screen.next"
            )
            yield Button("Tour again (t)", id="tour-again-button", action="screen.again")
        yield Static(id="tour-status")
        yield Static(id="tour-spacer")
        yield Footer()

    def watch_phase(self) -> None:
        self._restyle()

    def _restyle(self) -> None:
        """Turn the phase into classes; the style sheet decides what shows."""
        phase = self.phase
        asking = phase == GUESS or (phase == RUNNING and not self.guessed)
        for name in PHASES:
            self.set_class(phase == name, f"-{name}")
        self.set_class(phase in IN_LESSON, "-lesson")
        self.set_class(asking, "-asking")
        self.set_class(phase in IN_LESSON and not asking, "-answered")
        self.set_class(bool(self.settings), "-switches")
        self.refresh_bindings()
        self.call_after_refresh(self._fit_code)

    def on_mount(self) -> None:
        self._standalone = len(self.app.screen_stack) <= 1
        code = self.query_one("#tour-code", VerticalScroll)
        code.border_title = "Loading"
        self.watch(code, "scroll_y", self._say_hidden_rows, init=False)
        self.watch(code, "virtual_size", self._say_hidden_rows, init=False)
        self.phase = LOADING
        self._say(Text(f"Opening {describe(self.lab.url)}…", DIM))
        if self.tour.load_message:
            self.notify(self.tour.load_message, severity="warning", markup=False, timeout=10)
        self.run_worker(self._open_lab(), group="tour", exit_on_error=False)

    async def _open_lab(self) -> None:
        try:
            await self.lab.open()
        except DatabaseProblem as exc:
            self.post_message(TourLabOpened(str(exc)))
            return
        self.post_message(TourLabOpened(None))

    @on(TourLabOpened)
    def _lab_opened(self, message: TourLabOpened) -> None:
        if message.problem is not None:
            if self._standalone:
                self.app.exit(return_code=2, message=Text(f"playground: {message.problem}"))
                return
            self.phase = BROKEN
            self._say(Text(f"The tour cannot start: {message.problem}", FAIL))
            return
        if not self.tour.progress.lessons:
            self._show_primer()
            return
        self._start_lesson()

    def on_resize(self) -> None:
        if self.lesson is not None and self.phase in IN_LESSON:
            self._title()
        self.call_after_refresh(self._fit_code)

    def _fit_code(self, passes: int = 3) -> None:
        """Share the rows the other widgets leave between the code and the outcome.

        The code keeps at least a few rows (more when it is short), the outcome takes what
        it needs up to the rest and scrolls beyond it, so the status line never falls off.
        """
        code = self.query_one("#tour-code", VerticalScroll)
        outcome = self.query_one("#tour-outcome", VerticalScroll)
        shared = ("tour-code", "tour-spacer", "tour-outcome")
        others = sum(
            child.outer_size.height
            for child in self.children
            if child.display and child.id not in shared
        )
        room = self.size.height - others
        lines = len(self._excerpt.lines) if self._excerpt is not None else 0
        code_least = min(lines + 2, 7)
        need = self.query_one("#tour-outcome-text").outer_size.height if outcome.display else 0
        outcome_room = max(3, room - code_least)
        code_room = max(4, room - min(need, outcome_room))
        for widget, value in ((outcome, outcome_room), (code, code_room)):
            current = widget.styles.max_height
            if current is None or current.value != value:
                widget.styles.max_height = value
        if passes > 1:  # sizes read here may predate the last change of what is shown
            self.call_after_refresh(self._fit_code, passes - 1)
        else:
            self.call_after_refresh(self._render_code)

    def _render_code(self) -> None:
        """Draw the excerpt at the box's width and scroll the lines that matter into view.

        Code taller than the box is folded: the lines the answer depends on, the line a
        switch just changed and as many others as fit are shown, the rest folded into
        marker lines, unless the learner asked for all of it (f).
        """
        if self._excerpt is None:
            return
        box = self.query_one("#tour-code", VerticalScroll)
        width = box.content_region.width or max(20, self.size.width - 4)
        limit = box.styles.max_height
        room = int(limit.value) - box.styles.gutter.height if limit is not None else 0
        from .tour_text import layout_code

        text, starts, view = layout_code(
            self._excerpt,
            width,
            room,
            box.styles.scrollbar_size_vertical,
            frozenset(self._scroll_targets),
            folding=not self._all_code,
        )
        was_folded = self._folded()
        self._code_view = view
        if self._folded() != was_folded:  # f's key shows only while it has work to do
            self.refresh_bindings()
        self._code_starts = starts
        self.query_one("#tour-code-text", Static).update(text)
        self.call_after_refresh(self._scroll_code, starts)

    def _folded(self) -> bool:
        """True when the code box shows a folded view (some lines behind markers)."""
        return self._code_view is not None and bool(self._code_view.folds)

    def _scroll_code(self, starts: list[int]) -> None:
        """Scroll so the marked line shows, and the lines a switch just changed, if any."""
        if self._excerpt is None:
            return
        box = self.query_one("#tour-code", VerticalScroll)
        height = max(1, box.scrollable_content_region.height)
        total = box.virtual_size.height
        wanted = [self._excerpt.focus, *self._scroll_targets]
        rows = [starts[i] for i in wanted if 0 <= i < len(starts)]
        ends = [
            (starts[i + 1] - 1 if i + 1 < len(starts) else total)
            for i in wanted
            if 0 <= i < len(starts)
        ]
        if not rows:
            return
        low, high = min(rows), max(ends)
        if high - low + 1 > height:  # both do not fit: the changed line wins
            low = min(starts[i] for i in self._scroll_targets) if self._scroll_targets else low
            high = low
        y = box.scroll_y
        if low < y:
            y = low
        if high >= y + height:
            y = high - height + 1
        box.scroll_to(y=max(0, y), animate=False)
        self.call_after_refresh(self._say_hidden_rows)

    def _say_hidden_rows(self) -> None:
        """Name, under the code, the rows scrolled out of view above and below it."""
        box = self.query_one("#tour-code", VerticalScroll)
        total = box.virtual_size.height
        height = box.scrollable_content_region.height
        above = max(0, round(box.scroll_y))
        below = max(0, total - above - height)
        parts = [f"↑ {above} more" if above else "", f"↓ {below} more" if below else ""]
        shown = " · ".join(part for part in parts if part)
        notes = [f"{shown} (PgUp/PgDn)" if shown else ""]
        trailing = self._code_view.trailing if self._code_view is not None else None
        if trailing is not None:
            notes.append(f"{trailing.hidden} more line{'s' * (trailing.hidden != 1)} folded")
        if self._folded():
            notes.append("f: all code")
        elif self._all_code:
            notes.append("f: fold")
        box.border_subtitle = " · ".join(note for note in notes if note)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        phase = self.phase
        switches = bool(self.settings)
        if action == "number":
            return phase == GUESS or (phase in (FIX, SOLVED) and switches)
        if action == "run_fix":
            return phase in (FIX, SOLVED) and switches
        if action == "hint":
            return phase == FIX
        if action == "next":
            return phase in (SOLVED, PRIMER)
        if action == "again":
            return phase == SUMMARY
        if action == "code":
            return phase in IN_LESSON
        if action == "all_code":
            return phase in IN_LESSON and self._folded()
        if action == "fold_code":
            return phase in IN_LESSON and self._all_code
        return True

    # ------------------------------------------------------------ lessons
    def _show_primer(self) -> None:
        self.query_one("#tour-title", Static).update(
            Text.assemble(("Tour", "bold"), (f" · {len(self.tour.lessons)} lessons", DIM))
        )
        self.phase = PRIMER
        self.query_one("#tour-start-button").focus()
        first = self.tour.current()
        number = first.number if first is not None else 1
        self._say(Text(f"Enter or n starts lesson {number}.", DIM))

    def _start_lesson(self) -> None:
        lesson = self.tour.current()
        self.lesson = lesson
        self.last_result = None
        self.wrong_tries = 0
        self.hint_level = 0
        self.seen_kinds = set()
        self._scroll_targets = []
        self._all_code = False
        if lesson is None:
            self._show_summary()
            return
        record = self.tour.record(lesson)
        self.guessed = record is not None
        self._title()
        if record is None:
            self.settings = {}
            self._show_code(lesson.settings())
            self.query_one("#tour-question", Static).update(Text(lesson.question, "bold"))
            choices = self.query_one("#tour-choices", OptionList)
            choices.clear_options()
            choices.add_options(
                Option(Text.assemble((f"{n} ", "bold"), lesson.label_of(choice)), id=choice.key)
                for n, choice in enumerate(lesson.choices, start=1)
            )
            choices.highlighted = 0
            self.phase = GUESS
            choices.focus()
            count = len(lesson.choices)
            self._say(Text(f"Pick 1 to {count} (or click): then it runs for real.", DIM))
            return
        # Guessed in an earlier session, but not fixed yet: straight to "make it work".
        self.seen_kinds.add(record.real)
        self.query_one("#tour-outcome-text", Static).update(
            resume_text(lesson, record.right, record.guess_label, record.real_label)
        )
        self._enter_fix(resumed=True)

    def _title(self) -> None:
        lesson = self.lesson
        if lesson is None:
            return
        summary = self.tour.summary()
        width = max(20, self.size.width - 2)
        parts = [
            (f"Lesson {lesson.number} of {len(self.tour.lessons)}", "bold"),
            (" · ", DIM),
            (lesson.title, "bold"),
            (f" · score {summary.right}/{summary.answered}", "cyan"),
        ]
        title = Text.assemble(*parts, (f" · {lesson.group}", DIM))
        if title.cell_len > width:
            title = Text.assemble(*parts)
        if title.cell_len > width:
            parts[0] = (f"{lesson.number}/{len(self.tour.lessons)}", "bold")
            title = Text.assemble(*parts)
        self.query_one("#tour-title", Static).update(title)

    def _show_code(self, settings: dict[str, bool], previous: Excerpt | None = None) -> None:
        assert self.lesson is not None
        excerpt = self.lesson.excerpt(settings, self.lab.url.render_as_string())
        box = self.query_one("#tour-code", VerticalScroll)
        box.border_title = "▶ the line in question  • a switch changes it"
        self._scroll_targets = sorted(differing(previous, excerpt)) if previous else []
        self._excerpt = excerpt
        self.call_after_refresh(self._fit_code)

    def _enter_fix(self, resumed: bool = False) -> None:
        lesson = self.lesson
        assert lesson is not None
        self.settings = lesson.settings()
        self._show_code(self.settings)
        self._show_switches()
        self.phase = FIX
        self.query_one("#tour-switches").focus()
        start = "Welcome back. " if resumed else ""
        count = len(lesson.scenario.options)
        keys = {1: "1", 2: "1 or 2"}.get(count, f"1 to {count}")
        self._say(
            Text.assemble(
                (f"{start}Make it work: ", "bold"),
                (f"flip a fix switch ({keys}, or click), then r to run it again.", ""),
            )
        )

    def _show_switches(self) -> None:
        assert self.lesson is not None
        switches = self.query_one("#tour-switches", OptionList)
        highlighted = switches.highlighted
        switches.clear_options()
        switches.add_options(
            Option(
                switch_prompt(
                    n,
                    option.label,
                    option.hint,
                    self.settings[option.key],
                    KINDS[option.fixing_value],
                ),
                id=option.key,
            )
            for n, option in enumerate(self.lesson.scenario.options, start=1)
        )
        switches.highlighted = highlighted if highlighted is not None else 0

    def _show_summary(self) -> None:
        self.settings = {}
        self.query_one("#tour-title", Static).update(
            Text.assemble(("Tour", "bold"), (f" · {len(self.tour.lessons)} lessons", DIM))
        )
        self.summary = self.tour.summary()
        self.query_one("#tour-summary-text", Static).update(summary_table(self.summary))
        self.phase = SUMMARY
        self.query_one("#tour-summary").focus()  # arrows scroll; t (not Enter) starts over
        self._say(Text("Answers are kept; t (or playground tour --restart) starts over.", DIM))

    # ------------------------------------------------------------ actions
    def action_number(self, number: int) -> None:
        if self.phase == GUESS:
            self._guess(number - 1)
        elif self.phase in (FIX, SOLVED):
            self._toggle(number - 1)

    @on(OptionList.OptionSelected, "#tour-choices")
    def _choice_clicked(self, event: OptionList.OptionSelected) -> None:
        if self.phase == GUESS:
            self._guess(event.option_index)

    @on(OptionList.OptionSelected, "#tour-switches")
    def _switch_clicked(self, event: OptionList.OptionSelected) -> None:
        if self.phase in (FIX, SOLVED):
            self._toggle(event.option_index)

    def action_all_code(self) -> None:
        """Unfold: the whole excerpt, scrolled to the line in question."""
        self._all_code = True
        self.refresh_bindings()
        self.call_after_refresh(self._fit_code)

    def action_fold_code(self) -> None:
        """Fold again: the lines the answer depends on, the rest behind markers."""
        self._all_code = False
        self.refresh_bindings()
        self.call_after_refresh(self._fit_code)

    def action_code(self, direction: int) -> None:
        box = self.query_one("#tour-code", VerticalScroll)
        step = max(1, box.scrollable_content_region.height - 1)
        box.scroll_to(y=max(0, box.scroll_y + direction * step), animate=False)

    def _guess(self, index: int) -> None:
        lesson = self.lesson
        if lesson is None or not 0 <= index < len(lesson.choices):
            return
        choice = lesson.choices[index]
        self.phase = RUNNING
        self._say(
            Text.assemble(
                ("You said: ", DIM), (lesson.label_of(choice), "yellow"), (" · running…", DIM)
            )
        )
        self._run("guess", lesson, choice.key, lesson.settings())

    def _toggle(self, index: int) -> None:
        lesson = self.lesson
        if lesson is None or not 0 <= index < len(lesson.scenario.options):
            return
        option = lesson.scenario.options[index]
        self.settings[option.key] = not self.settings[option.key]
        self._show_switches()
        self.query_one("#tour-switches", OptionList).highlighted = index
        self._show_code(self.settings, previous=self._excerpt)
        state = "on" if self.settings[option.key] else "off"
        kind = "a fix" if option.fixing_value is not None else "a variation"
        self._say(Text(f"{option.label} {state} ({kind}): r runs it.", DIM))

    def action_run_fix(self) -> None:
        lesson = self.lesson
        if self.phase not in (FIX, SOLVED) or lesson is None or not self.settings:
            return
        self.phase = RUNNING
        self._say(Text("Running it for real…", DIM))
        self._run("fix", lesson, "", dict(self.settings))

    def action_hint(self) -> None:
        lesson = self.lesson
        if lesson is None or self.phase != FIX:
            return
        if not self.wrong_tries:
            self._say(
                Text(
                    "No hint yet: hints follow your own tries. Flip the switch you think "
                    "fixes it and press r; if it still fails, h gives a first hint.",
                    "yellow",
                )
            )
            return
        self.hint_level = min(3, self.hint_level + 1)
        url = self.lab.url.render_as_string()
        more = "" if self.hint_level == 3 else "  (h again: more)"
        self._say(Text(lesson.hint(self.hint_level, self.settings, url) + more, "yellow"))

    def action_next(self) -> None:
        if self.phase == PRIMER:
            self._start_lesson()
            return
        if self.phase != SOLVED or self.lesson is None:
            return
        self.tour.finish(self.lesson)
        self._saved()
        self._start_lesson()

    def action_again(self) -> None:
        if self.phase != SUMMARY:
            return
        self.tour.restart()
        self._saved()
        self._start_lesson()

    async def action_leave(self) -> None:
        """Let a run in flight finish and be saved, close the lab, then leave the tour."""
        await self._finish_run()
        await self._close_lab()
        if self._standalone:
            self.app.exit()
        else:
            self.dismiss()

    async def _finish_run(self) -> None:
        worker = self._worker
        if worker is not None and not worker.is_finished:
            try:
                await worker.wait()
            except Exception:  # cancelled or failed: nothing more to keep
                pass

    async def _close_lab(self) -> None:
        if not self._lab_closed:
            self._lab_closed = True
            await self.lab.close()

    async def on_unmount(self) -> None:
        await self._close_lab()

    # --------------------------------------------------------------- runs
    def _run(
        self, purpose: str, lesson: Lesson, choice_key: str, settings: dict[str, bool]
    ) -> None:
        tour = self.tour

        async def work() -> None:
            try:
                result = await self.lab.run(lesson.scenario, TOUR_NAME, settings)
            except LabClosed:
                return
            except Exception as exc:  # a lost server: said on screen, the tour goes on
                text = f"{type(exc).__name__}: {exc}"
                self.post_message(TourRunDone(purpose, lesson.name, None, problem=text))
                return
            # Graded and saved here, before the message: leaving now loses nothing.
            if purpose == "guess":
                choice = next(c for c in lesson.choices if c.key == choice_key)
                graded = tour.answer(lesson, choice, result)
                note = tour.note(lesson, result)
                self.post_message(TourRunDone(purpose, lesson.name, result, graded, note=note))
            else:
                judged = tour.fix_run(lesson, result, settings)
                note = tour.note(lesson, result, new_only=True)
                self.post_message(
                    TourRunDone(purpose, lesson.name, result, judged=judged, note=note)
                )

        self._worker = self.run_worker(work(), group="tour", exit_on_error=False)

    @on(TourRunDone)
    def _run_done(self, message: TourRunDone) -> None:
        lesson = self.lesson
        if lesson is None or lesson.name != message.lesson:
            return
        result = message.result
        if result is None:
            back = GUESS if message.purpose == "guess" else FIX
            if back == FIX and self.tour.is_done(lesson):
                back = SOLVED
            self.phase = back
            self._say(Text(f"The run failed: {visible(message.problem)}", FAIL))
            return
        self.last_result = result
        if message.grade is not None:
            self._graded(lesson, message.grade, result, message.note)
        elif message.judged is not None:
            self._fix_tried(lesson, message.judged, result, message.note)

    def _graded(self, lesson: Lesson, graded: Grade, result: ExperimentResult, note: str) -> None:
        self.guessed = True
        self.seen_kinds.add(graded.real.key)
        text = guess_verdict(graded, lesson).append("\n").append_text(run_lines(result, note))
        self.query_one("#tour-outcome-text", Static).update(text)
        self._title()
        self._saved()
        if self.tour.needs_fix(lesson, result):
            self._enter_fix()
            return
        self.settings = {}
        self.phase = SOLVED
        self.query_one("#tour-next-button").focus()
        why = "it works as written" if works(result) else "no switch of this scenario fixes it"
        self._say(Text(f"Nothing to fix here: {why}. n: next lesson.", DIM))

    def _fix_tried(
        self, lesson: Lesson, judged: FixTry, result: ExperimentResult, note: str
    ) -> None:
        kind = classify(result).key
        again = kind in self.seen_kinds
        self.seen_kinds.add(kind)
        done = self.tour.is_done(lesson)
        if not judged.works and not done:
            self.wrong_tries += 1
        verdict = fix_verdict(judged, result, lesson, again)
        text = verdict.append("\n").append_text(run_lines(result, note))
        self.query_one("#tour-outcome-text", Static).update(text)
        self._saved()
        if done:
            self.phase = SOLVED
            self.query_one("#tour-next-button").focus()
            if judged.fixed:
                say = (
                    "n (or Enter): next lesson. The switches stay live: "
                    "try another fix, or break it again."
                )
            else:
                say = "Still done: n (or Enter) for the next lesson, or flip switches and r."
            self._say(Text(say, OK if judged.fixed else DIM))
            return
        self.phase = FIX
        self.query_one("#tour-switches").focus()
        if judged.variation_passed:
            self._say(Text("Turn a fix switch on (marked fix), then r.", "yellow"))
        else:
            self._say(Text("Still failing. h: a hint; flip a switch and r to run again.", "yellow"))

    def _saved(self) -> None:
        """Say at once when the last change could not be saved."""
        if self.tour.save_problem:
            self.notify(self.tour.save_problem, severity="error", markup=False, timeout=10)

    def _say(self, text: Text) -> None:
        """Put ``text`` on the status line, with the save problem under it while one lasts."""
        problem = self.tour.save_problem
        if problem:
            text = text.copy().append("\n").append(visible(problem), FAIL)
        self.query_one("#tour-status", Static).update(text)
        if self.phase in IN_LESSON:
            self.call_after_refresh(self._fit_code)


class TourApp(App[None]):
    """``playground tour``: the tour as the app's only screen."""

    TITLE = "playground tour"

    def __init__(
        self,
        url: str,
        *,
        restart: bool = False,
        progress_path: Path | None = None,
        lesson: str | None = None,
    ) -> None:
        super().__init__()
        self.url = url
        self._restart = restart
        self._progress_path = progress_path
        self._lesson = lesson
        self.tour_screen: TourScreen | None = None

    def get_default_screen(self) -> Screen[None]:
        self.tour_screen = TourScreen(
            self.url, restart=self._restart, progress_path=self._progress_path, lesson=self._lesson
        )
        return self.tour_screen

    async def action_quit(self) -> None:
        """Quit the way q does, so a run in flight is finished and saved first."""
        if self.tour_screen is not None and self.tour_screen.is_attached:
            await self.tour_screen.action_leave()
        else:
            self.exit()

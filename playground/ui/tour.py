"""The guided tour on screen: predict what a line does, run it for real, then fix it.

``TourScreen(url)`` opens its own ``Lab`` on ``url`` when mounted and closes it when
the learner leaves, so it can be pushed on any app without sharing that app's session:
``app.push_screen(TourScreen(lab.url))`` (pass the ``URL`` object, not ``str()`` of it,
which would hide the password). Escape or q leaves: the screen is dismissed, or, when it
is the app's only screen, the app exits. ``TourApp(url, restart=False)`` is the app of
``playground tour`` whose only screen is the tour.

Every run is an async worker on the app's loop; results come back as messages. All text
on screen is built as Rich ``Text``, and anything from the database or an exception goes
through ``visible()`` first, so nothing is read as markup or terminal escapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy
from rich.text import Text
from sqlalchemy.engine import URL
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, OptionList, Static
from textual.widgets.option_list import Option

from ..core.database import DatabaseProblem, describe
from ..core.lab import Lab, LabClosed
from ..core.names import visible
from ..core.results import ExperimentResult
from ..core.scenarios import SCENARIOS
from ..core.tour import (
    TOUR_NAME,
    Excerpt,
    Grade,
    Lesson,
    Summary,
    Tour,
    classify,
    stderr_problem,
    works,
)

OK = "bold green"
FAIL = "bold red"
DIM = "dim"


@dataclass
class TourLabOpened(Message):
    """The tour's lab is open, or could not be opened (``problem`` says why)."""

    problem: str | None


@dataclass
class TourRunDone(Message):
    """A lesson's scenario ran: for the guess or for a "make it work" try."""

    purpose: str
    lesson: str
    choice: str
    result: ExperimentResult | None
    problem: str = ""


# ------------------------------------------------------------------ rendering


def code_text(excerpt: Excerpt) -> Text:
    """The excerpt, highlighted, the line in question marked with ▶, switch lines with •."""
    from rich.syntax import Syntax  # pygments is heavy: loaded when a lesson is shown

    highlighted = Syntax(excerpt.text, "python", theme="ansi_dark").highlight(excerpt.text)
    highlighted.rstrip()
    out = Text()
    for index, line in enumerate(highlighted.split("\n", allow_blank=True)):
        if index:
            out.append("\n")
        if index == excerpt.focus:
            out.append("▶ ", "bold yellow")
            line.stylize("bold on #3a3000")
        elif index in excerpt.changed:
            out.append("• ", "cyan")
        else:
            out.append("  ")
        out.append_text(line)
    return out


def chain_line(result: ExperimentResult) -> Text:
    """How the run really ended, and on what: the raised chain or the value."""
    where = f"  (SQLAlchemy {result.sqlalchemy_version} on {result.backend})"
    error = result.outcome.error
    if error is None:
        line = Text.assemble(("Printed: ", DIM), (visible(result.outcome.value or ""), "green"))
        problem = stderr_problem(result.stderr)
        if problem:
            line.append("  stderr: ", DIM)
            line.append(visible(problem.splitlines()[0])[:80], "red")
        return line.append(where, DIM)
    types = " ← ".join(link.type_name.rsplit(".", 1)[-1] for link in error.chain)
    return Text.assemble(("Raised: ", DIM), (types, "red"), (where, DIM))


def outcome_text(verdict: Text, result: ExperimentResult) -> Text:
    """The verdict, then the real outcome and why, in the scenario's own words."""
    explanation = SCENARIOS[result.scenario].explain(result)
    ok = works(result)
    text = Text()
    text.append_text(verdict)
    text.append("\n")
    text.append(visible(explanation.headline), OK if ok else FAIL)
    if explanation.short:
        text.append("\nWhy: ", DIM)
        text.append(visible(explanation.short))
    text.append("\n")
    text.append_text(chain_line(result))
    return text


def guess_verdict(grade: Grade) -> Text:
    if grade.right:
        return Text.assemble(("✓ Right: ", OK), (grade.real.label, "green"))
    return Text.assemble(
        ("✗ Not this time: ", FAIL),
        ("you said ", ""),
        (grade.chosen.label, "yellow"),
        ("; it was ", ""),
        (grade.real.label, "bold"),
    )


def summary_text(summary: Summary) -> Text:
    """The end of the tour: the score, then each pitfall guessed wrong and its command."""
    text = Text("The tour is over.\n\n", "bold")
    text.append(f"Score: {summary.right} of {summary.answered} predicted right", OK)
    text.append(f"  (SQLAlchemy {sqlalchemy.__version__})\n\n", DIM)
    if not summary.missed:
        text.append("Every guess was right: nothing to look at again.\n", "green")
    else:
        text.append("Guessed wrong; open each in the playground to look again:\n", "bold")
        for missed in summary.missed:
            text.append(f"\n  {missed.title}\n", "bold")
            text.append("    you said ", DIM)
            text.append(missed.guessed, "yellow")
            text.append("; it was ", DIM)
            text.append(missed.real)
            text.append(f"\n    {missed.command}\n", "cyan")
    return text


def switch_prompt(number: int, label: str, hint: str, on: bool) -> Text:
    return Text.assemble(
        (f"{number} ", "bold"),
        ("[x] " if on else "[ ] ", OK if on else DIM),
        (label, "bold" if on else ""),
        (f"  {hint}", DIM),
    )


# --------------------------------------------------------------------- screen

GUESS, RUNNING, FIX, SOLVED, SUMMARY, LOADING, BROKEN = (
    "guess",
    "running",
    "fix",
    "solved",
    "summary",
    "loading",
    "broken",
)


class TourScreen(Screen[None]):
    """Lessons one after another: guess the ending, see the real one, make it work."""

    DEFAULT_CSS = """
    TourScreen { layout: vertical; overflow: hidden hidden; }
    #tour-title { height: 1; padding: 0 1; background: $boost; }
    #tour-code { height: auto; border: round $primary; padding: 0 1; }
    #tour-spacer { height: 1fr; min-height: 0; }
    #tour-question { height: auto; padding: 0 1; text-style: bold; }
    #tour-choices, #tour-switches { height: auto; max-height: 6; border: none; padding: 0 1; }
    #tour-outcome { height: auto; padding: 0 1; }
    #tour-actions { height: 1; padding: 0 1; }
    #tour-actions Button { height: 1; min-width: 0; border: none; margin-right: 2; }
    #tour-status { height: auto; max-height: 3; padding: 0 1; }
    #tour-summary { height: 1fr; padding: 0 1; }
    """

    BINDINGS = [
        *(
            Binding(str(n), f"number({n})", f"pick {n}", show=False, id=f"tour-number-{n}")
            for n in range(1, 10)
        ),
        Binding("r", "run_fix", "run it", id="tour-run"),
        Binding("h", "hint", "hint", id="tour-hint"),
        Binding("n", "next", "next lesson", id="tour-next"),
        Binding("t", "again", "tour again", id="tour-again"),
        Binding("escape,q", "leave", "leave", id="tour-leave"),
    ]

    def __init__(
        self,
        url: str | URL,
        *,
        restart: bool = False,
        progress_path: Path | None = None,
    ) -> None:
        super().__init__()
        text = url.render_as_string(hide_password=False) if isinstance(url, URL) else url
        self.lab = Lab(text)
        self.tour = Tour(progress_path, restart=restart)
        self.lesson: Lesson | None = None
        self.phase = LOADING
        self.settings: dict[str, bool] = {}
        self.last_result: ExperimentResult | None = None
        self.wrong_tries = 0
        self.guessed = False
        self._standalone = False
        self._lab_closed = False
        self._excerpt: Excerpt | None = None

    # ------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        yield Static(id="tour-title")
        with VerticalScroll(id="tour-code"):
            yield Static(id="tour-code-text")
        yield Static(id="tour-question")
        yield OptionList(id="tour-choices")
        yield Static(id="tour-outcome")
        yield OptionList(id="tour-switches")
        with VerticalScroll(id="tour-summary"):
            yield Static(id="tour-summary-text")
        with Horizontal(id="tour-actions"):
            yield Button("Run it (r)", id="tour-run-button", variant="primary")
            yield Button("Hint (h)", id="tour-hint-button")
            yield Button("Next lesson (n)", id="tour-next-button", variant="success")
            yield Button("Tour again (t)", id="tour-again-button")
        yield Static(id="tour-status")
        yield Static(id="tour-spacer")
        yield Footer()

    def on_mount(self) -> None:
        self._standalone = len(self.app.screen_stack) <= 1
        self.query_one("#tour-code").border_title = "Loading"
        self._layout()
        self._say(Text(f"Opening {describe(self.lab.url)}…", DIM))
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
            self._layout()
            self._say(Text(f"The tour cannot start: {message.problem}", FAIL))
            return
        self._start_lesson()

    def _layout(self) -> None:
        """Show the widgets the current phase needs, and only those."""
        phase = self.phase
        guessing = phase == GUESS or (phase == RUNNING and not self.guessed)
        in_lesson = phase in (GUESS, RUNNING, FIX, SOLVED)
        self.query_one("#tour-code").display = in_lesson
        self.query_one("#tour-question").display = guessing
        self.query_one("#tour-choices").display = guessing
        self.query_one("#tour-outcome").display = in_lesson and not guessing
        fixing = in_lesson and not guessing and bool(self.settings)
        self.query_one("#tour-switches").display = fixing and phase != SOLVED
        self.query_one("#tour-run-button").display = phase in (FIX, RUNNING) and fixing
        self.query_one("#tour-hint-button").display = phase == FIX and self.wrong_tries > 0
        self.query_one("#tour-next-button").display = phase == SOLVED
        self.query_one("#tour-again-button").display = phase == SUMMARY
        self.query_one("#tour-actions").display = phase in (FIX, RUNNING, SOLVED, SUMMARY)
        self.query_one("#tour-summary").display = phase == SUMMARY
        self.query_one("#tour-spacer").display = phase != SUMMARY
        self.refresh_bindings()
        self.call_after_refresh(self._fit_code)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_code)

    def _fit_code(self) -> None:
        """Let the code take what the other widgets leave, so nothing falls off screen."""
        code = self.query_one("#tour-code", VerticalScroll)
        others = sum(
            child.outer_size.height
            for child in self.children
            if child.display and child.id not in ("tour-code", "tour-spacer")
        )
        room = max(4, self.size.height - others)
        if code.styles.max_height is None or code.styles.max_height.value != room:
            code.styles.max_height = room
            self.call_after_refresh(self._show_focus)

    def _show_focus(self) -> None:
        """Scroll the code so the marked line is in view, counting the rows wrapped lines take."""
        if self._excerpt is None:
            return
        box = self.query_one("#tour-code", VerticalScroll)
        width = max(10, box.scrollable_content_region.width)
        rows = code_text(self._excerpt).split("\n", allow_blank=True)
        above = sum(len(line.wrap(self.app.console, width)) for line in rows[: self._excerpt.focus])
        here = len(rows[self._excerpt.focus].wrap(self.app.console, width))
        visible_rows = max(1, box.scrollable_content_region.height)
        box.scroll_to(y=max(0, above + here - visible_rows + 1), animate=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        phase = self.phase
        if action == "number":
            return phase in (GUESS, FIX)
        if action == "run_fix":
            return phase == FIX
        if action == "hint":
            return phase == FIX and self.wrong_tries > 0
        if action == "next":
            return phase == SOLVED
        if action == "again":
            return phase == SUMMARY
        return True

    # ------------------------------------------------------------ lessons
    def _start_lesson(self) -> None:
        lesson = self.tour.current()
        self.lesson = lesson
        self.last_result = None
        self.wrong_tries = 0
        self.guessed = lesson is not None and self.tour.record(lesson) is not None
        if lesson is None:
            self._show_summary()
            return
        self._title()
        record = self.tour.record(lesson)
        if record is None:
            self.phase = GUESS
            self.settings = {}
            self._show_code(lesson.settings())
            self.query_one("#tour-question", Static).update(Text(lesson.question, "bold"))
            choices = self.query_one("#tour-choices", OptionList)
            choices.clear_options()
            choices.add_options(
                Option(Text.assemble((f"{n} ", "bold"), choice.label), id=choice.key)
                for n, choice in enumerate(lesson.choices, start=1)
            )
            choices.highlighted = 0
            self._layout()
            choices.focus()
            count = len(lesson.choices)
            self._say(Text(f"Pick 1-{count} (or click): then it runs for real.", DIM))
            return
        # Guessed in an earlier session, but not fixed yet: straight to "make it work".
        said = "right" if record.right else "wrong"
        verdict = Text.assemble(
            (f"Earlier you guessed {said}: ", DIM), (record.guess_label, "yellow")
        )
        self.query_one("#tour-outcome", Static).update(
            verdict.append(f"; it was {record.real_label}.", DIM)
        )
        self._enter_fix(resumed=True)

    def _title(self) -> None:
        lesson = self.lesson
        if lesson is None:
            self.query_one("#tour-title", Static).update(Text("Tour", "bold"))
            return
        summary = self.tour.summary()
        self.query_one("#tour-title", Static).update(
            Text.assemble(
                (f"Lesson {lesson.number} of {len(self.tour.lessons)}", "bold"),
                (f" (score {summary.right}/{summary.answered})", "cyan"),
                (" · ", DIM),
                (lesson.title, "bold"),
                (f" · {lesson.group}", DIM),
            )
        )

    def _show_code(self, settings: dict[str, bool]) -> None:
        assert self.lesson is not None
        excerpt = self.lesson.excerpt(settings, self.lab.url.render_as_string())
        box = self.query_one("#tour-code", VerticalScroll)
        box.border_title = "▶ the line in question   • a switch changes this line"
        self.query_one("#tour-code-text", Static).update(code_text(excerpt))
        self._excerpt = excerpt
        self.call_after_refresh(self._show_focus)

    def _enter_fix(self, resumed: bool = False) -> None:
        lesson = self.lesson
        assert lesson is not None
        self.phase = FIX
        self.settings = lesson.settings()
        self._show_code(self.settings)
        self._show_switches()
        self._layout()
        self.query_one("#tour-switches").focus()
        start = "Welcome back. " if resumed else ""
        count = len(lesson.scenario.options)
        self._say(
            Text.assemble(
                (f"{start}Make it work: ", "bold"),
                (f"flip a switch (1-{count} or click), then r to run it again.", ""),
            )
        )

    def _show_switches(self) -> None:
        assert self.lesson is not None
        switches = self.query_one("#tour-switches", OptionList)
        highlighted = switches.highlighted
        switches.clear_options()
        switches.add_options(
            Option(
                switch_prompt(n, option.label, option.hint, self.settings[option.key]),
                id=option.key,
            )
            for n, option in enumerate(self.lesson.scenario.options, start=1)
        )
        switches.highlighted = highlighted if highlighted is not None else 0

    def _show_summary(self) -> None:
        self.phase = SUMMARY
        self.settings = {}
        self.query_one("#tour-title", Static).update(
            Text.assemble(("Tour", "bold"), (f" · {len(self.tour.lessons)} lessons", DIM))
        )
        summary = self.tour.summary()
        self.query_one("#tour-summary-text", Static).update(summary_text(summary))
        self._layout()
        self.query_one("#tour-summary").focus()  # arrows scroll; t (not Enter) starts over
        self._say(Text("Answers are kept; t (or playground tour --restart) starts over.", DIM))

    # ------------------------------------------------------------ actions
    def action_number(self, number: int) -> None:
        if self.phase == GUESS:
            self._guess(number - 1)
        elif self.phase == FIX:
            self._toggle(number - 1)

    @on(OptionList.OptionSelected, "#tour-choices")
    def _choice_clicked(self, event: OptionList.OptionSelected) -> None:
        if self.phase == GUESS:
            self._guess(event.option_index)

    @on(OptionList.OptionSelected, "#tour-switches")
    def _switch_clicked(self, event: OptionList.OptionSelected) -> None:
        if self.phase == FIX:
            self._toggle(event.option_index)

    def _guess(self, index: int) -> None:
        lesson = self.lesson
        if lesson is None or not 0 <= index < len(lesson.choices):
            return
        choice = lesson.choices[index]
        self.phase = RUNNING
        self.refresh_bindings()
        self._say(
            Text.assemble(("You said: ", DIM), (choice.label, "yellow"), (" · running…", DIM))
        )
        self._run("guess", lesson, choice.key, lesson.settings())

    def _toggle(self, index: int) -> None:
        lesson = self.lesson
        if lesson is None or not 0 <= index < len(lesson.scenario.options):
            return
        key = lesson.scenario.options[index].key
        self.settings[key] = not self.settings[key]
        self._show_switches()
        self.query_one("#tour-switches", OptionList).highlighted = index
        self._show_code(self.settings)
        state = "on" if self.settings[key] else "off"
        self._say(Text(f"{lesson.scenario.options[index].label} {state}: r runs it.", DIM))

    def action_run_fix(self) -> None:
        lesson = self.lesson
        if self.phase != FIX or lesson is None:
            return
        self.phase = RUNNING
        self._layout()
        self._say(Text("Running it for real…", DIM))
        self._run("fix", lesson, "", dict(self.settings))

    @on(Button.Pressed, "#tour-run-button")
    def _run_pressed(self) -> None:
        self.action_run_fix()

    def action_hint(self) -> None:
        if self.lesson is None or self.phase != FIX or not self.wrong_tries:
            return
        self._say(Text(self.lesson.hint(self.settings), "yellow"))

    @on(Button.Pressed, "#tour-hint-button")
    def _hint_pressed(self) -> None:
        self.action_hint()

    def action_next(self) -> None:
        if self.phase != SOLVED or self.lesson is None:
            return
        self.tour.finish(self.lesson)
        self._start_lesson()

    @on(Button.Pressed, "#tour-next-button")
    def _next_pressed(self) -> None:
        self.action_next()

    def action_again(self) -> None:
        if self.phase != SUMMARY:
            return
        self.tour.restart()
        self._start_lesson()

    @on(Button.Pressed, "#tour-again-button")
    def _again_pressed(self) -> None:
        self.action_again()

    async def action_leave(self) -> None:
        """Wait for a run in flight, close the lab, then leave the tour."""
        await self._close_lab()
        if self._standalone:
            self.app.exit()
        else:
            self.dismiss()

    async def _close_lab(self) -> None:
        if not self._lab_closed:
            self._lab_closed = True
            await self.lab.close()

    async def on_unmount(self) -> None:
        await self._close_lab()

    # --------------------------------------------------------------- runs
    def _run(self, purpose: str, lesson: Lesson, choice: str, settings: dict[str, bool]) -> None:
        async def work() -> None:
            try:
                result = await self.lab.run(lesson.scenario, TOUR_NAME, settings)
            except LabClosed:
                return
            except Exception as exc:  # a lost server: said on screen, the tour goes on
                text = f"{type(exc).__name__}: {exc}"
                self.post_message(TourRunDone(purpose, lesson.name, choice, None, text))
                return
            self.post_message(TourRunDone(purpose, lesson.name, choice, result))

        self.run_worker(work(), group="tour", exit_on_error=False)

    @on(TourRunDone)
    def _run_done(self, message: TourRunDone) -> None:
        lesson = self.lesson
        if lesson is None or lesson.name != message.lesson:
            return
        result = message.result
        if result is None:
            self.phase = GUESS if message.purpose == "guess" else FIX
            self._layout()
            self._say(Text(f"The run failed: {visible(message.problem)}", FAIL))
            return
        self.last_result = result
        if message.purpose == "guess":
            self._graded(lesson, message.choice, result)
        else:
            self._fix_tried(lesson, result)

    def _graded(self, lesson: Lesson, choice_key: str, result: ExperimentResult) -> None:
        choice = next(c for c in lesson.choices if c.key == choice_key)
        self.guessed = True
        graded = self.tour.answer(lesson, choice, result)
        self.query_one("#tour-outcome", Static).update(outcome_text(guess_verdict(graded), result))
        self._title()
        if self.tour.needs_fix(lesson, result):
            self._enter_fix()
            return
        self.phase = SOLVED
        self.settings = {}
        self._layout()
        self.query_one("#tour-next-button").focus()
        why = "it works as written" if works(result) else "no switch of this scenario fixes it"
        self._say(Text(f"Nothing to fix here: {why}. n: next lesson.", DIM))
        self._saved()

    def _fix_tried(self, lesson: Lesson, result: ExperimentResult) -> None:
        ok = self.tour.fix_run(lesson, result)
        if ok:
            verdict = Text("✓ It works now.", OK)
        else:
            self.wrong_tries += 1
            verdict = Text.assemble(
                ("✗ Not yet: ", FAIL), (classify(result).label, "bold"), (" again.", "")
            )
        self.query_one("#tour-outcome", Static).update(outcome_text(verdict, result))
        if ok:
            self.phase = SOLVED
            self._layout()
            self.query_one("#tour-next-button").focus()
            self._say(Text("Fixed. n (or Enter): next lesson.", OK))
        else:
            self.phase = FIX
            self._layout()
            self.query_one("#tour-switches").focus()
            self._say(Text("Still failing. h: a hint; flip a switch and r to run again.", "yellow"))
        self._saved()

    def _saved(self) -> None:
        if self.tour.save_problem:
            self.notify(self.tour.save_problem, severity="warning", markup=False)

    def _say(self, text: Text) -> None:
        self.query_one("#tour-status", Static).update(text)


class TourApp(App[None]):
    """``playground tour``: the tour as the app's only screen."""

    TITLE = "playground tour"

    def __init__(
        self, url: str, *, restart: bool = False, progress_path: Path | None = None
    ) -> None:
        super().__init__()
        self.url = url
        self._restart = restart
        self._progress_path = progress_path
        self.tour_screen: TourScreen | None = None

    def get_default_screen(self) -> Screen[None]:
        self.tour_screen = TourScreen(
            self.url, restart=self._restart, progress_path=self._progress_path
        )
        return self.tour_screen

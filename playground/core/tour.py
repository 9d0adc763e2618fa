"""The guided tour: one lesson per scenario, a guess before each run, then a fix.

Lessons come from the scenario registry in teaching order, so a new scenario joins the
tour when its file lands. A guess is graded by classifying the exception chain of the
run that really happened (on the installed SQLAlchemy and the chosen database), never
by an answer written down beforehand: the same lesson may be right with "wrapped in
StatementError" on one setup and with bare ``MissingGreenlet`` on another.
"""

from __future__ import annotations

import ast
import json
import os
import re
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from platformdirs import user_data_path

from .database import APP_NAME
from .results import ExceptionInfo, ExperimentResult, Script
from .scenarios import SCENARIOS, Option, Scenario
from .scenarios.script import MARK

TOUR_NAME = "Ada"
"""The name every tour run commits, and the one its code excerpts show."""

PROGRESS_VERSION = 1
MIN_CHOICES = 4
MAX_CHOICES = 6
"""Six lines of choices still fit a lesson at 80x24."""
MAX_SETTING_LINES = 3


def short_type(type_name: str) -> str:
    return type_name.rsplit(".", 1)[-1]


# ------------------------------------------------------------------ choices


@dataclass(frozen=True)
class Choice:
    """One possible ending of a lesson's read, as the learner picks it."""

    key: str
    label: str


VALUE = Choice("value", "it works: the value is read, no error")
MISSING_GREENLET = Choice("missing-greenlet", "MissingGreenlet")
WRAPPED = Choice("wrapped-missing-greenlet", "StatementError, with MissingGreenlet as its cause")
STDERR = Choice("stderr", "a logging error on stderr, and the code carries on")
VALIDATION = Choice("validation-error", "pydantic's ValidationError")
CONCURRENT = Choice(
    "concurrent", 'IllegalStateChangeError / "concurrent operations are not permitted"'
)
NO_GREENLET = Choice("no-greenlet", "ValueError / ImportError: the greenlet library is missing")


def error_choice(class_name: str) -> Choice:
    """The choice for an exception known by its class name alone."""
    return Choice(f"error:{class_name}", class_name)


DETACHED = error_choice("DetachedInstanceError")
INVALID_REQUEST = error_choice("InvalidRequestError")

FILLERS = (DETACHED, INVALID_REQUEST)
"""Plausible wrong answers that pad a lesson to ``MIN_CHOICES``, in this order."""

MENTIONS: tuple[tuple[Choice, tuple[str, ...]], ...] = (
    (MISSING_GREENLET, ("missinggreenlet", "greenlet_spawn")),
    (WRAPPED, ("statementerror",)),
    (STDERR, ("logging", "stderr")),
    (VALIDATION, ("validationerror", "pydantic")),
    (CONCURRENT, ("illegalstatechangeerror", "concurrent")),
    (NO_GREENLET, ("greenlet-missing", "greenlet missing", "greenlet library", "importerror")),
)
"""Words in a scenario's own descriptions that make an ending plausible for it."""

CLAIMED_CLASSES = frozenset(
    {
        "StatementError",
        "ValidationError",
        "IllegalStateChangeError",
        "ValueError",
        "ImportError",
        "ModuleNotFoundError",
    }
)
"""Class names the special endings above stand for; never offered on their own."""

CONCURRENT_WORDS = ("concurrent operations", "another operation is in progress")
NEVER_AWAITED = re.compile(r"coroutine '[^']*' was never awaited")
ERROR_NAME = re.compile(r"\b([A-Z][A-Za-z]*(?:Error|Exception))\b")


def stderr_problem(stderr: str) -> str:
    """What a run wrote to stderr, less the never-awaited warning a MissingGreenlet leaves."""
    kept = [line for line in stderr.splitlines() if line.strip() and not NEVER_AWAITED.search(line)]
    return "\n".join(kept)


def classify(result: ExperimentResult) -> Choice:
    """The ending a run really had, from its exception chain and captured stderr."""
    error = result.outcome.error
    if error is None:
        return STDERR if stderr_problem(result.stderr) else VALUE
    return classify_error(error)


def classify_error(error: ExceptionInfo) -> Choice:
    """Sort an exception chain into the ending an ``except`` clause would see first."""
    outer = short_type(error.outer.type_name)
    messages = " ".join(link.message for link in error.chain).lower()
    if outer == "ValidationError":
        return VALIDATION
    if error.outer.is_missing_greenlet:
        return MISSING_GREENLET
    if error.involves_missing_greenlet and outer == "StatementError":
        return WRAPPED
    if outer == "IllegalStateChangeError" or any(word in messages for word in CONCURRENT_WORDS):
        return CONCURRENT
    if outer in ("ValueError", "ImportError", "ModuleNotFoundError") and "greenlet" in messages:
        return NO_GREENLET
    if error.involves_missing_greenlet:
        return Choice(f"wrapped-in:{outer}", f"{outer}, with MissingGreenlet as its cause")
    return error_choice(outer)


def describe_text(scenario: Scenario) -> str:
    """Everything the scenario says about itself: the words its choices are drawn from."""
    module = sys.modules.get(type(scenario).__module__)
    parts = (
        scenario.name,
        scenario.title,
        scenario.summary,
        scenario.shows,
        type(scenario).__doc__ or "",
        getattr(module, "__doc__", None) or "",
    )
    return "\n".join(parts)


def choices_for(scenario: Scenario) -> tuple[Choice, ...]:
    """The endings offered for a scenario: the value, both MissingGreenlet shapes, and
    every ending its own descriptions name, padded with plausible wrong answers."""
    text = describe_text(scenario)
    lowered = text.lower()
    picked: list[Choice] = [VALUE, MISSING_GREENLET, WRAPPED]
    for choice, words in MENTIONS:
        if choice not in picked and any(word in lowered for word in words):
            picked.append(choice)
    for name in ERROR_NAME.findall(text):
        choice = error_choice(name)
        if name not in CLAIMED_CLASSES and choice not in picked:
            picked.append(choice)
    for filler in FILLERS:
        if len(picked) >= MIN_CHOICES:
            break
        if filler not in picked:
            picked.append(filler)
    return tuple(picked[:MAX_CHOICES])


@dataclass(frozen=True)
class Grade:
    """A guess set against what really happened."""

    right: bool
    chosen: Choice
    real: Choice
    raised: str
    """The real chain, outermost first (``StatementError ← MissingGreenlet``), or ``""``."""


def raised_text(result: ExperimentResult) -> str:
    error = result.outcome.error
    if error is None:
        return ""
    return " ← ".join(short_type(link.type_name) for link in error.chain)


def grade(result: ExperimentResult, choice: Choice) -> Grade:
    """Grade ``choice`` by the run's real exception chain (or value), nothing stored."""
    real = classify(result)
    return Grade(real.key == choice.key, choice, real, raised_text(result))


def works(result: ExperimentResult) -> bool:
    """True when the read gave its value with no error anywhere (stderr included)."""
    return classify(result) == VALUE


# ------------------------------------------------------------------ excerpts


@dataclass(frozen=True)
class Excerpt:
    """The lines of a script that matter, with the line in question marked."""

    lines: tuple[str, ...]
    focus: int
    """Index in ``lines`` of the line the question is about."""
    changed: frozenset[int] = frozenset()
    """Indexes of lines a setting changes (their ``# <-`` mark removed)."""

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {
        node.name: node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }


def _called(node: ast.AST) -> set[str]:
    return {
        call.func.id
        for call in ast.walk(node)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
    }


def _is_setup(statement: ast.stmt) -> bool:
    """``await create_tables()``: the frame every script shares, not the lesson."""
    return "create_tables" in _called(statement)


def _steps(main: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.stmt]:
    """The statements of ``main`` that do the work: inside its ``try``, if it has one."""
    body: list[ast.stmt] = list(main.body)
    for statement in main.body:
        if isinstance(statement, ast.Try):
            body = list(statement.body)
    return [statement for statement in body if not _is_setup(statement)]


def _span(lines: list[str], first: int, last: int) -> list[str]:
    """Source lines ``first``..``last`` (1-based, inclusive), dedented together."""
    return textwrap.dedent("\n".join(lines[first - 1 : last])).splitlines()


def cut(script: Script, read_expression: str) -> Excerpt:
    """Cut a standalone script to the helpers ``main`` calls and ``main``'s own steps.

    The marked line is the last one that contains ``read_expression``; failing that,
    the last line of the steps. A script that cannot be parsed is shown from its end.
    """
    source = script.text
    lines = source.splitlines()
    chosen: list[str] = []
    covered: set[int] = set()
    try:
        tree = ast.parse(source)
        functions = _functions(tree)
        main = functions["main"]
        steps = _steps(main)
        if not steps:
            raise KeyError("main has no steps")
    except (SyntaxError, KeyError):
        end = next((i for i, line in enumerate(lines) if line.startswith("if __name__")), None)
        chosen = lines[: end if end is not None else len(lines)][-12:]
    else:
        wanted = _called(main)
        seen: set[str] = {"main", "create_tables"}
        while wanted - seen:
            name = sorted(wanted - seen)[0]
            seen.add(name)
            helper = functions.get(name)
            if helper is None:
                continue
            wanted |= _called(helper)
            first = min([helper.lineno, *(d.lineno for d in helper.decorator_list)])
            end = helper.end_lineno or helper.lineno
            chosen += [*_span(lines, first, end), ""]
            covered.update(range(first, end + 1))
        last = steps[-1].end_lineno or steps[-1].lineno
        chosen += _span(lines, steps[0].lineno, last)
        covered.update(range(steps[0].lineno, last + 1))
        # The lines a switch changes elsewhere (the sessionmaker, a mapping) come first.
        settings = [
            line.strip()
            for number, line in enumerate(lines, start=1)
            if number not in covered
            and line.rstrip().endswith(MARK)
            and not line.startswith(("import ", "from "))
        ]
        if settings:
            chosen = [*settings[:MAX_SETTING_LINES], "", *chosen]
    cleaned: list[str] = []
    changed: set[int] = set()
    for index, line in enumerate(chosen):
        if line.rstrip().endswith(MARK):
            changed.add(index)
            line = line.rstrip()[: -len(MARK)].rstrip()
        cleaned.append(line)
    hits = [i for i, line in enumerate(cleaned) if read_expression and read_expression in line]
    fallback = max((i for i, line in enumerate(cleaned) if line.strip()), default=0)
    focus = hits[-1] if hits else fallback
    return Excerpt(tuple(cleaned), focus, frozenset(changed))


# ------------------------------------------------------------------- lessons


@dataclass(frozen=True)
class Lesson:
    """One scenario as a lesson: its code, the question, the choices and the fixes."""

    number: int
    scenario: Scenario
    choices: tuple[Choice, ...]

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def title(self) -> str:
        return self.scenario.title

    @property
    def group(self) -> str:
        return self.scenario.group

    @property
    def question(self) -> str:
        expression = self.scenario.read_expression
        return f"What happens at the marked line, reading {expression}?"

    @property
    def command(self) -> str:
        """The command that opens this lesson's scenario in the playground."""
        return f"playground --scenario {self.name}"

    @property
    def fixes(self) -> tuple[Option, ...]:
        return tuple(option for option in self.scenario.options if option.fix)

    def settings(self, given: Mapping[str, bool] | None = None) -> dict[str, bool]:
        return self.scenario.settings(given)

    def excerpt(self, settings: Mapping[str, bool] | None = None, url: str = "") -> Excerpt:
        """The scenario's script for these settings, cut to the lines that matter."""
        script = self.scenario.script(
            self.settings(settings), url or "sqlite+aiosqlite://", TOUR_NAME
        )
        return cut(script, self.scenario.read_expression)

    def hint(self, settings: Mapping[str, bool]) -> str:
        """A nudge toward a fix, from the fix switches' own labels and hints."""
        chosen = self.settings(settings)
        off = [option for option in self.fixes if not chosen[option.key]]
        if off:
            named = "; or ".join(f"{option.label} ({option.hint})" for option in off)
            return f"Hint: turn on {named}."
        changed = [
            option
            for option in self.scenario.options
            if not option.fix and chosen[option.key] != option.default
        ]
        if changed:
            named = ", ".join(f"{option.label} ({option.hint})" for option in changed)
            return f"Hint: every fix is on, but this is in the way: {named}. Set it back."
        return "Hint: read the explanation above: it names the ways out."


def build_lessons(scenarios: Mapping[str, Scenario] | None = None) -> list[Lesson]:
    """One lesson per registered scenario, in teaching order."""
    registry = SCENARIOS if scenarios is None else scenarios
    ordered = sorted(registry.values(), key=lambda s: (s.order, s.name))
    return [
        Lesson(number, scenario, choices_for(scenario))
        for number, scenario in enumerate(ordered, start=1)
    ]


# ------------------------------------------------------------------ progress


@dataclass
class LessonRecord:
    """What the learner did in one lesson, as saved between sessions."""

    guess: str
    guess_label: str
    real: str
    real_label: str
    right: bool
    backend: str = ""
    sqlalchemy: str = ""
    fix_runs: int = 0
    done: bool = False


@dataclass
class Progress:
    """The saved state of a tour: a record per lesson answered, by scenario name."""

    lessons: dict[str, LessonRecord] = field(default_factory=dict)

    def to_json(self) -> str:
        data = {
            "version": PROGRESS_VERSION,
            "lessons": {name: asdict(record) for name, record in self.lessons.items()},
        }
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Progress:
        """Read saved progress; anything unreadable starts the tour afresh."""
        try:
            data = json.loads(text)
            lessons = {
                str(name): LessonRecord(**record) for name, record in data["lessons"].items()
            }
        except (ValueError, TypeError, KeyError, AttributeError):
            return cls()
        return cls({name: record for name, record in lessons.items() if _well_typed(record)})


def _well_typed(record: LessonRecord) -> bool:
    """True when every saved field has the type the tour writes (a hand-edited file may not)."""
    kinds = {"str": str, "bool": bool, "int": int}
    return all(isinstance(getattr(record, f.name), kinds[str(f.type)]) for f in fields(record))


def default_progress_path() -> Path:
    """``tour.json`` in the platform's data folder for the app."""
    return user_data_path(APP_NAME) / "tour.json"


@dataclass(frozen=True)
class Missed:
    """A lesson guessed wrong, and how to open it again."""

    name: str
    title: str
    guessed: str
    real: str
    command: str


@dataclass(frozen=True)
class Summary:
    """The end of the tour: the score and the pitfalls to look at again."""

    right: int
    answered: int
    total: int
    missed: tuple[Missed, ...]


class Tour:
    """The lessons, where the learner is, and what they answered; saved on every change."""

    def __init__(
        self,
        path: Path | None = None,
        scenarios: Mapping[str, Scenario] | None = None,
        restart: bool = False,
    ) -> None:
        self.path = path or default_progress_path()
        self.lessons = build_lessons(scenarios)
        self.save_problem: str | None = None
        self.progress = Progress() if restart else self._load()
        if restart:
            self.save()

    def _load(self) -> Progress:
        try:
            return Progress.from_json(self.path.read_text(encoding="utf-8"))
        except OSError:
            return Progress()

    def save(self) -> None:
        """Write the progress atomically; a failure is kept in ``save_problem``, not raised."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".json.tmp")
            temporary.write_text(self.progress.to_json(), encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError as exc:
            self.save_problem = f"progress not saved to {self.path}: {exc}"
        else:
            self.save_problem = None

    def record(self, lesson: Lesson) -> LessonRecord | None:
        return self.progress.lessons.get(lesson.name)

    def current(self) -> Lesson | None:
        """The first lesson not finished yet, or None when the tour is over."""
        return next((lesson for lesson in self.lessons if not self.is_done(lesson)), None)

    def is_done(self, lesson: Lesson) -> bool:
        record = self.record(lesson)
        return record is not None and record.done

    def answer(self, lesson: Lesson, choice: Choice, result: ExperimentResult) -> Grade:
        """Grade a guess by the real run and save it."""
        graded = grade(result, choice)
        self.progress.lessons[lesson.name] = LessonRecord(
            guess=choice.key,
            guess_label=choice.label,
            real=graded.real.key,
            real_label=graded.real.label,
            right=graded.right,
            backend=result.backend,
            sqlalchemy=result.sqlalchemy_version,
            done=not self.needs_fix(lesson, result),
        )
        self.save()
        return graded

    @staticmethod
    def needs_fix(lesson: Lesson, result: ExperimentResult) -> bool:
        """True when the read failed and a switch can make it work."""
        return not works(result) and bool(lesson.fixes)

    def fix_run(self, lesson: Lesson, result: ExperimentResult) -> bool:
        """Count a "make it work" run; the lesson is done once the read works."""
        record = self.record(lesson)
        ok = works(result)
        if record is not None:
            record.fix_runs += 1
            record.done = record.done or ok
            self.save()
        return ok

    def finish(self, lesson: Lesson) -> None:
        """Mark a lesson done without a fix (nothing to fix, or the learner moved on)."""
        record = self.record(lesson)
        if record is not None:
            record.done = True
            self.save()

    def restart(self) -> None:
        self.progress = Progress()
        self.save()

    def summary(self) -> Summary:
        answered = [
            (lesson, record)
            for lesson in self.lessons
            if (record := self.record(lesson)) is not None
        ]
        missed = tuple(
            Missed(lesson.name, lesson.title, record.guess_label, record.real_label, lesson.command)
            for lesson, record in answered
            if not record.right
        )
        right = sum(1 for _, record in answered if record.right)
        return Summary(right, len(answered), len(self.lessons), missed)

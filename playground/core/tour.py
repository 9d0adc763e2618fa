"""The guided tour: one lesson per scenario, a guess before each run, then a fix.

Lessons come from the scenario registry in teaching order, so a new scenario joins the
tour when its file lands. A guess is graded by classifying the exception chain of the
run that really happened (on the installed SQLAlchemy and the chosen database), never
by an answer written down beforehand. The concept is graded, not its wrapping:
``MissingGreenlet`` counts as right whether it is raised bare (SQLAlchemy 2.0, some
drivers and pools) or inside ``StatementError`` (2.1 with aiosqlite), and the wrapping
is taught once, as a line of its own.
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import re
import stat
import sys
import tempfile
import textwrap
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from pathlib import Path

from platformdirs import user_data_path

from .database import APP_NAME
from .explain import short_type
from .results import ExceptionInfo, ExperimentResult, Script
from .scenarios import SCENARIOS, Option, Scenario
from .scenarios.script import MARK

TOUR_NAME = "Ada"
"""The name every tour run commits, and the one its code excerpts show."""

PROGRESS_VERSION = 1
MIN_CHOICES = 4
MAX_CHOICES = 6
"""Six lines of choices still fit a lesson at 80x24."""
MAX_PROGRESS_BYTES = 1_000_000
"""A progress file larger than this is not ours (ours is a few kilobytes)."""


# ------------------------------------------------------------------ choices


@dataclass(frozen=True)
class Choice:
    """One possible ending of a lesson's read, as the learner picks it."""

    key: str
    label: str


VALUE = Choice("value", "it works: the value is read, no error")
MISSING_GREENLET = Choice("missing-greenlet", "MissingGreenlet (bare, or inside another error)")
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

FILLERS = (DETACHED, INVALID_REQUEST, error_choice("AttributeError"))
"""Plausible wrong answers that pad a lesson to ``MIN_CHOICES``, in this order."""

MENTIONS: tuple[tuple[Choice, tuple[str, ...]], ...] = (
    (STDERR, ("logging", "stderr")),
    (VALIDATION, ("validationerror", "pydantic")),
    (CONCURRENT, ("illegalstatechangeerror", "concurrent")),
    (NO_GREENLET, ("greenlet-missing", "greenlet missing", "greenlet library", "importerror")),
)
"""Words in a scenario's own descriptions that make an ending plausible for it."""

CLAIMED_CLASSES = frozenset(
    {
        "MissingGreenlet",
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
    """Sort an exception chain into the pitfall it shows, whatever wraps its error.

    ``MissingGreenlet`` is the pitfall whether it is raised or is the cause of the error
    raised (``StatementError`` on SQLAlchemy 2.1 with aiosqlite); pydantic's
    ``ValidationError`` stays its own ending, since that is what a web framework sees.
    """
    outer = short_type(error.outer.type_name)
    messages = " ".join(link.message for link in error.chain).lower()
    if outer == "ValidationError":
        return VALIDATION
    if error.involves_missing_greenlet:
        return MISSING_GREENLET
    if outer == "IllegalStateChangeError" or any(word in messages for word in CONCURRENT_WORDS):
        return CONCURRENT
    if outer in ("ValueError", "ImportError", "ModuleNotFoundError") and "greenlet" in messages:
        return NO_GREENLET
    return error_choice(outer)


def wrapper_of(result: ExperimentResult) -> str:
    """The class wrapped around ``MissingGreenlet`` in this run, or ``""`` when it was bare."""
    error = result.outcome.error
    if error is None or not error.wrapped_missing_greenlet or classify(result) != MISSING_GREENLET:
        return ""
    return short_type(error.outer.type_name)


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
    """The endings offered for a scenario: the value, MissingGreenlet, and every ending
    its own descriptions name, padded with plausible wrong answers."""
    text = describe_text(scenario)
    lowered = text.lower()
    picked: list[Choice] = [VALUE, MISSING_GREENLET]
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


def first_error_line(result: ExperimentResult) -> str:
    """The raised error's first line as Python prints it (``Type: message``), or ``""``."""
    error = result.outcome.error
    if error is None:
        problem = stderr_problem(result.stderr)
        return problem.splitlines()[0] if problem else ""
    message = error.outer.message.strip().splitlines()
    first = message[0] if message else ""
    return f"{short_type(error.outer.type_name)}: {first}".rstrip(": ")


def attempted_sql(result: ExperimentResult) -> str:
    """The SQL the failing read tried to run, on one line, or ``""`` when it ran none."""
    error = result.outcome.error
    statement = error.statement if error is not None else None
    if not statement:
        tried = [entry.sql for entry in result.sql if entry.attempted]
        statement = tried[-1] if tried else ""
    return " ".join(statement.split())


def wrapping_note(result: ExperimentResult, taught: Mapping[str, int], number: int) -> str:
    """The line that teaches how ``MissingGreenlet`` arrived here, or a reminder of it.

    ``taught`` maps each shape (``"wrapped"``, ``"bare"``) to the lesson that first
    explained it, so the full account is given once and later lessons refer back to it.
    """
    if classify(result) != MISSING_GREENLET:
        return ""
    outer = wrapper_of(result)
    shape = "wrapped" if outer else "bare"
    earlier = taught.get(shape)
    if earlier is not None and earlier != number:
        if outer:
            return f"Inside {outer} again, as in lesson {earlier}: the same pitfall."
        return ""
    if outer:
        return (
            f"Note: here MissingGreenlet arrives inside {outer}, as its cause. SQLAlchemy "
            f"wraps an error raised while it runs a statement, so `except MissingGreenlet` "
            f"would miss this one. Other setups (SQLAlchemy 2.0, another driver or pool) raise "
            f"it bare. It is the same pitfall either way, and the tour counts both as right."
        )
    other = taught.get("wrapped")
    where = (
        f"in lesson {other} it arrived"
        if other is not None
        else "on SQLAlchemy 2.1 with aiosqlite it arrives"
    )
    return (
        f"Note: here MissingGreenlet is raised bare; {where} inside StatementError, as "
        f"its cause, so `except MissingGreenlet` alone may miss it. The tour counts both "
        f"as right."
    )


# ------------------------------------------------------------------ excerpts


@dataclass(frozen=True)
class Excerpt:
    """The lines of a script that matter, with the line in question marked."""

    lines: tuple[str, ...]
    focus: int
    """Index in ``lines`` of the line the question is about."""
    changed: frozenset[int] = frozenset()
    """Indexes of lines a switch changes (their ``# <-`` mark removed)."""
    needed: frozenset[int] = frozenset()
    """Indexes of the lines the answer depends on: the marked line, the lines the lesson
    names (``Teaching.depends``), and the header of the block each of them sits in."""

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def enclosing(lines: tuple[str, ...], index: int) -> list[int]:
    """The headers of the blocks ``lines[index]`` sits in, innermost first, read from the
    indentation (a ``class``, ``def``, ``async with``, ``try:`` line above it)."""
    found: list[int] = []
    level = indent_of(lines[index])
    for above in range(index - 1, -1, -1):
        if level == 0:
            break
        line = lines[above]
        if line.strip() and indent_of(line) < level:
            found.append(above)
            level = indent_of(line)
    return found


def needed_lines(lines: tuple[str, ...], focus: int, depends: tuple[str, ...]) -> frozenset[int]:
    """The marked line and every line holding one of ``depends``, each with the header of
    the block it is in (a model's field is read with its ``class`` line)."""
    picked = {focus} | {
        index for index, line in enumerate(lines) if any(word in line for word in depends)
    }
    headers = {found[0] for index in picked if (found := enclosing(lines, index))}
    return frozenset(picked | headers)


@dataclass(frozen=True)
class Fold:
    """A run of an excerpt's lines left out of a short view, drawn as one marker line."""

    first: int
    last: int
    """Indexes in the excerpt, both included."""
    hidden: int
    """How many of them are not blank."""


@dataclass(frozen=True)
class View:
    """What a code box shows of an excerpt: line indexes in order, folds between them."""

    items: tuple[int | Fold, ...]

    @property
    def shown(self) -> frozenset[int]:
        return frozenset(item for item in self.items if isinstance(item, int))

    @property
    def folds(self) -> tuple[Fold, ...]:
        return tuple(item for item in self.items if isinstance(item, Fold))

    @property
    def trailing(self) -> Fold | None:
        """The fold after the last line shown, if any: it takes no row of its own (the box
        names it on its lower border), since nothing after the question's lines matters."""
        last = self.items[-1] if self.items else None
        return last if isinstance(last, Fold) else None

    def rows(self, costs: tuple[int, ...] | list[int]) -> int:
        """The rows this view takes when line ``i`` takes ``costs[i]`` rows."""
        lines = sum(costs[item] for item in self.items if isinstance(item, int))
        return lines + len(self.folds) - (self.trailing is not None)


def _view(lines: tuple[str, ...], shown: set[int], costs: tuple[int, ...] | list[int]) -> View:
    """Lay out ``shown`` with everything else folded. Blank lines are left out; a fold that
    would hide a single one-row line shows it instead (the marker would take its row)."""
    items: list[int | Fold] = []
    run: list[int] = []

    def flush(trailing: bool = False) -> None:
        kept = [index for index in run if lines[index].strip()]
        if len(kept) == 1 and costs[kept[0]] <= 1 and not trailing:
            items.append(kept[0])
        elif kept:
            items.append(Fold(run[0], run[-1], len(kept)))
        run.clear()

    for index in range(len(lines)):
        if index in shown and lines[index].strip():
            flush()
            items.append(index)
        elif index not in shown:
            run.append(index)
    flush(trailing=True)
    return View(tuple(items))


def fold(
    excerpt: Excerpt,
    rows: int,
    costs: tuple[int, ...] | list[int],
    keep: frozenset[int] | set[int] = frozenset(),
) -> View:
    """The view of ``excerpt`` for a box of ``rows`` rows: every needed line (and ``keep``)
    shown, the rest folded, then unfolded again line by line while rows remain.

    ``costs[i]`` is the rows line ``i`` takes once wrapped. Lines a switch changes come
    back first, then the headers of the blocks shown, then the lines nearest to those
    shown. When even the needed lines do not fit, they are all shown and the box scrolls.
    """
    lines = excerpt.lines
    full = _view(lines, set(range(len(lines))), costs)
    if full.rows(costs) <= rows:
        return full
    shown = set(excerpt.needed | set(keep) | {excerpt.focus})
    view = _view(lines, shown, costs)
    while True:
        used = view.rows(costs)
        headers = {header for index in view.shown for header in enclosing(lines, index)}
        best: tuple[tuple[int, int, int, int], View, int] | None = None
        for index in range(len(lines)):
            if index in view.shown or not lines[index].strip():
                continue
            trial = _view(lines, shown | {index}, costs)
            more = trial.rows(costs)
            if more > rows:
                continue
            tier = 0 if index in excerpt.changed else 1 if index in headers else 2
            near = min(abs(index - other) for other in view.shown) if view.shown else 0
            rank = (tier, more - used, near, index)
            if best is None or rank < best[0]:
                best = (rank, trial, index)
        if best is None:
            return view
        shown.add(best[2])
        view = best[1]


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


def _last(node: ast.AST) -> int:
    """The last source line of ``node`` (its first, where the end is unknown)."""
    end = getattr(node, "end_lineno", None)
    return end if isinstance(end, int) else int(getattr(node, "lineno", 0))


def _context_lines(tree: ast.Module, lines: list[str], wanted: set[int]) -> list[list[int]]:
    """Group the wanted source lines (1-based) outside ``main`` with what makes them read.

    A line inside a class comes with the class's header, a line inside a method with
    the whole method (a ``__repr__`` is shown whole, in its class); a module statement
    comes whole. Groups are returned in source order, one per top-level statement.
    """
    groups: dict[int, set[int]] = {}
    for number in sorted(wanted):
        owner = next((node for node in tree.body if node.lineno <= number <= _last(node)), None)
        if owner is None:
            groups.setdefault(number, set()).add(number)
            continue
        group = groups.setdefault(owner.lineno, set())
        if isinstance(owner, ast.ClassDef) and number == owner.lineno:
            group.update(range(owner.lineno, _last(owner) + 1))  # a model named: all of it
        elif isinstance(owner, ast.ClassDef):
            group.add(owner.lineno)
            method = next(
                (
                    member
                    for member in owner.body
                    if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and member.lineno <= number <= _last(member)
                ),
                None,
            )
            if method is not None:
                group.update(range(method.lineno, _last(method) + 1))
            else:
                group.add(number)
        else:
            group.update(range(owner.lineno, _last(owner) + 1))
    return [sorted(groups[key]) for key in sorted(groups)]


def cut(
    script: Script,
    focus: str | tuple[str, ...],
    context: tuple[str, ...] = (),
) -> Excerpt:
    """Cut a standalone script to the lines a lesson's question and answer depend on.

    That is ``main``'s own steps and the helpers they call, after the lines outside them
    that a switch changes (``# <-``) or that contain one of ``context`` (the session
    factory, a column's options, a model, a logging setup), each with its class header.
    The marked line is the last one containing the first of ``focus`` found anywhere;
    failing that, the last line of the steps. A script that cannot be parsed is shown
    from its end.
    """
    candidates = (focus,) if isinstance(focus, str) else focus
    source = script.text
    lines = source.splitlines()
    chosen: list[str] = []
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
        covered: set[int] = set()
        wanted = _called(main)
        seen: set[str] = {"main", "create_tables"}
        helpers: list[str] = []
        while wanted - seen:
            name = sorted(wanted - seen)[0]
            seen.add(name)
            helper = functions.get(name)
            if helper is None:
                continue
            wanted |= _called(helper)
            first = min([helper.lineno, *(d.lineno for d in helper.decorator_list)])
            end = _last(helper)
            helpers += [*_span(lines, first, end), ""]
            covered.update(range(first, end + 1))
        last = _last(steps[-1])
        covered.update(range(steps[0].lineno, last + 1))
        docstring = _last(tree.body[0]) if tree.body and isinstance(tree.body[0], ast.Expr) else 0
        extra = {
            number
            for number, line in enumerate(lines, start=1)
            if number not in covered
            and number > docstring
            and not line.startswith("if __name__")
            and (
                (line.rstrip().endswith(MARK) and not line.startswith(("import ", "from ")))
                or any(word in line for word in context)
            )
        }
        setup = functions.get("create_tables")
        if setup is not None:
            extra -= set(range(setup.lineno, _last(setup) + 1))
        # Context groups sit one under the other (no blank line: rows are scarce at 80x24).
        for group in _context_lines(tree, lines, extra):
            chosen += [lines[number - 1] for number in group if lines[number - 1].strip()]
        if chosen:
            chosen.append("")
        chosen += [*helpers, *_span(lines, steps[0].lineno, last)]
    cleaned: list[str] = []
    changed: set[int] = set()
    for index, line in enumerate(chosen):
        if line.rstrip().endswith(MARK):
            changed.add(index)
            line = line.rstrip()[: -len(MARK)].rstrip()
        cleaned.append(line)
    focus_index = max((i for i, line in enumerate(cleaned) if line.strip()), default=0)
    for candidate in candidates:
        hits = [i for i, line in enumerate(cleaned) if candidate and candidate in line]
        if hits:
            focus_index = hits[-1]
            break
    return Excerpt(tuple(cleaned), focus_index, frozenset(changed))


def differing(old: Excerpt, new: Excerpt, *, added: bool = True) -> frozenset[int]:
    """Indexes of ``new``'s lines that ``old`` does not have: changed ones, and added ones
    unless ``added`` is False (then only lines replaced one for one count)."""
    matcher = difflib.SequenceMatcher(a=old.lines, b=new.lines, autojunk=False)
    found: set[int] = set()
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        one_for_one = tag == "replace" and i2 - i1 == j2 - j1
        if one_for_one or (added and tag in ("replace", "insert")):
            found.update(index for index in range(j1, j2) if new.lines[index].strip())
    return frozenset(found)


# ------------------------------------------------------------------ teaching


@dataclass(frozen=True)
class Teaching:
    """What the tour says around one scenario: the question, its lines, the hint, the fix.

    ``focus`` names the line the question is about (the first of them found in the
    code, the one that raises); ``depends`` names every line the answer depends on, so
    the code box shows them before the guess even where it must fold the rest away;
    ``context`` names lines worth reading too, shown when there is room. ``labels``
    rewords endings for a question about what is observed rather than raised.
    """

    question: str
    focus: tuple[str, ...]
    depends: tuple[str, ...]
    concept: str
    fix_line: str
    labels: Mapping[str, str] = field(default_factory=dict)
    context: tuple[str, ...] = ()


STOPS = "{} stops the program; no uid printed"
"""How lesson 9 words an error ending: the learner watches what is printed."""

TEACHING: dict[str, Teaching] = {
    "after-commit": Teaching(
        "The marked line reads user.uid right after the commit. What happens?",
        ("print(user.uid)",),
        ("expire_on_commit=", "await session.commit()"),
        "A commit expires what the session loaded. Reading an expired attribute needs "
        "the database, and a plain attribute read cannot wait for it.",
        "await session.refresh(user)  # or async_sessionmaker(engine, expire_on_commit=False)",
    ),
    "run-sync": Teaching(
        "The marked line reads user.uid inside session.run_sync. What happens?",
        ("run_sync(", "await read(user)", "print(user.uid)"),
        ("expire_on_commit=", "await session.commit()"),
        "Code passed to run_sync runs where SQLAlchemy can wait for the database, so an "
        "expired attribute can be loaded there with a plain read.",
        "uid = await session.run_sync(lambda sync_session: user.uid)",
    ),
    "closed-session": Teaching(
        "The marked line reads user.uid after the session's block has closed. What happens?",
        ("print(user.uid)",),
        ("expire_on_commit=", "async with Session() as session:", "return user"),
        "Leaving the block closes the session. An object whose values the commit expired "
        "has no session left to load them from.",
        "await session.refresh(user)  # inside the block, before it closes",
    ),
    "rollback": Teaching(
        "The marked line reads a.name after the rollback. What happens?",
        ("print(a.name)",),
        ("expire_on_commit=False", "await session.rollback()"),
        "A rollback expires every object in the session, whatever expire_on_commit says.",
        "name = a.name  # read it before; or await session.refresh(a) after the rollback",
    ),
    "server-defaults": Teaching(
        "The marked line reads row.updated_at after the UPDATE. What happens?",
        ("print(row.updated_at)",),
        (
            "expire_on_commit=False",
            "onupdate=",
            "server_default=",
            "eager_defaults",
            "# INSERT",
            "row.created_at",
            "row.name = ",
            "# UPDATE",
        ),
        "A column the database fills in (server_default, onupdate) is unknown to Python "
        "after the statement, until someone fetches it.",
        '__mapper_args__ = {"eager_defaults": True}  # or await session.refresh(row)',
    ),
    "lazy-relationship": Teaching(
        "The marked line reads len(user.posts) on a user loaded with select(). What happens?",
        ("len(user.posts)", "awaitable_attrs.posts"),
        (
            "relationship(back_populates=",
            "posts=[Post(",
            "query = select(",
            "(await session.execute(query))",
        ),
        "A relationship is loaded lazily by default: its first read runs a SELECT, and a "
        "plain attribute read cannot wait for one.",
        "select(User).options(selectinload(User.posts))",
    ),
    "deferred-column": Teaching(
        "The marked line reads user.name, a deferred column. What happens?",
        ("print(user.name)", "awaitable_attrs.name"),
        ("deferred=True", "query = select(", "(await session.execute(query))"),
        "A deferred column is left out of the SELECT; its first read has to go back to "
        "the database.",
        "select(User).options(undefer(User.name))",
    ),
    "serialization": Teaching(
        "The marked line turns the user into JSON through UserOut. What happens?",
        ("model_validate(",),
        (
            "posts: Mapped[",
            "class UserOut",
            "    posts: list[PostOut]",
            "query = select(",
            "(await session.execute(query))",
        ),
        "Validating from attributes reads every field UserOut declares, a relationship "
        "included, with plain attribute reads.",
        "select(User).options(selectinload(User.posts))  # before model_validate",
        context=(
            "expire_on_commit=",
            "relationship(back_populates=",
            "class PostOut",
            "    uid: int",
            "    name: str",
        ),
    ),
    "repr-logging": Teaching(
        "What appears on stderr, and what does the program print?",
        ("logger.info(",),
        (
            "logging.basicConfig(",
            "logger = logging.getLogger(",
            "def __repr__",
            'return f"User(',
            "expire_on_commit=",
            "await session.commit()",
        ),
        "logging builds the message only when a handler writes it, and %r calls "
        "__repr__, which reads the attributes the commit expired.",
        "def __repr__(self): values = inspect(self).dict  # shows what is loaded, loads nothing",
        {
            VALUE.key: "the log line, then the uid: nothing goes wrong",
            STDERR.key: 'a "Logging error" traceback on stderr, then the uid all the same',
            MISSING_GREENLET.key: STOPS.format("MissingGreenlet"),
            DETACHED.key: STOPS.format("DetachedInstanceError"),
        },
    ),
    "concurrent-session": Teaching(
        "The marked line runs find_name twice at once on one session. What happens?",
        ("asyncio.gather(",),
        ("pool_pre_ping", "async def find_name", "await session.execute", "raise result"),
        "An AsyncSession is one conversation on one connection: it refuses a second "
        "operation while another is still in flight.",
        "async with Session() as session: ...  # a session per task",
    ),
    "sync-engine-api": Teaching(
        "The marked line hands the AsyncEngine to create_all, a sync API. What happens?",
        ("create_all(engine)", "inspect(engine)", "run_sync("),
        ("engine = create_async_engine(",),
        "create_all and inspect() want a sync Engine or Connection; an AsyncEngine only "
        "offers awaitable methods.",
        "async with engine.begin() as conn: await conn.run_sync(Model.metadata.create_all)",
    ),
    "async-driver-sync-engine": Teaching(
        "The marked line connects through a sync engine built on the async driver's URL. "
        "What happens?",
        ("sync_engine.connect()",),
        (
            "DATABASE_URL = ",
            "engine = create_async_engine(",
            "SYNC_DRIVERS",
            "sync_engine = create_engine(",
            "url = DATABASE_URL",
            "read_name(url, uid)",
        ),
        "create_engine on an async driver's URL builds a sync engine whose driver can only "
        "work by awaiting, and nothing in a sync engine awaits.",
        'create_engine(url.set(drivername="postgresql+psycopg"))  # a sync driver',
    ),
    "greenlet-missing": Teaching(
        "The marked line imports the asyncio extension where greenlet cannot be imported. "
        "What happens?",
        ("from sqlalchemy.ext.asyncio import",),
        ('sys.modules["greenlet"]', "from sqlalchemy.ext.asyncio import"),
        "SQLAlchemy's asyncio support is built on the greenlet library; without it the "
        "extension cannot load at all.",
        "pip install 'sqlalchemy[asyncio]'  # brings greenlet with it",
    ),
}
"""The tour's words per scenario; a scenario missing here gets ``default_teaching``."""


def default_teaching(scenario: Scenario) -> Teaching:
    """Plain words for a scenario the table above does not know yet."""
    return Teaching(
        f"The marked line reads {scenario.read_expression}. What happens?",
        (scenario.read_expression,),
        ("Session = async_sessionmaker", "engine = create_async_engine("),
        "Look at what the marked line needs from the database, and whether anything "
        "there can wait for it.",
        next((option.hint for option in scenario.options if option.fix), ""),
    )


# ------------------------------------------------------------------- lessons


@dataclass(frozen=True)
class Lesson:
    """One scenario as a lesson: its code, the question, the choices and the fixes."""

    number: int
    scenario: Scenario
    choices: tuple[Choice, ...]
    teaching: Teaching

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
        return self.teaching.question

    @property
    def command(self) -> str:
        """The command that opens this lesson's scenario in the playground."""
        return f"playground --scenario {self.name}"

    @property
    def fixes(self) -> tuple[Option, ...]:
        """The switches that fix the read (in their fixing position), in the scenario's order."""
        return tuple(option for option in self.scenario.options if option.fixing_value is not None)

    @property
    def variations(self) -> tuple[Option, ...]:
        """The switches that change the situation without fixing the read."""
        return tuple(option for option in self.scenario.options if option.fixing_value is None)

    def label_of(self, choice: Choice) -> str:
        """The choice's words for this lesson's question."""
        return self.teaching.labels.get(choice.key, choice.label)

    def settings(self, given: Mapping[str, bool] | None = None) -> dict[str, bool]:
        return self.scenario.settings(given)

    def fixes_in_use(self, settings: Mapping[str, bool]) -> tuple[Option, ...]:
        """The fix switches that stand in their fixing position in ``settings``."""
        chosen = self.settings(settings)
        return tuple(option for option in self.fixes if chosen[option.key] == option.fixing_value)

    def changed_variations(self, settings: Mapping[str, bool]) -> tuple[Option, ...]:
        """The variations moved away from their default in ``settings``."""
        chosen = self.settings(settings)
        return tuple(option for option in self.variations if chosen[option.key] != option.default)

    def excerpt(self, settings: Mapping[str, bool] | None = None, url: str = "") -> Excerpt:
        """The script for these settings, cut to the lines that matter.

        Lines any one switch would change are marked as changing (•), whether or not
        the script itself marks them, so every lesson shows where its switches act.
        """
        chosen = self.settings(settings)
        here = self._cut(chosen, url)
        changed = set(here.changed)
        for option in self.scenario.options:
            flipped = {**chosen, option.key: not chosen[option.key]}
            changed |= differing(self._cut(flipped, url), here, added=False)
        needed = needed_lines(here.lines, here.focus, self.teaching.depends)
        return replace(here, changed=frozenset(changed), needed=needed)

    def _cut(self, settings: Mapping[str, bool], url: str) -> Excerpt:
        script = self.scenario.script(settings, url or "sqlite+aiosqlite://", TOUR_NAME)
        teaching = self.teaching
        return cut(script, teaching.focus, teaching.depends + teaching.context)

    def where(self, settings: Mapping[str, bool], url: str = "") -> str:
        """The code a fix would change, as a line of the excerpt shown now."""
        chosen = self.settings(settings)
        here = self._cut(chosen, url)
        for option in self.fixes:
            if chosen[option.key] == option.fixing_value:
                continue
            fixed = self._cut({**chosen, option.key: bool(option.fixing_value)}, url)
            matcher = difflib.SequenceMatcher(a=here.lines, b=fixed.lines, autojunk=False)
            for tag, i1, _i2, _, _ in matcher.get_opcodes():
                if tag in ("replace", "delete"):
                    return f"the line `{here.lines[i1].strip()}`"
                if tag == "insert":
                    before = here.lines[max(0, i1 - 1)].strip()
                    return f"right after `{before}`"
        return "the lines marked •"

    def hint(self, level: int, settings: Mapping[str, bool], url: str = "") -> str:
        """The hint ladder: 1 the concept, 2 where in the code, 3 which switch."""
        if level <= 1:
            return f"Hint 1 of 3 (the idea): {self.teaching.concept}"
        if level == 2:
            return f"Hint 2 of 3 (where): a fix changes {self.where(settings, url)}."
        chosen = self.settings(settings)
        numbers = {option.key: n for n, option in enumerate(self.scenario.options, start=1)}
        off = [option for option in self.fixes if chosen[option.key] != option.fixing_value]
        if off:
            named = "; or ".join(
                f"{numbers[o.key]} ({o.label}) {'on' if o.fixing_value else 'off'}" for o in off
            )
            return f"Hint 3 of 3 (which switch): turn {named}, then r."
        moved = self.changed_variations(settings)
        if moved:
            named = ", ".join(f"{numbers[o.key]} {o.label}" for o in moved)
            return f"Hint 3 of 3: a fix is on, but this variation is in the way: {named}."
        return "Hint 3 of 3: a fix is on: r runs it."


def build_lessons(scenarios: Mapping[str, Scenario] | None = None) -> list[Lesson]:
    """One lesson per registered scenario, in teaching order."""
    registry = SCENARIOS if scenarios is None else scenarios
    ordered = sorted(registry.values(), key=lambda s: (s.order, s.name))
    lessons = []
    for number, scenario in enumerate(ordered, start=1):
        teaching = TEACHING.get(scenario.name) or default_teaching(scenario)
        lessons.append(Lesson(number, scenario, choices_for(scenario), teaching))
    return lessons


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


KINDS = {"str": str, "bool": bool, "int": int}


def _record_problem(raw: object) -> str | None:
    """Why a saved record cannot be kept, or None when it can (extra fields are ignored)."""
    if not isinstance(raw, dict):
        return "not a record"
    for spec in fields(LessonRecord):
        if spec.name not in raw:
            if spec.default is MISSING:
                return f"no {spec.name}"
            continue
        value = raw[spec.name]
        kind = KINDS[str(spec.type)]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            return f"{spec.name} is not a {spec.type}"
    return None


@dataclass
class Progress:
    """The saved state of a tour: a record per lesson answered, by scenario name.

    ``taught`` remembers which lesson first explained a note shown once (the wrapping
    of ``MissingGreenlet``), so later lessons can refer back to it.
    """

    lessons: dict[str, LessonRecord] = field(default_factory=dict)
    taught: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        data = {
            "version": PROGRESS_VERSION,
            "lessons": {name: asdict(record) for name, record in self.lessons.items()},
            "taught": dict(self.taught),
        }
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Progress:
        """Read saved progress, keeping every record that is whole (see ``read_progress``)."""
        return parse_progress(text)[0]


def parse_progress(text: str) -> tuple[Progress, list[str], bool]:
    """Saved progress from ``text``: what was kept, what was set aside, and whether any of
    it was unreadable as a whole (then nothing is kept)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return Progress(), ["the file is not JSON"], True
    if not isinstance(data, dict) or not isinstance(data.get("lessons"), dict):
        return Progress(), ["the file has no lessons table"], True
    kept: dict[str, LessonRecord] = {}
    aside: list[str] = []
    known = {f.name for f in fields(LessonRecord)}
    for name, raw in data["lessons"].items():
        problem = _record_problem(raw)
        if problem is not None:
            aside.append(f"{name} ({problem})")
            continue
        kept[str(name)] = LessonRecord(**{k: v for k, v in raw.items() if k in known})
    taught_raw = data.get("taught")
    taught = {
        str(key): value
        for key, value in (taught_raw.items() if isinstance(taught_raw, dict) else ())
        if isinstance(value, int) and not isinstance(value, bool)
    }
    return Progress(kept, taught), aside, False


@dataclass(frozen=True)
class Loaded:
    """Progress read from disk, and the one line to say about it (``""`` when clean)."""

    progress: Progress
    message: str = ""


def _backup_path(path: Path) -> Path:
    """A name beside ``path`` for a backup, never one that is already taken."""
    candidate = path.with_name(path.name + ".bak")
    number = 1
    while candidate.exists() or candidate.is_symlink():
        candidate = path.with_name(f"{path.name}.bak{number}")
        number += 1
    return candidate


def read_progress(path: Path) -> Loaded:
    """Read ``path`` without ever crashing or blocking, keeping every whole record.

    A file that is partly bad keeps its good records; anything set aside is named in one
    line and the old file is kept as a backup beside it. Something that is not a regular
    file (a FIFO, a folder) is never opened: the tour starts afresh and says so.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return Loaded(Progress())
    except OSError as exc:
        return Loaded(Progress(), f"Could not read {path.name} ({exc.strerror}): starting afresh.")
    if not stat.S_ISREG(info.st_mode):
        moved = ""
        if not stat.S_ISDIR(info.st_mode):
            try:
                backup = _backup_path(path)
                os.replace(path, backup)
                moved = f"; it was moved to {backup.name}"
            except OSError:
                moved = ""
        return Loaded(Progress(), f"{path.name} is not a regular file: starting afresh{moved}.")
    if info.st_size > MAX_PROGRESS_BYTES:
        return _set_aside_all(path, b"", f"{path.name} is too large to be the tour's")
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(handle, "rb") as stream:
            data = stream.read(MAX_PROGRESS_BYTES + 1)
    except OSError as exc:
        return Loaded(Progress(), f"Could not read {path.name} ({exc.strerror}): starting afresh.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _set_aside_all(path, data, f"{path.name} is not UTF-8 text")
    progress, aside, whole = parse_progress(text)
    if whole:
        return _set_aside_all(path, data, f"{path.name}: {aside[0]}")
    if not aside:
        return Loaded(progress)
    where = _backup(path, data)
    count = len(progress.lessons)
    return Loaded(
        progress,
        f"{path.name}: kept {count} lesson{'s' * (count != 1)}, set aside "
        f"{'; '.join(aside)}{where}.",
    )


def _backup(path: Path, data: bytes) -> str:
    """Keep the old file's bytes beside it; the words that say where (or why not)."""
    try:
        target = _backup_path(path)
        target.write_bytes(data)
    except OSError as exc:
        return f" (no backup kept: {exc.strerror})"
    return f"; the old file is kept as {target.name}"


def _set_aside_all(path: Path, data: bytes, why: str) -> Loaded:
    if not data:
        try:
            with path.open("rb") as stream:
                data = stream.read()
        except OSError:
            data = b""
    return Loaded(Progress(), f"{why}: starting afresh{_backup(path, data)}.")


def default_progress_path() -> Path:
    """``tour.json`` in the platform's data folder for the app."""
    return user_data_path(APP_NAME) / "tour.json"


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file that never outlives a failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(name, path)
    except BaseException:
        try:
            os.unlink(name)
        except OSError:
            pass
        raise


@dataclass(frozen=True)
class Row:
    """One lesson in the summary: the learner's result, the fix and how to open it."""

    number: int
    title: str
    result: str
    """``"right"``, ``"wrong"`` or ``"open"`` (not answered)."""
    guessed: str
    real: str
    fix_line: str
    command: str


@dataclass(frozen=True)
class Summary:
    """The end of the tour: the score, and every pitfall with its fix and command."""

    right: int
    answered: int
    total: int
    rows: tuple[Row, ...]

    @property
    def missed(self) -> tuple[Row, ...]:
        return tuple(row for row in self.rows if row.result == "wrong")


@dataclass(frozen=True)
class FixTry:
    """A "make it work" run judged: fixed by a fix, passing by a variation, or failing."""

    works: bool
    fixed: bool
    fixes: tuple[Option, ...]
    variations: tuple[Option, ...]

    @property
    def variation_passed(self) -> bool:
        return self.works and not self.fixed


class Tour:
    """The lessons, where the learner is, and what they answered; saved on every change.

    ``lesson`` (a scenario name) opens that lesson first, asked afresh, while the saved
    progress of every other lesson is kept; after it the tour goes on as usual.
    """

    def __init__(
        self,
        path: Path | None = None,
        scenarios: Mapping[str, Scenario] | None = None,
        restart: bool = False,
        lesson: str | None = None,
    ) -> None:
        self.path = path or default_progress_path()
        self.lessons = build_lessons(scenarios)
        self.save_problem: str | None = None
        self.load_message = ""
        self.pinned: Lesson | None = None
        if lesson is not None:
            self.pinned = next((item for item in self.lessons if item.name == lesson), None)
            if self.pinned is None:
                raise KeyError(lesson)
        self._asked_again = False
        if restart:
            self.progress = Progress()
            self.save()
        else:
            loaded = read_progress(self.path)
            self.progress = loaded.progress
            self.load_message = loaded.message

    def save(self) -> bool:
        """Write the progress atomically; a failure is kept in ``save_problem``, not raised."""
        try:
            write_atomically(self.path, self.progress.to_json())
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self.save_problem = f"Progress not saved to {self.path}: {reason}"
            return False
        self.save_problem = None
        return True

    def lesson_named(self, name: str) -> Lesson:
        return next(lesson for lesson in self.lessons if lesson.name == name)

    def record(self, lesson: Lesson) -> LessonRecord | None:
        if lesson is self.pinned and not self._asked_again:
            return None
        return self.progress.lessons.get(lesson.name)

    def current(self) -> Lesson | None:
        """The pinned lesson until it is done, then the first lesson not finished yet."""
        if self.pinned is not None:
            return self.pinned
        return next((lesson for lesson in self.lessons if not self.is_done(lesson)), None)

    def is_done(self, lesson: Lesson) -> bool:
        record = self.record(lesson)
        return record is not None and record.done

    def answer(self, lesson: Lesson, choice: Choice, result: ExperimentResult) -> Grade:
        """Grade a guess by the real run and save it."""
        graded = grade(result, choice)
        if lesson is self.pinned:
            self._asked_again = True
        self.progress.lessons[lesson.name] = LessonRecord(
            guess=choice.key,
            guess_label=lesson.label_of(choice),
            real=graded.real.key,
            real_label=lesson.label_of(graded.real),
            right=graded.right,
            backend=result.backend,
            sqlalchemy=result.sqlalchemy_version,
            done=not self.needs_fix(lesson, result),
        )
        self.save()
        return graded

    def note(self, lesson: Lesson, result: ExperimentResult, *, new_only: bool = False) -> str:
        """The wrapping note for this run; the first explanation of a shape is remembered.

        ``new_only`` (for a lesson's later runs) gives a note only for a shape not yet seen.
        """
        shape = "wrapped" if wrapper_of(result) else "bare"
        if new_only and shape in self.progress.taught:
            return ""
        text = wrapping_note(result, self.progress.taught, lesson.number)
        if text and shape not in self.progress.taught:
            self.progress.taught[shape] = lesson.number
            self.save()
        return text

    @staticmethod
    def needs_fix(lesson: Lesson, result: ExperimentResult) -> bool:
        """True when the read failed and a switch can make it work."""
        return not works(result) and bool(lesson.fixes)

    def fix_run(
        self, lesson: Lesson, result: ExperimentResult, settings: Mapping[str, bool]
    ) -> FixTry:
        """Judge a "make it work" run: only a fix switch completes the lesson."""
        ok = works(result)
        used = lesson.fixes_in_use(settings)
        judged = FixTry(ok, ok and bool(used), used, lesson.changed_variations(settings))
        record = self.record(lesson)
        if record is not None:
            record.fix_runs += 1
            record.done = record.done or judged.fixed
            self.save()
        return judged

    def finish(self, lesson: Lesson) -> None:
        """Mark a lesson done without a fix (nothing to fix, or the learner moved on)."""
        record = self.record(lesson)
        if lesson is self.pinned:
            self.pinned = None
        if record is not None:
            record.done = True
            self.save()

    def restart(self) -> None:
        self.progress = Progress()
        self.pinned = None
        self.save()

    def summary(self) -> Summary:
        rows = []
        right = answered = 0
        for lesson in self.lessons:
            record = self.record(lesson)
            if record is None:
                result, guessed, real = "open", "", ""
            else:
                answered += 1
                right += record.right
                result = "right" if record.right else "wrong"
                guessed, real = record.guess_label, record.real_label
            rows.append(
                Row(
                    lesson.number,
                    lesson.title,
                    result,
                    guessed,
                    real,
                    lesson.teaching.fix_line,
                    lesson.command,
                )
            )
        return Summary(right, answered, len(self.lessons), tuple(rows))

"""What the tour screen shows, as Rich text: the code box, outcomes, the primer, the summary.

Kept apart from the screen so each piece can be read and tested as plain text. Anything
from the database, an exception or stderr goes through ``visible()`` first, and nothing
here is ever parsed as markup.
"""

from __future__ import annotations

import re

import sqlalchemy
from rich.table import Table
from rich.text import Text

from ..core.names import visible
from ..core.results import ExperimentResult
from ..core.scenarios import SCENARIOS
from ..core.tour import (
    Excerpt,
    FixTry,
    Fold,
    Grade,
    Lesson,
    Summary,
    View,
    attempted_sql,
    classify,
    first_error_line,
    fold,
    indent_of,
    stderr_problem,
)

OK = "bold green"
FAIL = "bold red"
DIM = "dim"

EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Greenlet)\b.*")

PRIMER = (
    "SQLAlchemy's ORM is written as ordinary, blocking code. Its asyncio support runs "
    "that code inside a greenlet: a helper that lets it pause for the database, but only "
    "while you are inside an awaited SQLAlchemy call. A plain attribute read has no "
    "await, so nothing can pause there: if the value is not loaded and the ORM must "
    "fetch it, the read fails with MissingGreenlet."
)

PRIMER_PICTURE = (
    ("user = await session.get(User, 1)", "# awaited: may wait for the database"),
    ("user.name", "# plain read: cannot wait"),
)

PRIMER_AFTER = (
    "The plain read is fine when the value is already loaded; it fails only when it "
    "has to be fetched."
)

PRIMER_END = (
    "Each lesson shows code (▶ the line in question, • a line a switch changes). "
    "Guess what happens, watch it run for real on your database, then flip switches "
    "to fix it."
)


def primer_text() -> Text:
    """The one screen before lesson 1: what the greenlet is, and the one picture."""
    text = Text()
    text.append("Before lesson 1: an awaited call and a plain read\n\n", "bold")
    text.append(PRIMER + "\n\n")
    for code, comment in PRIMER_PICTURE:
        text.append(f"  {code:<35}", "cyan")
        text.append(f"{comment}\n", DIM)
    text.append("\n" + PRIMER_AFTER + "\n\n" + PRIMER_END + "\n\n")
    text.append("Enter or n: start    q: leave", "bold")
    return text


# -------------------------------------------------------------------- the code


def wrap_hanging(line: Text, width: int) -> list[Text]:
    """Cut a code line to ``width`` cells, continuation rows indented past the line's own
    indent, so a wrapped line never restarts at column 0."""
    plain = line.plain
    if len(plain) <= width or width < 8:
        return [line]
    indent = len(plain) - len(plain.lstrip(" "))
    hang = min(indent + 4, width // 2)
    rows: list[Text] = []
    start = 0
    while start < len(plain):
        room = width if not rows else width - hang
        if len(plain) - start <= room:
            end = len(plain)
        else:
            space = plain.rfind(" ", start + 1, start + room + 1)
            end = space if space > start + (indent if not rows else 0) else start + room
        piece = line[start:end]
        if rows:
            piece = Text(" " * hang).append_text(piece)
        rows.append(piece)
        start = end + 1 if end < len(plain) and plain[end] == " " else end
    return rows


def code_rows(
    excerpt: Excerpt, width: int, compact: bool = False, view: View | None = None
) -> tuple[Text, list[int]]:
    """The excerpt highlighted and wrapped to ``width``, and the first row of each line.

    The line in question is marked with ▶, lines a switch changes with •. ``compact``
    leaves out blank lines (each then starts where the next line does), for a box too
    short to show everything; a ``view`` shows only its lines, each fold as one dim
    marker line (``… 5 lines``, at the indent of its least indented line) where its
    lines start, and the fold after the last line not at all (the box names it below).
    """
    from rich.syntax import Syntax  # pygments is heavy: loaded when a lesson is shown

    highlighted = Syntax(excerpt.text, "python", theme="ansi_dark").highlight(excerpt.text)
    highlighted.rstrip()
    lines = highlighted.split("\n", allow_blank=True)
    items: tuple[int | Fold, ...] = tuple(range(len(excerpt.lines)))
    if view is not None:
        items, compact = view.items, True
    out = Text()
    starts: list[int | None] = [None] * len(excerpt.lines)
    row = 0

    def put(mark: Text, piece: Text) -> None:
        nonlocal row
        if row:
            out.append("\n")
        out.append_text(mark)
        out.append_text(piece)
        row += 1

    for item in items:
        if isinstance(item, Fold):
            for index in range(item.first, item.last + 1):
                starts[index] = row
            if view is None or item != view.trailing:
                hidden = excerpt.lines[item.first : item.last + 1]
                pad = min((indent_of(text) for text in hidden if text.strip()), default=0)
                noun = "line" if item.hidden == 1 else "lines"
                put(Text("  "), Text(f"{' ' * pad}… {item.hidden} {noun}", DIM))
            continue
        line = lines[item] if item < len(lines) else Text()
        starts[item] = row
        if compact and not line.plain.strip():
            starts[item] = None  # it starts where the next line shown does
            continue
        if item == excerpt.focus:
            mark = Text("▶ ", "bold yellow")
            line.stylize("bold on #3a3000")
        elif item in excerpt.changed:
            mark = Text("• ", "cyan")
        else:
            mark = Text("  ")
        for number, piece in enumerate(wrap_hanging(line, max(8, width - 2))):
            put(mark if number == 0 else Text("  "), piece)
    following = row
    filled: list[int] = [0] * len(starts)
    for index in range(len(starts) - 1, -1, -1):
        found = starts[index]
        following = found if found is not None else following
        filled[index] = min(following, max(0, row - 1)) if found is None else found
    return out, filled


def line_costs(excerpt: Excerpt, width: int) -> list[int]:
    """The rows each excerpt line takes once wrapped to ``width`` (0 for a blank line)."""
    return [
        len(wrap_hanging(Text(line), max(8, width - 2))) if line.strip() else 0
        for line in excerpt.lines
    ]


def layout_code(
    excerpt: Excerpt,
    width: int,
    room: int,
    scrollbar: int,
    keep: frozenset[int] = frozenset(),
    folding: bool = True,
) -> tuple[Text, list[int], View | None]:
    """The code box's text for a box ``width`` wide with ``room`` rows.

    The whole excerpt when it fits. Otherwise, while ``folding``, the lines the answer
    depends on (and ``keep``) with the rest folded where rows are short; without it, the
    whole excerpt without blank lines, to scroll. A ``scrollbar`` takes its columns only
    when the text is still taller than the box.
    """
    text, starts = code_rows(excerpt, width)
    if room <= 0 or len(text.plain.splitlines()) <= room:
        return text, starts, None
    for wide in (width, width - scrollbar):
        if folding:
            costs = line_costs(excerpt, wide)
            view = fold(excerpt, room, costs, keep)
            if view.rows(costs) <= room or wide != width:
                text, starts = code_rows(excerpt, wide, view=view)
                return text, starts, view
        elif wide != width:
            text, starts = code_rows(excerpt, wide, compact=True)
    return text, starts, None


def code_text(excerpt: Excerpt, width: int = 200) -> Text:
    return code_rows(excerpt, width)[0]


# ------------------------------------------------------------------ outcomes


def printed_text(result: ExperimentResult) -> str:
    """What ``print`` wrote for the read (``str``, as a terminal shows it), not its repr."""
    outcome = result.outcome
    if outcome.printed is not None:
        return outcome.printed.rstrip("\n")
    return outcome.value or ""


def stderr_summary(stderr: str) -> str:
    """The first line a run wrote to stderr, and the exception line inside it, if any."""
    problem = stderr_problem(stderr)
    if not problem:
        return ""
    lines = problem.splitlines()
    raised = [line for line in lines if EXCEPTION_LINE.match(line)]
    first = lines[0].strip()
    if raised and raised[-1].strip() != first:
        return f"{first} … {raised[-1].strip()}"
    return first


def run_lines(result: ExperimentResult, note: str = "") -> Text:
    """After a run: the real first line of the error, the SQL it attempted, and why."""
    text = Text()
    where = f"  (SQLAlchemy {result.sqlalchemy_version} on {result.backend})"
    error = result.outcome.error
    if error is None:
        text.append("Printed: ", DIM)
        text.append(visible(printed_text(result)), "green")
        problem = stderr_summary(result.stderr)
        if problem:
            text.append("\nOn stderr: ", DIM)
            text.append(visible(problem), "red")
    else:
        text.append("Raised: ", DIM)
        text.append(visible(first_error_line(result)), "red")
    text.append(where, DIM)
    sql = attempted_sql(result)
    if sql and not (error is None and not stderr_problem(result.stderr)):
        text.append("\nSQL it tried: ", DIM)
        text.append(visible(sql), "cyan")
    explanation = SCENARIOS[result.scenario].explain(result)
    why = explanation.short or explanation.headline
    if why:
        text.append("\nWhy: ", DIM)
        text.append(visible(why))
    if note:
        text.append("\n")
        text.append(visible(note), "yellow")
    return text


def guess_verdict(grade: Grade, lesson: Lesson) -> Text:
    real = lesson.label_of(grade.real)
    if grade.right:
        return Text.assemble(("✓ Right: ", OK), (real, "green"))
    return Text.assemble(
        ("✗ Not this time. ", FAIL),
        ("You said: ", ""),
        (lesson.label_of(grade.chosen), "yellow"),
        (". The run: ", ""),
        (real, "bold"),
        (".", ""),
    )


def fix_verdict(judged: FixTry, result: ExperimentResult, lesson: Lesson, again: bool) -> Text:
    """The words for a "make it work" run: fixed, passed by a variation, or failing."""
    if judged.fixed:
        names = ", ".join(option.label for option in judged.fixes)
        return Text.assemble(("✓ Fixed: ", OK), (f"it works now (fix: {names}).", "green"))
    if judged.variation_passed:
        moved = judged.variations
        names = ", ".join(option.label for option in moved) or "no switch"
        verb = "is a variation" if len(moved) == 1 else "are variations"
        return Text.assemble(
            ("✓ It passed, but nothing was fixed: ", "bold yellow"),
            (f"{names} {verb}: it changes the situation, not the read. ", ""),
            ("The lesson stays open until a fix switch makes it work.", "yellow"),
        )
    label = lesson.label_of(classify(result))
    return Text.assemble(
        ("✗ Still failing: ", FAIL),
        (label, "bold"),
        (" again." if again else ", this time.", ""),
    )


def resume_text(lesson: Lesson, right: bool, guess_label: str, real_label: str) -> Text:
    """What the learner guessed in an earlier session, said once."""
    if right:
        return Text.assemble(
            ("Earlier you guessed: ", DIM), (guess_label, "yellow"), (". Right.", "green")
        )
    return Text.assemble(
        ("Earlier you guessed: ", DIM),
        (guess_label, "yellow"),
        (". The run: ", DIM),
        (real_label, "bold"),
        (".", DIM),
    )


def switch_prompt(number: int, label: str, hint: str, on: bool, kind: str) -> Text:
    """One switch: its number, state, label, hint, and whether it is a fix or a variation."""
    return Text.assemble(
        (f"{number} ", "bold"),
        ("[x] " if on else "[ ] ", OK if on else DIM),
        (label, "bold" if on else ""),
        (f" ({kind})", "cyan" if kind.startswith("fix") else DIM),
        (f"  {hint}", DIM),
    )


# -------------------------------------------------------------------- summary

MARKS = {"right": ("✓", "green"), "wrong": ("✗", "red"), "open": ("·", "dim")}


def summary_table(summary: Summary) -> Table:
    """The takeaway: every pitfall with the learner's result, its fix and its command.

    A grid keeps each wrapped line inside its own column, so nothing loses its indent.
    """
    table = Table.grid(padding=(0, 1))
    table.add_column(width=1, no_wrap=True)
    table.add_column(width=4, no_wrap=True, justify="right")
    table.add_column(ratio=1)
    head = Text.assemble(
        ("The tour is over. ", "bold"),
        (f"{summary.right} of {summary.total} predicted right", OK),
        (f" ({summary.answered} answered; SQLAlchemy {sqlalchemy.__version__})", DIM),
    )
    table.add_row("", "", head)
    table.add_row(
        "", "", Text("Each pitfall, its fix in one line, and the command to open it live:")
    )
    for row in summary.rows:
        mark, style = MARKS[row.result]
        title = Text(row.title, "bold")
        if row.result == "open":
            title.append("  (not answered)", DIM)
        table.add_row("", "", "")
        table.add_row(Text(mark, style), Text(f"{row.number}.", "bold"), title)
        if row.result == "wrong":
            said = Text.assemble(
                ("you said: ", DIM), (visible(row.guessed), "yellow"), (". The run: ", DIM)
            )
            said.append(visible(row.real))
            said.append(".", DIM)
            table.add_row("", "", said)
        table.add_row("", Text("fix", DIM), Text(row.fix_line, "green"))
        table.add_row("", Text("live", DIM), Text(row.command, "cyan"))
    return table


def summary_plain(summary: Summary, width: int = 78) -> str:
    """The summary as plain text at ``width``, as a terminal of that width shows it."""
    from io import StringIO

    from rich.console import Console

    console = Console(width=width, record=True, color_system=None, file=StringIO())
    console.print(summary_table(summary))
    return console.export_text()

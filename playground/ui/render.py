"""Turn the core's plain results into Rich ``Text``, never parsing markup.

Every string that came from a user, a database or an exception goes through
``visible()`` into ``Text`` objects, so brackets stay brackets and escape sequences
are shown as escapes instead of reaching the terminal.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.text import Text

if TYPE_CHECKING:
    from rich.syntax import Syntax

from ..core.names import visible, visible_lines
from ..core.results import LOGGING_ERROR, ExperimentResult, Explanation, Script

OK = "bold green"
FAIL = "bold red"
WARN = "bold yellow"
DIM = "dim"
NAME_PREVIEW = 24
LOG_STEPS = 4
STDERR_LINES = 40
RAISED_LINE = re.compile(r"^[A-Za-z_]\w*(?:\.\w+)*: .*$", re.MULTILINE)
"""A traceback's last line, ``module.Type: message``; frames and notes are indented or bracketed."""


def settings_text(result: ExperimentResult) -> str:
    return "  ".join(f"{key}={'on' if value else 'off'}" for key, value in result.settings)


def settings_brief(result: ExperimentResult) -> str:
    """The switches that were on, which is what tells two entries apart."""
    on = [key for key, value in result.settings if value]
    if not on:
        return "all switches off"
    if len(on) == len(result.settings):
        return "all switches on"
    return " ".join(on) + " on, others off"


def preview(name: str, limit: int = NAME_PREVIEW) -> str:
    shown = visible(name)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def swallowed_by_logging(stderr: str) -> str | None:
    """The exception a logging error report on stderr names, or None when there is no report.

    logging catches what formatting a record raised and prints "--- Logging error ---" with
    the traceback, so the read still succeeds; a never-awaited warning is no such report.
    """
    reports = stderr.split(LOGGING_ERROR)[1:]
    if not reports:
        return None
    # The "Call stack:" part of a report ends with Message and Arguments lines, not raises.
    raised = [line for r in reports for line in RAISED_LINE.findall(r.split("\nCall stack:")[0])]
    if any("MissingGreenlet" in line for line in raised):
        return "MissingGreenlet"
    return raised[-1].split(":", 1)[0].rsplit(".", 1)[-1] if raised else "an exception"


def outcome_line(result: ExperimentResult) -> Text:
    """The one line that says how the read ended."""
    outcome = result.outcome
    if outcome.error is None:
        swallowed = swallowed_by_logging(result.stderr)
        if swallowed is not None:
            return Text.assemble(
                ("⚠ ", WARN),
                (f"logged nothing: logging swallowed {swallowed}", WARN),
                (f"; then {outcome.expression} = {outcome.value}", "yellow"),
            )
        return Text.assemble(("✓ ", OK), (f"{outcome.expression} = {outcome.value}", OK))
    error = outcome.error
    line = Text("✗ ", FAIL)
    if error.involves_missing_greenlet:
        line.append("MissingGreenlet", FAIL)
        if error.wrapped_missing_greenlet:
            line.append(f" (raised as {error.outer.type_name.rsplit('.', 1)[-1]})", "red")
    else:
        line.append(error.outer.type_name.rsplit(".", 1)[-1], FAIL)
        message = visible(error.outer.message.splitlines()[0]) if error.outer.message else ""
        line.append(f": {message[:120]}", "red")
    return line


def log_entry(result: ExperimentResult, explanation: Explanation) -> Text:
    """A compact entry for the live log: a few lines, the newest at the bottom."""
    text = Text.assemble(
        (f"#{result.seq}", "bold"),
        (f"  {result.started_at:%H:%M:%S}  ", DIM),
        (settings_brief(result), "cyan"),
    )
    shown = result.steps[-LOG_STEPS:]
    steps = " → ".join(_short_step(step, result) for step in shown)
    if len(result.steps) > LOG_STEPS:
        steps = "… → " + steps
    text.append("\n  ")
    text.append(steps, DIM)
    text.append("\n  ")
    text.append_text(outcome_line(result))
    if explanation.short:
        text.append("\n  ")
        text.append(explanation.short, "italic")
    if result.committed and not result.outcome.ok:
        uids = ", ".join(str(uid) for uid, _ in result.committed)
        where = "" if result.table == "playground_users" else f" in {result.table}"
        text.append(f"\n  row committed anyway{where}: {result.key_name} {uids}", "yellow")
    if len(explanation.fixes) <= 2:
        for number, fix in enumerate(explanation.fixes, start=1):
            text.append(f"\n  fix {number}: ", DIM)
            text.append(fix.code.split("  #")[0], "green")
    else:
        text.append("\n  fixes: ", DIM)
        text.append(", ".join(fix.label for fix in explanation.fixes), "green")
        text.append(" (F6 shows the code)", DIM)
    return text


def _short_step(step: str, result: ExperimentResult) -> str:
    """A step label short enough for the log line: no comments, no ``await session.``."""
    step = step.split("  #", 1)[0].strip()
    if "(name=...)" in step:
        # The name's own preview is already cut to size; cut nothing more of it.
        return step.split("=", 1)[-1].strip().replace("...", repr(preview(result.user_input)))
    step = step.replace("await ", "").replace("session.", "").replace(" as session:", "")
    return step if len(step) <= 32 else step[:31] + "…"


def details(result: ExperimentResult, explanation: Explanation) -> RenderableType:
    """Everything about one run: why, the fixes, SQL, object states, the exception chain."""
    parts: list[RenderableType] = []
    head = Text.assemble(
        (f"#{result.seq} ", "bold"),
        (f"{result.scenario}  {result.started_at:%H:%M:%S}  {result.duration_ms:.1f} ms  ", DIM),
        (f"SQLAlchemy {result.sqlalchemy_version} on {result.backend}", DIM),
    )
    parts += [head, Text(settings_text(result), "cyan")]
    parts.append(Text(f"name: {visible(result.user_input)}"))
    parts.append(Text(""))
    parts.append(Text(explanation.headline, _headline_style(result)))
    parts += [Text(f"  {visible(line)}") for line in explanation.why]
    if explanation.fixes:
        parts.append(_heading("Fixes"))
        for fix in explanation.fixes:
            parts.append(Text.assemble(("  " + fix.label + ": ", DIM), (fix.code, "green")))
    parts += [Text(note, DIM) for note in explanation.notes]
    parts.append(_heading("SQL, in order"))
    if not result.sql:
        parts.append(Text("  (none)", DIM))
    for statement in result.sql:
        line = Text(f"  [{statement.step}] ", DIM)
        line.append(visible(statement.sql.replace("\n", " ")), "red" if statement.attempted else "")
        if statement.parameters:
            line.append(f"  {visible(statement.parameters)}", DIM)
        if statement.attempted:
            line.append("  ← attempted; never reached the database", "bold red")
        parts.append(line)
    parts.append(_heading("Object state (inspect(), no IO)"))
    for snap in result.states:
        line = Text(f"  {snap.step:<28} ", DIM)
        line.append(f"{snap.state:<10}", "bold")
        if snap.expired:
            line.append(f" expired: {', '.join(snap.expired)}", "yellow")
        if snap.loaded:
            loaded = ", ".join(f"{key}={visible(value)}" for key, value in snap.loaded)
            line.append(f" loaded: {loaded}")
        parts.append(line)
    error = result.outcome.error
    if error is not None:
        parts.append(_heading("Exception chain (outermost first)"))
        for link in error.chain:
            line = Text(f"  {link.relation}: ", DIM)
            line.append(link.type_name, FAIL if link.is_missing_greenlet else "bold")
            parts.append(line)
            message = link.message.splitlines()[0] if link.message else ""
            parts.append(Text("    " + visible(message)))
        parts.append(_heading("Traceback"))
        parts.append(Text(visible_lines(error.traceback.rstrip()), DIM))
    parts += stderr_parts(result.stderr)
    return Group(*parts)


def _headline_style(result: ExperimentResult) -> str:
    if not result.outcome.ok:
        return FAIL
    return WARN if swallowed_by_logging(result.stderr) is not None else OK


def stderr_parts(stderr: str, limit: int = STDERR_LINES) -> list[RenderableType]:
    """The captured stderr as plain text, its first ``limit`` lines and a count of the rest."""
    lines = stderr.rstrip().splitlines()
    if not lines:
        return []
    title = f"Captured stderr ({len(lines)} line{'s' if len(lines) > 1 else ''})"
    parts: list[RenderableType] = [_heading(title)]
    parts.append(Text("\n".join(visible(line) for line in lines[:limit])))
    if len(lines) > limit:
        rest = len(lines) - limit
        parts.append(Text(f"… {rest} more line{'s' if rest > 1 else ''} (the export has all)", DIM))
    return parts


def _heading(title: str) -> Text:
    return Text(f"\n{title}", "bold underline")


def script_view(script: Script) -> Syntax:
    """The exported script, with the lines a setting changes highlighted."""
    from rich.syntax import Syntax  # pygments is heavy; load it when a script is shown

    syntax = Syntax(
        script.text,
        "python",
        line_numbers=True,
        highlight_lines=set(script.marked),
        word_wrap=False,
        theme="monokai",
    )
    for line in script.marked:
        syntax.stylize_range("on #4a3f00", (line, 0), (line + 1, 0))
    return syntax

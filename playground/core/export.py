"""A session's log as Markdown, to paste into an issue or a chat.

User text goes into fenced blocks, so nothing typed is read as Markdown either.
"""

from __future__ import annotations

from collections.abc import Iterable

from .names import visible, visible_lines
from .results import ExperimentResult, Explanation


def _fence(text: str, lang: str = "") -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{lang}\n{text.rstrip()}\n{fence}"


def entry_markdown(result: ExperimentResult, explanation: Explanation) -> str:
    """One log entry: settings, steps, outcome, why, SQL, states, traceback and stderr."""
    settings = ", ".join(f"`{key}={value}`" for key, value in result.settings)
    lines = [
        f"## #{result.seq} {result.scenario} at {result.started_at:%Y-%m-%d %H:%M:%S}",
        "",
        f"- settings: {settings}",
        f"- SQLAlchemy {result.sqlalchemy_version} on {result.backend}, "
        f"{result.duration_ms:.1f} ms",
        f"- name: {visible(result.user_input)[:200]!r}",
        f"- ran: {' → '.join(f'`{step}`' for step in result.steps)}",
        f"- outcome: **{visible(explanation.headline)}**",
    ]
    if result.committed:
        lines.append(f"- committed uids: {', '.join(str(uid) for uid, _ in result.committed)}")
    lines += ["", *[visible(line) for line in explanation.why]]
    if explanation.fixes:
        lines += ["", "Fixes:", ""]
        lines += [f"- {fix.label}: `{fix.code}`" for fix in explanation.fixes]
    lines += ["", *explanation.notes]
    if result.sql:
        sql = "\n".join(
            f"-- {s.step}{' (attempted, never reached the database)' if s.attempted else ''}\n"
            f"{s.sql}" + (f"\n-- parameters: {s.parameters}" if s.parameters else "")
            for s in result.sql
        )
        lines += ["", "SQL:", "", _fence(visible_lines(sql), "sql")]
    if result.states:
        lines += ["", "Object state:", "", "| after | state | expired | loaded |"]
        lines.append("|---|---|---|---|")
        for snap in result.states:
            loaded = ", ".join(f"{k}={v}" for k, v in snap.loaded).replace("|", "\\|")
            lines.append(
                f"| `{snap.step}` | {snap.state} | {', '.join(snap.expired)} | {visible(loaded)} |"
            )
    error = result.outcome.error
    if error is not None:
        lines += ["", "Traceback:", "", _fence(visible_lines(error.traceback), "text")]
    if result.stderr.strip():
        lines += ["", "Captured stderr:", "", _fence(visible_lines(result.stderr), "text")]
    return "\n".join(lines) + "\n"


def log_markdown(
    entries: Iterable[tuple[ExperimentResult, Explanation]], header: str, dropped: int = 0
) -> str:
    """The whole log, oldest first."""
    parts = [f"# playground log\n\n{header}\n"]
    if dropped:
        parts.append(f"_{dropped} older entries were dropped from the log before this export._\n")
    parts += [entry_markdown(result, explanation) for result, explanation in entries]
    return "\n".join(parts)

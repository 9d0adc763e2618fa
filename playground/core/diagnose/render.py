"""Lay a diagnosis out once, as lines with roles, for every place that shows it.

The command line prints the lines as they are; the paste screen styles each by its
role. Both show the same report, so a fix made here reaches both. Every piece of the
user's text in a line has been escaped (``visible``), so no renderer has to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..names import visible
from .diagnosis import Diagnosis, context_names

HEADING = "heading"
PITFALL = "pitfall"
TITLE = "title"
TEXT = "text"
DIM = "dim"
SOURCE = "source"
"""A line of the user's input, quoted."""
WHY = "why"
CODE = "code"
COMMAND = "command"
BLANK = "blank"


@dataclass(frozen=True)
class ReportLine:
    """One line of the report: its role and its text (already escaped)."""

    role: str
    text: str


def _subject(diagnosis: Diagnosis) -> str:
    if diagnosis.class_name and diagnosis.attribute:
        return f"{diagnosis.class_name}.{diagnosis.attribute}"
    if diagnosis.attribute:
        return f".{diagnosis.attribute}"
    return diagnosis.class_name or ""


def report_lines(diagnosis: Diagnosis, live: str | None = None) -> list[ReportLine]:
    """The report: the verdict, where, the evidence, the lesson, the fixes, how to see it.

    ``live`` replaces the closing "See it live" line (the paste screen says which key
    opens it).
    """
    out: list[ReportLine] = []

    def add(role: str, text: str = "") -> None:
        out.append(ReportLine(role if text or role != BLANK else BLANK, visible(text)))

    if diagnosis.pitfall is None:
        add(HEADING, "No pitfall recognized.")
        add(TEXT, f"Why: {diagnosis.reason}.")
        if diagnosis.exception:
            add(TEXT, f"Final exception: {diagnosis.exception}")
        if diagnosis.missing:
            add(BLANK)
            add(HEADING, "What the text lacks:")
            for item in diagnosis.missing:
                add(DIM, f"  - {item}")
        if diagnosis.evidence:
            add(BLANK)
            add(HEADING, "What it shows:")
            _evidence(diagnosis, add)
        _notes(diagnosis, add)
        return out

    add(PITFALL, f"Pitfall: {diagnosis.pitfall} ({diagnosis.confidence} confidence)")
    add(TITLE, f"  {diagnosis.title}")
    add(TEXT, f"  Why: {diagnosis.reason}.")
    if diagnosis.surface:
        add(TEXT, f"  Showed up in: {diagnosis.surface}")
    if diagnosis.alternatives:
        add(DIM, f"  Could also be: {', '.join(diagnosis.alternatives)}")
    if diagnosis.confirm:
        add(DIM, f"  To confirm: {diagnosis.confirm}")
    if diagnosis.where is not None:
        add(SOURCE, f"  Where: line {diagnosis.where.line}: {diagnosis.where.text}")
    subject = _subject(diagnosis)
    if subject:
        add(TEXT, f"  Reading: {subject}")
    if diagnosis.exception:
        add(TEXT, f"  Raised: {diagnosis.exception}")
    add(BLANK)
    add(HEADING, "Evidence:")
    _evidence(diagnosis, add)
    add(BLANK)
    add(TEXT, diagnosis.explanation)
    if diagnosis.contexts:
        add(DIM, f"Seen in: {', '.join(context_names(diagnosis.contexts))}.")
    add(BLANK)
    add(HEADING, "Fixes:")
    for number, fix in enumerate(diagnosis.fixes, 1):
        add(TEXT, f"  {number}. {fix.title}")
        for code in fix.code.splitlines():
            add(CODE, f"       {code}")
    add(BLANK)
    if live is not None:
        add(COMMAND, live)
    elif diagnosis.command:
        add(COMMAND, f"See it live: {diagnosis.command}")
    else:
        add(DIM, "See it live: no live scenario yet.")
    if diagnosis.missing:
        add(BLANK)
        add(DIM, "The text lacks:")
        for item in diagnosis.missing:
            add(DIM, f"  - {item}")
    _notes(diagnosis, add)
    return out


def _evidence(diagnosis: Diagnosis, add: Callable[[str, str], None]) -> None:
    for item in diagnosis.evidence:
        add(SOURCE, f"  line {item.line}: {item.text}")
        add(WHY, f"      {item.why}")


def _notes(diagnosis: Diagnosis, add: Callable[[str, str], None]) -> None:
    if diagnosis.notes:
        add(BLANK, "")
        for note in diagnosis.notes:
            add(DIM, f"Note: {note}")


def render_text(diagnosis: Diagnosis) -> str:
    """The report as plain text, one line per report line."""
    return "\n".join(line.text for line in report_lines(diagnosis)) + "\n"

"""The diagnosis as plain text, for the command line and anything without Rich."""

from __future__ import annotations

from ..names import visible
from .diagnosis import Diagnosis, context_names


def render_text(diagnosis: Diagnosis) -> str:
    """A readable report: pitfall, evidence, explanation, fixes and the live command."""
    out: list[str] = []
    if diagnosis.pitfall is None:
        out.append("No pitfall recognized.")
        if diagnosis.exception:
            out.append(f"Final exception: {diagnosis.exception}")
        if diagnosis.missing:
            out.append("")
            out.append("What the text lacks:")
            out.extend(f"  - {item}" for item in diagnosis.missing)
        if diagnosis.evidence:
            out.append("")
            out.append("What it shows:")
            out.extend(f"  line {e.line}: {e.text}\n      {e.why}" for e in diagnosis.evidence)
        out.extend(_notes(diagnosis))
        return "\n".join(visible(line) for line in out) + "\n"

    out.append(f"Pitfall: {diagnosis.pitfall} ({diagnosis.confidence} confidence)")
    out.append(f"  {diagnosis.title}")
    out.append(f"  Why: {diagnosis.reason}.")
    if diagnosis.alternatives:
        out.append(f"  Same evidence could also be: {', '.join(diagnosis.alternatives)}")
    if diagnosis.where is not None:
        out.append(f"  Where: {diagnosis.where.text}")
    subject = _subject(diagnosis)
    if subject:
        out.append(f"  Reading: {subject}")
    if diagnosis.exception:
        out.append(f"  Raised: {diagnosis.exception}")
    out.append("")
    out.append("Evidence:")
    for item in diagnosis.evidence:
        out.append(f"  line {item.line}: {item.text}")
        out.append(f"      {item.why}")
    out.append("")
    out.append(diagnosis.explanation)
    if diagnosis.contexts:
        out.append(f"Seen in: {', '.join(context_names(diagnosis.contexts))}.")
    out.append("")
    out.append("Fixes:")
    for number, fix in enumerate(diagnosis.fixes, 1):
        out.append(f"  {number}. {fix.title}")
        out.extend(f"       {code}" for code in fix.code.splitlines())
    out.append("")
    if diagnosis.command:
        out.append(f"See it live: {diagnosis.command}")
    else:
        out.append("See it live: no live scenario yet.")
    if diagnosis.missing:
        out.append("")
        out.append("To be surer, the text lacks:")
        out.extend(f"  - {item}" for item in diagnosis.missing)
    out.extend(_notes(diagnosis))
    return "\n".join(visible(line) for line in out) + "\n"


def _subject(diagnosis: Diagnosis) -> str:
    if diagnosis.class_name and diagnosis.attribute:
        return f"{diagnosis.class_name}.{diagnosis.attribute}"
    if diagnosis.attribute:
        return f".{diagnosis.attribute}"
    return diagnosis.class_name or ""


def _notes(diagnosis: Diagnosis) -> list[str]:
    if not diagnosis.notes:
        return []
    return ["", *(f"Note: {note}" for note in diagnosis.notes)]

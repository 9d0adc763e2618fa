"""Put the reading, the signals, the rules and the weighed guess together into one diagnosis.

``diagnose(text)`` never raises on any input: it reads a bounded window from the end,
finds the signals (messages, frames, prose, signs in pasted code), takes the first rule
that matches, and when none is sure, weighs the evidence into a best guess with an
honest confidence, its runner-up and what would confirm it. It names no pitfall only
when nothing in the text relates to SQLAlchemy's asyncio layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from ..names import visible
from .guess import FAMILY, Ranking, Word, find_words, rank, related
from .meanings import Signal, find_signals, timestamp_attribute
from .pitfalls import (
    ALEMBIC,
    BACKGROUND,
    BY_ID,
    CONTEXT_NAMES,
    FASTAPI,
    LIBRARY,
    PYDANTIC,
    PYTEST,
    SERIALIZATION,
    SERVER_GENERATED,
    Pitfall,
    ordered_fixes,
)
from .reader import Frame, Reading, read
from .rules import HIGH, LOW, MEDIUM, Rule, first_match
from .snippets import CodeSign, code_blocks, code_signs

MAX_EVIDENCE = 8
FRAMEWORKS = frozenset(
    {
        "fastapi",
        "starlette",
        "uvicorn",
        "anyio",
        "asyncio",
        "pydantic",
        "pydantic_core",
        "python",
        "contextlib",
        "_pytest",
        "pytest",
        "pluggy",
        "pytest_asyncio",
        "celery",
        "kombu",
        "alembic",
        "logging",
        "runpy",
        "debugpy",
        "greenlet",
        "site-packages",
        "concurrent",
        "threading",
        "marshmallow",
        "jinja2",
    }
)
_ATTRIBUTE = re.compile(r"([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)\.([A-Za-z_]\w*)\b(?!\s*\()")
_NOT_AVAILABLE = re.compile(r"'(\w+)\.(\w+)' is not available")
_NAMED_ATTRIBUTE = re.compile(r"operation of attribute '(\w+)'")
_INSTANCE = re.compile(r"(?:Instance|instance|input_value=)\s*<(?:[\w.]+\.)?(\w+)(?: object)? at ")
_INPUT_TYPE = re.compile(r"input_type=(\w+)")
_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")


@dataclass(frozen=True)
class Evidence:
    """A line of the input the diagnosis relied on, and why it matters."""

    line: int
    text: str
    why: str

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "text": self.text, "why": self.why}


@dataclass(frozen=True)
class Fix:
    """A way out, as code."""

    title: str
    code: str

    def to_json(self) -> dict[str, str]:
        return {"title": self.title, "code": self.code}


@dataclass(frozen=True)
class Diagnosis:
    """Which pitfall the text shows, the evidence, the lesson and the live scenario."""

    pitfall: str | None
    title: str
    confidence: str
    """``high``, ``medium`` or ``low``; ``none`` when no pitfall is named."""
    reason: str
    evidence: tuple[Evidence, ...] = ()
    where: Evidence | None = None
    """The user's own frame that set off the IO, when the text shows one."""
    attribute: str | None = None
    class_name: str | None = None
    explanation: str = ""
    fixes: tuple[Fix, ...] = ()
    contexts: tuple[str, ...] = ()
    scenario: str | None = None
    settings: tuple[tuple[str, bool], ...] = ()
    alternatives: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    """What the text lacks, most important first."""
    notes: tuple[str, ...] = ()
    exception: str | None = None
    """The final exception line, as read."""
    surface: str | None = None
    """Where the pitfall showed when that differs from its cause (a serializer, say)."""
    confirm: str = ""
    """What would make a guess sure; empty when the answer is already sure."""

    @property
    def named(self) -> bool:
        return self.pitfall is not None

    @property
    def command(self) -> str | None:
        """The command that opens the matching scenario with the switches that reproduce it."""
        if self.scenario is None:
            return None
        flags = "".join(f" --{key.replace('_', '-')}" for key, on in self.settings if on)
        return f"playground --scenario {self.scenario}{flags}"

    @property
    def settings_dict(self) -> dict[str, bool]:
        return dict(self.settings)

    def to_json(self) -> dict[str, Any]:
        """A plain dict (JSON-ready) with every field, the command included."""
        return {
            "pitfall": self.pitfall,
            "title": self.title,
            "confidence": self.confidence,
            "reason": self.reason,
            "where": self.where.to_json() if self.where else None,
            "attribute": self.attribute,
            "class": self.class_name,
            "evidence": [item.to_json() for item in self.evidence],
            "explanation": self.explanation,
            "fixes": [fix.to_json() for fix in self.fixes],
            "contexts": list(self.contexts),
            "scenario": self.scenario,
            "settings": self.settings_dict,
            "command": self.command,
            "alternatives": list(self.alternatives),
            "missing": list(self.missing),
            "notes": list(self.notes),
            "exception": self.exception,
            "surface": self.surface,
            "confirm": self.confirm,
        }


def diagnose(text: str, skipped_lines: int = 0) -> Diagnosis:
    """Name the pitfall a pasted traceback, log line, report or code shows, with its evidence."""
    reading = read(text, skipped_lines)
    notes = _notes(reading)
    final = reading.final_exception
    if final is not None and reading.frames and reading.frames[-1].number > final.number:
        final = None  # frames after the last exception line: the text stops before its end
    exception = visible(f"{final.type}: {final.message}".rstrip(": ")) if final else None
    if not reading.text.strip():
        return Diagnosis(
            None,
            "Nothing to read",
            "none",
            "the input is empty",
            missing=("the input is empty: paste a traceback, a log line, a report or code",),
            notes=notes,
        )

    signals = find_signals(reading)
    where_frame = _where(reading)
    lazy = any(signal.kind in ("lazy-load", "lazy-sql") for signal in signals)
    attribute, class_name = _attribute_and_class(reading, where_frame, lazy)
    if timestamp_attribute(attribute):
        line = where_frame.number if where_frame is not None else reading.lines[-1].number
        shown = _frame_line(where_frame) if where_frame is not None else f".{attribute}"
        signals.append(
            Signal(
                "timestamp-name",
                line,
                shown,
                f"'{attribute}' is named like a column the database keeps up to date (onupdate)",
            )
        )
    if final is None and reading.frames:
        signals.append(
            Signal(
                "final-line-missing",
                reading.lines[-1].number,
                "",
                "the text ends before the final exception line",
            )
        )
    blocks = code_blocks(reading)
    signs = code_signs(reading, blocks)  # never raises: deep or broken code gives no signs
    for sign in signs:
        signals.append(
            Signal(
                "code-finding" if sign.finding else "code-hint",
                sign.line,
                sign.text,
                f"in your code: {sign.message}",
            )
        )
    kinds = {signal.kind for signal in signals}
    words = find_words(reading)
    rule = first_match(kinds)
    contexts = _contexts(reading, where_frame)
    where = (
        Evidence(
            where_frame.number,
            visible(_frame_line(where_frame)),
            "your code that set it off" + _library_note(reading, where_frame),
        )
        if where_frame is not None
        else None
    )
    if where is None:
        where = _code_where(signs)
    extra = _code_weights(signs)
    if (
        rule is not None
        and rule.confidence == MEDIUM
        and not reading.exceptions
        and not reading.frames
        and blocks
        and not any(s.finding and BY_ID.get(s.pitfall) is rule.pitfall for s in signs)
    ):
        # Code and no error: the medium rule rests on names in the code it quotes, which
        # the static check has read more closely and not found at fault.
        rule = replace(rule, confidence=LOW)
    if rule is not None and rule.confidence == LOW:
        extra[rule.pitfall] = extra.get(rule.pitfall, 0.0) + 3.0
    ranking = rank(kinds, words, extra)
    family = (
        related(kinds, words)
        or any(sign.finding for sign in signs)
        or (bool(signs) and "async-api" in kinds and "other-orm" not in kinds)
    )
    chosen, confidence, reason, alternatives, surface = _decide(rule, ranking, kinds, family, signs)
    if confidence == HIGH and not reading.frames and not reading.exceptions:
        # Prose that names an error is not the error raised: it may be an earlier one.
        confidence = MEDIUM
    missing = _missing(reading, kinds, where_frame, final is None and bool(reading.frames))
    if chosen is None:
        other = next((signal.why for signal in signals if signal.kind == "other-error"), None)
        why = (
            "an engine or connection outlived its event loop: an event-loop lifetime problem, "
            "not one of these pitfalls"
            if "loop-mismatch" in kinds
            else f"the error raised names another problem: {other}; not one of these pitfalls"
            if other is not None and not kinds & FAMILY
            else "a method of query results was called on the session: a wrong method name, "
            "not one of these pitfalls (await session.scalar(stmt), or call it on the result "
            "of await session.execute(stmt))"
            if "result-method" in kinds
            else "nothing in the text relates to SQLAlchemy's asyncio layer going wrong"
            if not family
            else "no rule matches the evidence in the text"
        )
        if "not one of these pitfalls" in why:
            missing = ()  # the problem is named: no more of the text would change the answer
        return Diagnosis(
            None,
            "No pitfall recognized",
            "none",
            why,
            evidence=_evidence(signals, tuple(sorted(kinds)), where),
            where=where,
            attribute=attribute,
            class_name=class_name,
            contexts=contexts,
            missing=missing,
            notes=notes,
            exception=exception,
        )

    wanted = _wanted(rule, chosen, surface)
    settings = _settings(chosen, kinds)
    return Diagnosis(
        pitfall=chosen.id,
        title=chosen.title,
        confidence=confidence,
        reason=reason,
        evidence=_evidence(signals, wanted, where, _words_for(ranking.words, chosen, surface)),
        where=where,
        attribute=attribute,
        class_name=class_name,
        explanation=chosen.explanation,
        fixes=tuple(Fix(fix.title, fix.code) for fix in ordered_fixes(chosen, contexts, kinds)),
        contexts=contexts,
        scenario=chosen.scenario,
        settings=tuple(sorted(settings.items())),
        alternatives=tuple(p.id for p in alternatives),
        missing=missing,
        notes=notes,
        exception=exception,
        surface=surface.id if surface is not None else None,
        confirm=_confirm(chosen, confidence, reading, where_frame),
    )


def _decide(
    rule: Rule | None,
    ranking: Ranking,
    kinds: set[str],
    family: bool,
    signs: list[CodeSign],
) -> tuple[Pitfall | None, str, str, tuple[Pitfall, ...], Pitfall | None]:
    """The pitfall to name, how sure, why, the runners-up, and the surface it showed on."""
    if rule is not None and rule.confidence in (HIGH, MEDIUM):
        chosen = rule.pitfall
        confidence = rule.confidence
        reason = rule.reason
        surface: Pitfall | None = None
        if chosen is SERIALIZATION and kinds & {"server-generated", "timestamp-name"}:
            # The serializer is where it showed; a column the database rewrites is why.
            surface, chosen = SERIALIZATION, SERVER_GENERATED
            confidence = MEDIUM
            reason = (
                "a serializer read a column the database fills in (server_default, "
                "onupdate), left expired by the INSERT or UPDATE: the serializer is where "
                "it showed, the column is why"
            )
        runners = tuple(dict.fromkeys((*rule.alternatives, *ranking.after(chosen, 3))))
        runners = tuple(p for p in runners if p is not chosen and p is not surface)
        return chosen, confidence, reason, runners[:3], surface
    if not family or ranking.best is None:
        return None, "none", "", (), None
    if "loop-mismatch" in kinds and not kinds & {"missing-greenlet", "detached", "code-finding"}:
        return None, "none", "", (), None
    if kinds & {"result-method", "other-error"} and not kinds & FAMILY:
        return None, "none", "", (), None
    chosen = ranking.best
    if rule is not None and rule.pitfall is chosen:
        reason = rule.reason
    else:
        reason = "the evidence in the text leans this way; nothing in it is conclusive"
    sign = next((s for s in signs if BY_ID.get(s.pitfall) is chosen and s.finding), None)
    if sign is None:
        sign = next((s for s in signs if BY_ID.get(s.pitfall) is chosen), None)
    confidence = LOW
    if sign is not None:
        reason = f"in your code, line {sign.line}: {sign.message}"
        if sign.finding and sign.confidence == HIGH:
            confidence = MEDIUM  # the static check's precise sign, not yet a raised error
    return chosen, confidence, reason, ranking.after(chosen, 3), None


def _code_weights(signs: list[CodeSign]) -> dict[Pitfall, float]:
    weights: dict[Pitfall, float] = {}
    for sign in signs:
        pitfall = BY_ID.get(sign.pitfall)
        if pitfall is None:
            continue
        weight = {"high": 5.0, "medium": 4.0}.get(sign.confidence, 1.0) if sign.finding else 0.75
        weights[pitfall] = weights.get(pitfall, 0.0) + weight
    return weights


def _code_where(signs: list[CodeSign]) -> Evidence | None:
    """The pasted line a code finding points at, when no frame of the user's code does."""
    findings = [sign for sign in signs if sign.finding]
    if not findings:
        return None
    best = max(findings, key=lambda s: {"high": 3, "medium": 2}.get(s.confidence, 1))
    return Evidence(best.line, visible(best.text), f"your code: {best.message}")


def _wanted(rule: Rule | None, chosen: Pitfall, surface: Pitfall | None) -> tuple[str, ...]:
    kinds: list[str] = []
    if rule is not None:
        kinds += [*rule.needs, *rule.any_of]
    for pitfall in (chosen, surface):
        if pitfall is not None:
            kinds += pitfall.supporting
    kinds += ["code-finding", "missing-greenlet", "code-hint"]
    return tuple(kinds)


def _words_for(
    words: tuple[Word, ...], chosen: Pitfall, surface: Pitfall | None
) -> tuple[Evidence, ...]:
    return tuple(
        Evidence(word.line, visible(word.text[:300]), "the text speaks of this mechanism")
        for word in words
        if word.pitfall is chosen or word.pitfall is surface
    )[:2]


def _confirm(chosen: Pitfall, confidence: str, reading: Reading, where: Frame | None) -> str:
    """What would make the answer surer, when it is not already sure."""
    if confidence == HIGH:
        return ""
    if not reading.frames:
        return f"paste the whole traceback; also show {chosen.confirm}"
    if where is None:
        return f"paste the frames of your own code above the error; also show {chosen.confirm}"
    return f"show {chosen.confirm}"


def _settings(pitfall: Pitfall, kinds: set[str]) -> dict[str, bool]:
    """The switches of the matching scenario that reproduce this case."""
    wanted = pitfall.switches
    settings: dict[str, bool] = {}
    lazy = bool(kinds & {"lazy-load", "lazy-sql", "lazy-raise", "lazy-message"})
    if "just_committed" in wanted:
        expired = bool(kinds & {"expired-load", "full-reload", "expired-message"})
        settings["just_committed"] = expired or ("commit" in kinds and not lazy)
    if "fstring" in wanted:
        settings["fstring"] = "logging-error" not in kinds
    if "use_inspect" in wanted:
        settings["use_inspect"] = bool(kinds & {"no-inspection", "inspector"})
    return settings


def _evidence(
    signals: list[Signal],
    wanted: tuple[str, ...],
    where: Evidence | None,
    words: tuple[Evidence, ...] = (),
) -> tuple[Evidence, ...]:
    """The signals behind the verdict, one per line, in the order they appear."""
    chosen: dict[int, Evidence] = {}
    for kind in dict.fromkeys(wanted):
        for signal in signals:
            if signal.kind == kind and signal.text and signal.line not in chosen:
                chosen[signal.line] = Evidence(signal.line, visible(signal.text[:300]), signal.why)
                break
    if where is not None:
        chosen.setdefault(where.line, where)
    for word in words:
        chosen.setdefault(word.line, word)
    return tuple(chosen[line] for line in sorted(chosen))[:MAX_EVIDENCE]


def _frame_line(frame: Frame) -> str:
    code = f"  {frame.code}" if frame.code else ""
    return f"{frame.location} in {frame.func}{code}"


def _where(reading: Reading) -> Frame | None:
    """The user's frame nearest before SQLAlchemy (or a serializer) took over."""
    frames = reading.frames
    if not frames:
        return None
    mechanism = {"sqlalchemy", "pydantic", "pydantic_core", "marshmallow", "jinja2"}
    sections = [f.section for f in frames if f.library in mechanism]
    if sections:
        section = max(sections)
        candidates = [f for f in frames if f.section == section]
        first = next(i for i, f in enumerate(candidates) if f.library in mechanism)
        users = [f for f in candidates[:first] if f.library is None]
        if users:
            return users[-1]
    users = [f for f in frames if f.library is None]
    return users[-1] if users else None


def _library_note(reading: Reading, where: Frame) -> str:
    """A note naming the third-party library between the user's frame and SQLAlchemy, if any."""
    frames = reading.frames
    index = frames.index(where)
    for frame in frames[index + 1 :]:
        if frame.library == "sqlalchemy":
            break
        if frame.library and frame.library not in FRAMEWORKS:
            return f", through the library '{frame.library}'"
    return ""


def _attribute_and_class(
    reading: Reading, where: Frame | None, lazy: bool = False
) -> tuple[str | None, str | None]:
    """The attribute being read and the mapped class, when the text shows them."""
    attribute: str | None = None
    class_name: str | None = None
    text = reading.text
    m = _NOT_AVAILABLE.search(text)
    if m:
        class_name, attribute = m.group(1), m.group(2)
    if attribute is None:
        m = _NAMED_ATTRIBUTE.search(text)
        if m:
            attribute = m.group(1)
    if attribute is None and where is not None:
        if where.caret:
            hits = _ATTRIBUTE.findall(where.caret)
            if hits:
                attribute = hits[-1][1]  # the caret marks the very expression that failed
        if attribute is None and where.code:
            hits = _ATTRIBUTE.findall(where.code)
            if hits:
                attribute = (
                    _named_like_loaded_table(hits, text)
                    or (_gone_through(hits) if lazy else None)
                    or hits[-1][1]
                )
    if attribute is None:
        attribute = _pydantic_field(reading)
    if class_name is None:
        m = _INSTANCE.search(text) or _INPUT_TYPE.search(text)
        if m:
            class_name = m.group(1)
    return attribute, class_name


_SQL_TABLE = re.compile(r"\[SQL: SELECT [^\[\]]{0,4000}?\bFROM [\"`]?(\w{1,100})")


def _named_like_loaded_table(hits: list[tuple[str, str]], text: str) -> str | None:
    """Of the attributes on a line, the one named like the table the failed SELECT loads.

    Without a caret the line alone does not say which read failed; in
    ``invoice.customer.email`` a lazy load of ``customers`` points at ``customer``.
    """
    start = text.find("[SQL: SELECT")
    found = _SQL_TABLE.match(text, start) if start != -1 else None
    if found is None:
        return None
    table = found.group(1).lower()
    for prefix, last in hits:
        for name in (*prefix.split(".")[1:], last):
            lowered = name.lower()
            if table in (lowered, f"{lowered}s", f"{lowered}es") or (
                lowered.endswith("y") and table == f"{lowered[:-1]}ies"
            ):
                return name
    return None


def _gone_through(hits: list[tuple[str, str]]) -> str | None:
    """The first attribute a chain reads further through (``customer`` in
    ``invoice.customer.email``): a related object, which is what a lazy load fetches."""
    for prefix, _ in hits:
        parts = prefix.split(".")
        if parts[0] in ("self", "cls"):
            parts = parts[1:]  # self.user is the object itself, not a related one
        if len(parts) > 1:
            return parts[1]
    return None


def _pydantic_field(reading: Reading) -> str | None:
    """The field name pydantic prints on the line above 'Error extracting attribute'."""
    lines = reading.lines
    for index, line in enumerate(lines):
        if "Error extracting attribute" in line.text and index > 0:
            above = lines[index - 1].text.strip()
            if _IDENTIFIER.match(above):
                return above
    return None


def _contexts(reading: Reading, where: Frame | None) -> tuple[str, ...]:
    """The settings the error happened in, in the order the lessons rank fixes."""
    text = reading.text
    libraries = {frame.library for frame in reading.frames}
    seen: list[str] = []
    if libraries & {"fastapi", "starlette", "uvicorn"} or "FastAPI" in text or "fastapi" in text:
        seen.append(FASTAPI)
    if libraries & {"pydantic", "pydantic_core"} or any(
        word in text for word in ("pydantic", "model_validate", "from_orm", "BaseModel")
    ):
        seen.append(PYDANTIC)
    if "celery" in libraries or any(
        word in text for word in ("celery", "Celery", "BackgroundTasks", "create_task(")
    ):
        seen.append(BACKGROUND)
    if "alembic" in libraries or "alembic" in text or "run_migrations" in text:
        seen.append(ALEMBIC)
    if libraries & {"_pytest", "pytest", "pluggy", "pytest_asyncio"} or "conftest.py" in text:
        seen.append(PYTEST)
    if where is not None and _library_note(reading, where):
        seen.append(LIBRARY)
    elif where is None and any(
        frame.library and frame.library not in FRAMEWORKS and frame.library != "sqlalchemy"
        for frame in reading.frames
    ):
        seen.append(LIBRARY)
    return tuple(seen)


def _missing(
    reading: Reading, kinds: set[str], where: Frame | None, final_missing: bool
) -> tuple[str, ...]:
    """What the text lacks that would make a diagnosis surer, most important first."""
    lacks: list[str] = []
    if final_missing:
        lacks.append(
            "the final exception line is missing (the last line of a traceback, "
            "such as 'sqlalchemy.exc.MissingGreenlet: ...')"
        )
    if "validation-cut" in kinds:
        lacks.append(
            "the lines under the ValidationError are cut off: they name the field and say "
            "why (an 'Error extracting attribute: MissingGreenlet' settles it)"
        )
    if not reading.frames:
        lacks.append(
            "there are no stack frames (lines such as 'File \"app.py\", line 42, in handler')"
        )
    elif not any(frame.library == "sqlalchemy" for frame in reading.frames) and not kinds & {
        "sync-protocol",
        "async-engine-attr",
    }:
        # Python itself raises these on the user's own line: no SQLAlchemy frame is due.
        lacks.append(
            "SQLAlchemy's own frames are missing: they name the load that ran "
            "(expired attribute, lazy relationship, deferred column, connection)"
        )
    if reading.frames and where is None:
        lacks.append("none of the frames is your own code")
    if not kinds & (FAMILY | {"busy-connection", "pydantic-extract"}):
        lacks.append(
            "nothing in it is an error from SQLAlchemy's asyncio layer "
            "(MissingGreenlet, DetachedInstanceError, IllegalStateChangeError...)"
        )
    return tuple(lacks)


_ERROR_LINK = re.compile(r"sqlalche\.me/e/(\d)(\d+)/")
_WRAPPED_MARK = ": (sqlalchemy.exc.MissingGreenlet)"
_WRAPPER = re.compile(r"(\w{1,60}Error)$")


def _wrapper(text: str) -> re.Match[str] | None:
    """The exception class that wraps MissingGreenlet in ``Wrapper: (sqlalchemy.exc...)``.

    The literal is found first and the class name matched on the few characters before it:
    a pattern starting with ``\\w+`` would rescan long words at every position.
    """
    at = text.find(_WRAPPED_MARK)
    while at != -1:
        found = _WRAPPER.search(text, max(0, at - 61), at)
        if found:
            return found
        at = text.find(_WRAPPED_MARK, at + 1)
    return None


def _notes(reading: Reading) -> tuple[str, ...]:
    notes: list[str] = []
    link = _ERROR_LINK.search(reading.text)
    if link:
        notes.append(
            f"the error links point to SQLAlchemy {link.group(1)}.{link.group(2)}'s pages "
            f"(/e/{link.group(1)}{link.group(2)}/)"
        )
    wrapped = _wrapper(reading.text)
    if wrapped:
        notes.append(
            f"MissingGreenlet arrived wrapped in {wrapped.group(1)} (its __cause__), so "
            "'except MissingGreenlet' would not catch it"
        )
    if reading.skipped_lines:
        notes.append(
            f"only the last {len(reading.lines)} lines were read "
            f"({reading.skipped_lines} earlier lines skipped)"
        )
    if reading.cut_lines:
        notes.append(
            f"{reading.cut_lines} very long line(s) were cut to their first 2000 characters"
        )
    return tuple(notes)


def context_names(contexts: tuple[str, ...]) -> list[str]:
    """Readable names for context ids."""
    return [CONTEXT_NAMES[c] for c in contexts]

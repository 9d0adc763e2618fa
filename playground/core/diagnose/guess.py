"""Weigh weak evidence into a ranked guess when no rule of the table is sure.

A rule names a pitfall when its evidence is complete. Pastes are often not: the final
line is cut, there are no frames, or there is only a sentence. Here every piece of
evidence (a signal, a word of prose, a sign in the pasted code) adds weight to the
pitfalls it speaks for, so there is always a best guess and a runner-up to name, with
what would confirm it. Whether there is anything to guess about at all is ``related``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass

from .pitfalls import (
    ALL,
    ASYNC_DRIVER,
    CONCURRENT,
    DEFERRED,
    DETACHED,
    EXPIRED,
    GREENLET,
    HOOK,
    LAZY,
    REPR,
    ROLLBACK,
    SERIALIZATION,
    SERVER_GENERATED,
    SYNC_API,
    Pitfall,
)
from .reader import Line, Reading

WORD_WINDOW = 64_000
"""Prose is looked for in the last this-many characters only: words in a huge log are noise."""
_FRAME_LIKE = re.compile(r'File "[^"]*", line \d|\.py:\d+ in ')
"""Frame lines beyond the reader's frame limit are still not prose."""
_IMPORT = re.compile(r"^\s*(?:from\s+[\w.]+\s+import\s|import\s+[\w.]+)")
"""An import line names what a module uses, not what went wrong: not prose either."""
_TOKEN = re.compile(r"\S+")


def _without_paths(text: str) -> str:
    """``text`` with every file name of Python source blanked out, keeping its length.

    pytest's ``--tb=line`` and many loggers start a line with ``.../util/concurrency.py:161:``
    and then the message; the file name is not prose about concurrency, the message is.
    """
    if ".py" not in text:
        return text
    return _TOKEN.sub(lambda m: " " * len(m.group()) if ".py" in m.group() else m.group(), text)


WORD_WEIGHT = 1.0
STRONG_WORD_WEIGHT = 2.5
MAX_WORDS = 3
"""At most this many distinct word patterns count for one pitfall."""

FAMILY = frozenset(
    {
        "missing-greenlet",
        "greenlet-absent",
        "detached",
        "concurrent-state",
        "async-engine-attr",
        "other-session",
        "sync-protocol",
        "no-inspection",
        "lazy-raise",
        "deferred-raise",
        "lazy-message",
        "expired-message",
        "expired-load",
        "lazy-load",
        "deferred-load",
        "await-only",
        "driver-never-awaited",
        "async-call-in-library",
        "code-finding",
        "state-guard",
        "committed-state",
        "ddl-refused",
        "inspect-refused",
    }
)
"""Signals that only SQLAlchemy's asyncio layer (or a lazy load in it) leaves behind."""

WEIGHTS: dict[str, tuple[tuple[Pitfall, float], ...]] = {
    "expired-load": ((EXPIRED, 3), (SERVER_GENERATED, 1), (ROLLBACK, 1), (SERIALIZATION, 0.5)),
    "expired-message": ((EXPIRED, 2), (DETACHED, 1)),
    "full-reload": ((EXPIRED, 2), (ROLLBACK, 1)),
    "partial-reload": ((SERVER_GENERATED, 2.5), (DEFERRED, 2)),
    "state-guard": ((CONCURRENT, 2), (ROLLBACK, 1)),
    "ddl-refused": ((SYNC_API, 3),),
    "inspect-refused": ((SYNC_API, 3),),
    "lazy-load": ((LAZY, 3), (SERIALIZATION, 1)),
    "lazy-sql": ((LAZY, 2), (SERIALIZATION, 0.5)),
    "lazy-message": ((LAZY, 2), (DETACHED, 1)),
    "lazy-raise": ((LAZY, 3), (SERIALIZATION, 1)),
    "deferred-load": ((DEFERRED, 4),),
    "deferred-raise": ((DEFERRED, 4),),
    "commit": ((EXPIRED, 1.5),),
    "rollback": ((ROLLBACK, 2),),
    "server-generated": ((SERVER_GENERATED, 2),),
    "timestamp-name": ((SERVER_GENERATED, 1.5),),
    "bulky-name": ((DEFERRED, 1.5),),
    "repr": ((REPR, 3),),
    "logging-frames": ((REPR, 2),),
    "logging-error": ((REPR, 3),),
    "repr-raised": ((REPR, 3),),
    "serializer": ((SERIALIZATION, 2),),
    "pydantic-extract": ((SERIALIZATION, 3),),
    "validation-cut": ((SERIALIZATION, 1.5),),
    "validation-error": ((SERIALIZATION, 1.5),),
    "ddl": ((SYNC_API, 2),),
    "create-all-call": ((SYNC_API, 2),),
    "inspector": ((SYNC_API, 1), (ASYNC_DRIVER, 1)),
    "inspect-call": ((SYNC_API, 1),),
    "async-engine-attr": ((SYNC_API, 4),),
    "sync-protocol": ((SYNC_API, 4),),
    "async-call-in-library": ((SYNC_API, 4),),
    "no-inspection": ((SYNC_API, 4),),
    "sync-engine-attr": ((SYNC_API, 2),),
    "session-api": ((SYNC_API, 2),),
    "sync-engine-ctor": ((ASYNC_DRIVER, 1.5),),
    "async-url": ((ASYNC_DRIVER, 0.5),),
    "pool-connect": ((ASYNC_DRIVER, 1),),
    "relationship-code": ((LAZY, 1),),
    "busy-connection": ((CONCURRENT, 3),),
    "concurrent-state": ((CONCURRENT, 5),),
    "hook-words": ((HOOK, 1),),
    "committed-state": ((HOOK, 4),),
    "event-dispatch": ((HOOK, 2),),
    "greenlet-absent": ((GREENLET, 6),),
    "detached": ((DETACHED, 5),),
    "other-session": ((DETACHED, 4),),
    "missing-greenlet": ((LAZY, 0.6), (EXPIRED, 0.5), (SERIALIZATION, 0.2)),
}
"""How much each signal speaks for each pitfall; the bare MissingGreenlet line leans on
how often each cause is behind it."""


@dataclass(frozen=True)
class Word:
    """A word of prose that speaks of a pitfall's mechanism, where it was seen."""

    pitfall: Pitfall
    line: int
    text: str
    pattern: str
    strong: bool = False


@dataclass(frozen=True)
class Ranking:
    """Every pitfall with any weight, heaviest first, and the words behind them."""

    scores: tuple[tuple[Pitfall, float], ...]
    words: tuple[Word, ...]

    @property
    def best(self) -> Pitfall | None:
        return self.scores[0][0] if self.scores else None

    def after(self, chosen: Pitfall, count: int = 2) -> tuple[Pitfall, ...]:
        """The heaviest pitfalls other than ``chosen``."""
        return tuple(p for p, _ in self.scores if p is not chosen)[:count]


def find_words(reading: Reading) -> list[Word]:
    """Each pitfall's prose patterns found in the tail of the text, first hit of each.

    Frame lines are left out: a path such as ``_concurrency_py3k.py`` is not prose about
    concurrency.
    """
    frames = {frame.number for frame in reading.frames}
    shown = reading.text.split("\n")  # a library's source under its frame is blanked here
    lines = [
        line
        for index, line in enumerate(reading.lines)
        if line.number not in frames
        and index < len(shown)
        and shown[index]
        and not _FRAME_LIKE.search(line.text)
        and not _IMPORT.match(line.text)
    ]
    kept: list[Line] = []
    size = 0
    for line in reversed(lines):
        size += len(line.text) + 1
        if size > WORD_WINDOW:
            break
        kept.append(line)
    kept.reverse()
    text = "\n".join(_without_paths(line.text) for line in kept)
    starts = []
    position = 0
    for line in kept:
        starts.append(position)
        position += len(line.text) + 1
    found: list[Word] = []
    for pitfall in ALL:
        spans: list[tuple[int, int]] = []
        for index, pattern in enumerate(pitfall.patterns):
            hit = _first_apart(pattern, text, spans)
            if hit is not None:
                spans.append(hit.span())
                line = kept[bisect_right(starts, hit.start()) - 1]
                found.append(
                    Word(
                        pitfall,
                        line.number,
                        line.text.strip(),
                        pattern.pattern,
                        index < pitfall.strong,
                    )
                )
    return found


def _first_apart(
    pattern: re.Pattern[str], text: str, spans: list[tuple[int, int]]
) -> re.Match[str] | None:
    """The first hit of ``pattern`` that overlaps none of ``spans``.

    Two patterns of one pitfall on the same words ("lazy load" is both a lazy load and
    "lazy") are one word, not two; a later hit elsewhere still counts.
    """
    for tries, hit in enumerate(pattern.finditer(text)):
        if tries == _TRIES:
            return None
        if not any(hit.start() < end and start < hit.end() for start, end in spans):
            return hit
    return None


_TRIES = 8


def rank(kinds: set[str], words: list[Word], extra: dict[Pitfall, float] | None = None) -> Ranking:
    """Weigh signals, words and any extra weight (code signs, a weak rule) per pitfall."""
    scores: dict[Pitfall, float] = defaultdict(float)
    if "driver-never-awaited" in kinds and "missing-greenlet" not in kinds:
        # The dropped driver coroutine is what a MissingGreenlet leaves behind when the
        # error itself was cut off: weigh it as the error.
        kinds = kinds | {"missing-greenlet"}
    for kind in kinds:
        for pitfall, weight in WEIGHTS.get(kind, ()):
            scores[pitfall] += weight
    counted: dict[Pitfall, int] = defaultdict(int)
    for word in words:
        if counted[word.pitfall] < MAX_WORDS:
            counted[word.pitfall] += 1
            scores[word.pitfall] += STRONG_WORD_WEIGHT if word.strong else WORD_WEIGHT
    serializer = any(w.pitfall is SERIALIZATION and w.pattern != "schema" for w in words)
    if serializer and counted[LAZY]:
        # A serializer and an unloaded relationship, both named: the two halves of one
        # pitfall, the serializer reading the relationship. ("schema" alone may be the
        # database's.)
        scores[SERIALIZATION] += WORD_WEIGHT
    for pitfall, weight in (extra or {}).items():
        scores[pitfall] += weight
    order = {pitfall: index for index, pitfall in enumerate(ALL)}
    ranked = sorted(
        ((p, s) for p, s in scores.items() if s > 0), key=lambda item: (-item[1], order[item[0]])
    )
    return Ranking(tuple(ranked), tuple(words))


def related(kinds: set[str], words: list[Word]) -> bool:
    """True when the text shows anything of SQLAlchemy's asyncio layer going wrong.

    An error or frame only this family leaves behind counts; so do the word greenlet
    beside SQLAlchemy and expire_on_commit (the setting behind the family); so does prose
    about a pitfall's mechanism (one specific word, or two words of one pitfall) in a text
    about SQLAlchemy. A different error of another library, alone, does not.
    """
    if kinds & FAMILY or kinds & {"greenlet-word", "expiry-setting", "validation-cut"}:
        return True
    sqlalchemy = bool(kinds & {"sqlalchemy", "async-api", "ext-asyncio"})
    if not sqlalchemy or "other-orm" in kinds:
        return False
    if kinds & {"busy-connection", "pydantic-extract", "serializer"}:
        return True
    if {"ext-asyncio", "final-line-missing"} <= kinds:
        return True  # cut inside SQLAlchemy's asyncio layer: whatever failed, failed there
    if "async-api" in kinds and kinds & {"ddl", "create-all-call", "inspect-call"}:
        return True
    if any(word.strong for word in words):
        return True  # a word specific enough to weigh as a signal, in a text about SQLAlchemy
    per_pitfall: dict[Pitfall, int] = defaultdict(int)
    for word in words:
        per_pitfall[word.pitfall] += 1
    return max(per_pitfall.values(), default=0) >= 2

"""The one rule for what a user's name may be, shared by the form, bulk adds and tests.

Names are stored exactly as typed. Control characters (C0, DEL, C1) are refused: they
are invisible on screen and can drive a terminal, and no real name needs them. Format
characters (zero-width joiners, direction marks) are kept: emoji and right-to-left
names need them, and the screen shows them as escapes.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_LENGTH = 10_000

_WHY_CONTROL = "it would be invisible on screen or drive the terminal"


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be stored, or None when it can be, unchanged."""
    if not name.strip():
        return "Type a name first: an empty or blank name is not committed."
    if len(name) > MAX_NAME_LENGTH:
        return f"That name has {len(name):,} characters; the lab takes up to {MAX_NAME_LENGTH:,}."
    found = first_control(name)
    if found is not None:
        position, char = found
        return (
            f"Control character {visible(char)} at position {position} refused: names are "
            f"stored exactly as typed, and {_WHY_CONTROL}."
        )
    return None


def paste_problem(text: str) -> str | None:
    """Why a pasted ``text`` is refused as a whole, or None when it can go into the field.

    A paste is one name: one longer than any name can be is refused before the field
    takes it, a line break would end the name early (the old field kept only
    the first line and dropped the rest without a word), and any other control character
    cannot be stored as typed, so nothing of such a paste is taken.
    """
    if len(text) > MAX_NAME_LENGTH:
        return f"Paste refused: {len(text):,} characters; a name takes up to {MAX_NAME_LENGTH:,}."
    found = first_control(text)
    if found is None:
        return None
    position, char = found
    what = "a line break" if char in "\r\n" else f"control character {visible(char)}"
    return (
        f"Paste refused: {what} at position {position} of {len(text):,}; "
        "a name cannot hold control characters."
    )


def first_control(text: str) -> tuple[int, str] | None:
    """The first control character in ``text`` and its position (counted from 1), if any."""
    for position, char in enumerate(text, start=1):
        if unicodedata.category(char) == "Cc":
            return position, char
    return None


_COMMON_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\xa0\xad\u0600-\u0605\u061c\u06dd\u070f\u1680\u180e"
    "\u2000-\u200f\u2028-\u202f\u205f-\u2064\u2066-\u206f\u3000\ufeff\ufff9-\ufffb]"
)
"""Control, format and separator characters: nearly every unprintable one met in practice."""


def _escape(char: str) -> str:
    return char.encode("unicode_escape").decode()


def visible(text: str) -> str:
    """``text`` with every unprintable character written as an escape, for safe display.

    Unprintable covers control characters, line and paragraph separators, and format
    characters such as zero-width spaces and direction overrides (U+202E, U+2066), which
    could otherwise reorder or hide what is shown around them. The common ones are
    replaced in one pass; a rarer one (unassigned, private use) falls back to a
    character-by-character walk.
    """
    if text.isprintable():
        return text
    text = _COMMON_UNPRINTABLE.sub(lambda m: _escape(m.group()), text)
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() or char == " " else _escape(char) for char in text)


def visible_lines(text: str) -> str:
    """Like ``visible()``, but keeps the line breaks of a multi-line text."""
    return "\n".join(visible(line) for line in text.splitlines())

"""The one rule for what a user's name may be, shared by the form, bulk adds and tests.

Names are stored exactly as typed. Control characters (C0, DEL, C1) are refused: they
are invisible on screen and can drive a terminal, and no real name needs them.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_LENGTH = 10_000


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be stored, or None when it can be, unchanged."""
    if not name.strip():
        return "Type a name first: an empty or blank name is not committed."
    if len(name) > MAX_NAME_LENGTH:
        return f"That name has {len(name):,} characters; the lab takes up to {MAX_NAME_LENGTH:,}."
    for char in name:
        if unicodedata.category(char) == "Cc":
            return (
                f"Control character {visible(char)} refused: names are stored exactly as "
                "typed, and this one would be invisible or drive the terminal."
            )
    return None


def visible(text: str) -> str:
    """``text`` with every unprintable character written as an escape, for safe display."""
    return "".join(
        char if char.isprintable() or char == " " else char.encode("unicode_escape").decode()
        for char in text
    )

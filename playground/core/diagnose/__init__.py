"""Diagnose a pasted SQLAlchemy asyncio traceback: which pitfall, where, how to fix it.

``diagnose(text)`` returns a frozen ``Diagnosis``; ``render_text`` prints it. The rules
are one table in ``rules.py``; what frames and messages mean is in ``meanings.py``.
"""

from __future__ import annotations

from .diagnosis import Diagnosis, Evidence, Fix, diagnose
from .lessons import LESSONS
from .render import render_text
from .rules import RULES

PITFALLS: tuple[str, ...] = tuple(LESSONS)
"""The stable pitfall ids, in the order the README lists them."""

__all__ = [
    "LESSONS",
    "PITFALLS",
    "RULES",
    "Diagnosis",
    "Evidence",
    "Fix",
    "diagnose",
    "render_text",
]

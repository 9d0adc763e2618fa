"""Diagnose what people paste about SQLAlchemy asyncio errors: which pitfall, where, the fix.

``diagnose(text)`` returns a frozen ``Diagnosis``; ``report_lines`` lays it out as lines
with roles, which ``render_text`` prints and the paste screen styles. Each pitfall is one
``Pitfall`` record (``pitfalls.py``); the rules are one table in ``rules.py``; what
frames and messages mean is in ``meanings.py``; weak evidence is weighed in ``guess.py``.
"""

from __future__ import annotations

from .diagnosis import Diagnosis, Evidence, Fix, diagnose
from .pitfalls import ALL, BY_ID, Pitfall
from .render import ReportLine, render_text, report_lines
from .rules import RULES

PITFALLS: tuple[str, ...] = tuple(pitfall.id for pitfall in ALL)
"""The stable pitfall ids, in the order the README lists them."""

__all__ = [
    "ALL",
    "BY_ID",
    "PITFALLS",
    "RULES",
    "Diagnosis",
    "Evidence",
    "Fix",
    "Pitfall",
    "ReportLine",
    "diagnose",
    "render_text",
    "report_lines",
]

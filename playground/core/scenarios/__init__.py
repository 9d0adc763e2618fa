"""The catalogue of experiments the lab can run, by name."""

from __future__ import annotations

from .after_commit import AfterCommit
from .base import Option, Scenario

SCENARIOS: dict[str, Scenario] = {scenario.name: scenario for scenario in (AfterCommit(),)}
DEFAULT_SCENARIO = "after-commit"

__all__ = ["DEFAULT_SCENARIO", "SCENARIOS", "Option", "Scenario"]

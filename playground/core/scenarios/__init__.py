"""The catalogue of experiments the lab can run, by name, in the order the picker shows."""

from __future__ import annotations

from .after_commit import AfterCommit
from .base import Option, Scenario
from .closed_session import ClosedSession
from .lazy_relationship import LazyRelationship
from .rollback import RollbackExpires
from .run_sync import ReadInsideGreenlet
from .server_defaults import ServerDefaults

SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        AfterCommit(),
        ClosedSession(),
        LazyRelationship(),
        ServerDefaults(),
        RollbackExpires(),
        ReadInsideGreenlet(),
    )
}
DEFAULT_SCENARIO = "after-commit"

__all__ = ["DEFAULT_SCENARIO", "SCENARIOS", "Option", "Scenario"]

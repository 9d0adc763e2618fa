"""What every scenario provides: its switches, its experiment, its words and its script."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..results import ExperimentResult, Explanation, Script

if TYPE_CHECKING:
    from ..lab import Run


@dataclass(frozen=True)
class Option:
    """A switch of a scenario: a setting or a fix the user can turn on and off."""

    key: str
    label: str
    hint: str
    default: bool
    short: str = ""


class Scenario(ABC):
    """One experiment the lab can run for real, with the words and script that go with it."""

    name: str
    title: str
    summary: str
    options: tuple[Option, ...]
    read_expression: str
    key_name = "uid"
    """The primary key of the rows it commits, and their table."""
    table = "playground_users"
    uses_lab_session = True
    """True when it runs on the lab's long-lived session (configured per run)."""
    deterministic_value = True
    """False when the value read differs run to run (a timestamp), so only its kind counts."""

    def settings(self, given: Mapping[str, bool] | None = None) -> dict[str, bool]:
        """The scenario's settings: its defaults, overridden by ``given`` (unknown keys dropped)."""
        chosen = {option.key: option.default for option in self.options}
        for key, value in (given or {}).items():
            if key in chosen:
                chosen[key] = bool(value)
        return chosen

    @abstractmethod
    async def run(self, run: Run) -> object:
        """Perform the experiment in ``run`` and return the value read at the end."""

    @abstractmethod
    def explain(self, result: ExperimentResult) -> Explanation:
        """Say what happened in ``result`` and why, in the project's own words."""

    @abstractmethod
    def script(self, settings: Mapping[str, bool], url: str, name: str = "Foo") -> Script:
        """A standalone program that does what ``run`` does with these settings."""

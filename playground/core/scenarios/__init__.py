"""The catalogue of experiments: every module of this package is one scenario.

``foo_bar.py`` defining ``SCENARIO`` is the scenario ``foo-bar``. Modules are imported
when a scenario is first used, so start-up pays only for the one it opens in; listing
them all (the picker, the tour, the README table) imports the rest.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping

from .api import GROUPS, Option, Run, Scenario

NOT_SCENARIOS = frozenset({"api", "script"})
DEFAULT_SCENARIO = "after-commit"


class Registry(Mapping[str, Scenario]):
    """Scenarios by name, in teaching order; each module is imported on first use."""

    def __init__(self) -> None:
        self._modules = {
            info.name.replace("_", "-"): info.name
            for info in pkgutil.iter_modules(__path__)
            if not info.name.startswith("_") and info.name not in NOT_SCENARIOS
        }
        self._loaded: dict[str, Scenario] = {}

    def names(self) -> list[str]:
        """Every scenario's name, alphabetically, without importing any of them."""
        return sorted(self._modules)

    def __contains__(self, name: object) -> bool:
        return name in self._modules

    def __getitem__(self, name: str) -> Scenario:
        if name not in self._loaded:
            if name not in self._modules:
                raise KeyError(name)
            module = importlib.import_module(f"{__name__}.{self._modules[name]}")
            scenario: Scenario = module.SCENARIO
            scenario.name = name
            if scenario.group not in GROUPS:
                raise ValueError(f"scenario {name}: unknown group {scenario.group!r}")
            self._loaded[name] = scenario
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        every = [self[name] for name in self._modules]
        return iter(s.name for s in sorted(every, key=lambda s: (s.order, s.name)))

    def __len__(self) -> int:
        return len(self._modules)

    def grouped(self) -> list[tuple[str, list[Scenario]]]:
        """The scenarios under their headings, as the picker shows them."""
        every = list(self.values())
        return [
            (group, [s for s in every if s.group == group])
            for group in GROUPS
            if any(s.group == group for s in every)
        ]


SCENARIOS = Registry()

__all__ = ["DEFAULT_SCENARIO", "GROUPS", "SCENARIOS", "Option", "Run", "Scenario"]

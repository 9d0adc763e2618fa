"""Write the README's scenario table from the registry (``--check`` only compares).

The table sits between two HTML comments in README.md; a test runs ``--check``, so a
scenario added without its README row fails the suite instead of going unmentioned.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playground.core.scenarios import SCENARIOS

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- scenarios:start -->", "<!-- scenarios:end -->"


def scenario_table() -> str:
    """One row per scenario, under its group, in teaching order."""
    rows = ["| name | group | what it does | what you see |", "| --- | --- | --- | --- |"]
    for group, scenarios in SCENARIOS.grouped():
        for scenario in scenarios:
            name = f"`{scenario.name}`"
            rows.append(f"| {name} | {group} | {scenario.summary} | {scenario.shows} |")
    return "\n".join(rows)


def with_table(text: str) -> str:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{scenario_table()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    text = README.read_text(encoding="utf-8")
    wanted = with_table(text)
    if "--check" in argv:
        if wanted != text:
            print("README.md's scenario table is stale: run python scripts/readme_tables.py")
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

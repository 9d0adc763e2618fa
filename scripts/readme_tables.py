"""Write the README's scenario tables from the registry (``--check`` only compares).

The table sits between two HTML comments in README.md; a test runs ``--check``, so a
scenario added without its README row fails the suite instead of going unmentioned.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playground.core.scenarios import SCENARIOS

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- scenarios:start -->", "<!-- scenarios:end -->"
SHOTS_START, SHOTS_END = "<!-- scenario-shots:start -->", "<!-- scenario-shots:end -->"


def scenario_table() -> str:
    """One row per scenario, under its group, in teaching order."""
    rows = ["| name | group | what it does | what you see |", "| --- | --- | --- | --- |"]
    for group, scenarios in SCENARIOS.grouped():
        for scenario in scenarios:
            name = f"`{scenario.name}`"
            rows.append(f"| {name} | {group} | {scenario.summary} | {scenario.shows} |")
    return "\n".join(rows)


def shots_table() -> str:
    """Each scenario's screenshot (made by scripts/screenshots.py), two to a row."""
    cells = [f"{s.title} ![](screenshots/scenario-{s.name}.png)" for s in SCENARIOS.values()]
    if len(cells) % 2:
        cells.append("")
    rows = ["| | |", "| --- | --- |"]
    rows += [f"| {cells[i]} | {cells[i + 1]} |" for i in range(0, len(cells), 2)]
    return "\n".join(rows)


def replace_block(text: str, start: str, end: str, body: str) -> str:
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"


def with_table(text: str) -> str:
    text = replace_block(text, START, END, scenario_table())
    return replace_block(text, SHOTS_START, SHOTS_END, shots_table())


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

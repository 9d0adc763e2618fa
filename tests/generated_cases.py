"""Generated cases from real runs, cut as people cut them: ``python -m tests.generated_cases``.

Every failing combination of every scenario runs for real (SQLite through aiosqlite),
and so does every buggy program of the check corpus (``tests/check_corpus/``); each
traceback is diagnosed whole, cut just before its final exception line (a log
window or an issue preview that stops inside the traceback), and cut to its last
twelve lines (a terminal's scrollback). The programs run a second time under Rich's
traceback hook, whose panels are cut the same ways, and their code is also diagnosed
alone, with no error at all (someone pasting their files). The report prints how often each form is
named right and within the top two; ``-v`` lists the misses.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from playground.core.diagnose import Diagnosis, diagnose
from playground.core.lab import Lab
from playground.core.scenarios import SCENARIOS

from .test_diagnose_roundtrip import EXPECTED_PITFALL, expected

TAIL = 12
_NOT_FINAL = ("Traceback", "[SQL", "[parameters", "(Background", "FROM ", "WHERE ")


def before_final(text: str) -> str:
    """The traceback up to, not including, its final exception line."""
    lines = text.rstrip("\n").split("\n")
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if line and not line[0].isspace() and not line.startswith(_NOT_FINAL):
            return "\n".join(lines[:index])
    return text


def last_lines(text: str, count: int = TAIL) -> str:
    return "\n".join(text.rstrip("\n").split("\n")[-count:])


FORMS = {"whole": lambda text: text, "cut before the final line": before_final}
FORMS[f"last {TAIL} lines"] = last_lines


@dataclass
class Tally:
    """How one form of the generated cases fared."""

    cases: int = 0
    right: int = 0
    top2: int = 0
    sure_and_wrong: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def add(self, want: str, got: Diagnosis, label: str) -> None:
        self.cases += 1
        self.right += got.pitfall == want
        if got.pitfall != want:
            self.misses.append(f"{label}: {want} -> {got.pitfall} ({got.confidence})")
        self.top2 += want in (got.pitfall, *got.alternatives[:1])
        if got.pitfall != want and got.confidence == "high":
            self.sure_and_wrong.append(f"{label}: {got.pitfall}")


def combinations() -> Iterator[tuple[str, dict[str, bool]]]:
    for scenario in SCENARIOS.values():
        if scenario.name not in EXPECTED_PITFALL:
            continue
        keys = [option.key for option in scenario.options]
        for values in itertools.product([True, False], repeat=len(keys)):
            yield scenario.name, dict(zip(keys, values, strict=True))


async def measure() -> dict[str, Tally]:
    """Run every combination once and diagnose each failing one in every form."""
    tallies = {form: Tally() for form in FORMS}
    with tempfile.TemporaryDirectory() as folder:
        for number, (name, settings) in enumerate(combinations()):
            lab = Lab(f"sqlite+aiosqlite:///{Path(folder) / f'{number}.db'}")
            await lab.open()
            try:
                result = await lab.run(SCENARIOS[name], "Foo", settings)
            finally:
                await lab.close()
            if result.outcome.error is None:
                continue
            want = expected(name, settings, "lab")
            label = f"{name} {settings}"
            for form, cut in FORMS.items():
                tallies[form].add(want, diagnose(cut(result.outcome.error.traceback)), label)
    return tallies


def measure_programs() -> dict[str, Tally]:
    """Run every buggy program of the check corpus and diagnose what it printed."""
    from concurrent.futures import ThreadPoolExecutor

    from .test_check_corpus import CASES, run_program

    tallies = {form: Tally() for form in (*FORMS, *RICH_FORMS, CODE_ALONE)}
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda case: run_program(case.buggy), CASES))
        panels = list(pool.map(lambda case: run_program(case.buggy, RICH_WIDTH), CASES))
    for case, ran, panel in zip(CASES, runs, panels, strict=True):
        for form, cut in FORMS.items():
            tallies[form].add(case.pitfall, diagnose(cut(ran.stderr)), case.name)
        for form, cut in RICH_FORMS.items():
            tallies[form].add(case.pitfall, diagnose(cut(panel.stderr)), case.name)
        tallies[CODE_ALONE].add(case.pitfall, diagnose(pasted_code(case.buggy)), case.name)
    return tallies


CODE_ALONE = "their code alone"
RICH_WIDTH = 80
RICH_FORMS = {f"in Rich panels {RICH_WIDTH} wide, {form}": cut for form, cut in FORMS.items()}
"""The same cuts of the traceback Rich's hook prints, as a Typer or Rich app shows it."""


def pasted_code(folder: Path) -> str:
    """A program's files one after the other, as someone pastes their code without the error."""
    return "\n\n".join(path.read_text(encoding="utf-8") for path in sorted(folder.rglob("*.py")))


def main() -> int:
    verbose = "-v" in sys.argv[1:]
    for source, tallies in (
        ("scenario runs", asyncio.run(measure())),
        ("check corpus programs", measure_programs()),
    ):
        for form, tally in tallies.items():
            print(
                f"{source}, {form}: {tally.right}/{tally.cases} named right, "
                f"top-2 {tally.top2}/{tally.cases}, wrong when sure {len(tally.sure_and_wrong)}"
            )
            if verbose:
                for miss in tally.misses:
                    print(f"    {miss}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

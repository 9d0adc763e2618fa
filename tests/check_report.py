"""How well ``playground check`` finds the bugs of the check corpus: recall and false alarms.

``python -m tests.check_report`` runs every buggy program for real, takes the lines its
traceback names (``bug_lines``), checks both programs of the pair, and prints one line
per case, then the share of bugs found (a finding of the case's pitfall within
``SLACK`` lines of a named line) and the share of fixed twins flagged at all.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from playground.core.codesigns import Sign, check_paths
from tests.test_check_corpus import CASES, Case, bug_lines, pair_outcome

SLACK = 3


@dataclass(frozen=True)
class Verdict:
    """One case judged: the lines its traceback names and what the check said of each twin."""

    case: Case
    bug_lines: list[tuple[str, int]]
    buggy_signs: list[Sign]
    fixed_signs: list[Sign]

    @property
    def found(self) -> bool:
        """A finding of the right pitfall within SLACK lines of a line the traceback names."""
        return any(
            sign.pitfall == self.case.pitfall
            and relative_to(sign, self.case.buggy) == path
            and abs(sign.line - line) <= SLACK
            for sign in self.buggy_signs
            for path, line in self.bug_lines
        )

    @property
    def false_alarm(self) -> bool:
        return bool(self.fixed_signs)


def relative_to(sign: Sign, folder: Path) -> str:
    try:
        return Path(sign.path).resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return sign.path


def judge(case: Case) -> Verdict:
    """Run the buggy program, then check both twins (a program that hangs names no line)."""
    try:
        buggy, _ = pair_outcome(case.name)
        lines = bug_lines(case, buggy.stderr)
    except subprocess.TimeoutExpired:
        lines = []
    return Verdict(
        case,
        lines,
        check_paths([case.buggy]).signs,
        check_paths([case.fixed]).signs,
    )


def main() -> int:
    verdicts = [judge(case) for case in CASES]
    for verdict in verdicts:
        mark = "found" if verdict.found else "MISSED"
        alarm = " FALSE ALARM on the fixed twin" if verdict.false_alarm else ""
        where = ", ".join(f"{p}:{n}" for p, n in verdict.bug_lines)
        print(f"{mark:6} {verdict.case.name} ({verdict.case.pitfall}; traceback: {where}){alarm}")
        if not verdict.found:
            for sign in verdict.buggy_signs:
                print(f"         said {sign.code} {sign.pitfall} at line {sign.line}")
        for sign in verdict.fixed_signs:
            print(
                f"         fixed twin: {sign.code} at {relative_to(sign, verdict.case.fixed)}"
                f":{sign.line} {sign.message}"
            )
    total = len(verdicts)
    found = sum(v.found for v in verdicts)
    alarms = sum(v.false_alarm for v in verdicts)
    print(f"bugs found: {found}/{total} ({100 * found / total:.0f} %)")
    print(f"fixed twins flagged: {alarms}/{total} ({100 * alarms / total:.0f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

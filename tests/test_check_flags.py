"""``playground check`` against the check corpus: every bug found where it fails, no twin flagged.

The lines come from really running each buggy program (``bug_lines`` of its traceback).
"""

from __future__ import annotations

import pytest

from tests.check_report import SLACK, judge, relative_to
from tests.test_check_corpus import CASES, Case


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_check_flags_the_buggy_program_where_it_fails(case: Case):
    verdict = judge(case)
    assert verdict.bug_lines, "the buggy program named no line of its own"
    said = [
        f"{sign.code} {sign.pitfall} {relative_to(sign, case.buggy)}:{sign.line}"
        for sign in verdict.buggy_signs
    ]
    assert verdict.found, (
        f"expected {case.pitfall} within {SLACK} lines of {verdict.bug_lines}; check said {said}"
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_check_leaves_the_fixed_twin_alone(case: Case):
    from playground.core.codesigns import check_paths

    signs = check_paths([case.fixed]).signs
    assert not signs, [f"{s.code} {s.path}:{s.line} {s.message}" for s in signs]

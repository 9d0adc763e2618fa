"""A pytest plugin: a failing test whose error is an async-ORM pitfall gets a diagnosis.

Installed with the package (the ``pytest11`` entry point ``playground``), it stays silent
unless a failure's exception chain holds an error of SQLAlchemy's asyncio family; then
the failure's report gains a "playground diagnosis" section: the pitfall, the test's own
line, the fix, and the command that shows it live. ``-p no:playground`` turns it off.
Nothing is imported from the diagnosis until a failure matches, so a passing run pays
nothing for it.
"""

from __future__ import annotations

import traceback
from collections.abc import Generator
from pathlib import Path

import pytest

SECTION = "playground diagnosis"
FAMILY = (
    "MissingGreenlet",
    "greenlet_spawn has not been called",
    "DetachedInstanceError",
    "is not bound to a Session",
    "IllegalStateChangeError",
    "concurrent operations are not permitted",
    "is not available due to lazy=",
    "is not available due to raiseload",
    "NoInspectionAvailable",
    "'AsyncEngine' object has no attribute",
    "'AsyncConnection' object has no attribute",
    "greenlet library is required",
)
"""Text only an error of this family carries; anything else leaves the report untouched."""


def _chain_text(error: BaseException) -> str:
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))


def _test_line(item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException]) -> str | None:
    """``path:line`` of the innermost frame in the test's own file, with its source."""
    path = Path(str(item.path))
    found = None
    for entry in excinfo.traceback:
        if Path(str(entry.path)) == path:
            found = entry
    if found is None:
        return None
    try:
        source = str(found.statement).strip().splitlines()[0]
    except (IndexError, OSError, ValueError):
        source = ""
    return f"{path.name}:{found.lineno + 1}  {source}".rstrip()


def diagnosis_section(item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """The section's text, or an empty string when the failure is not of this family."""
    text = _chain_text(excinfo.value)
    if not any(anchor in text for anchor in FAMILY):
        return ""
    from .core.diagnose import diagnose
    from .core.names import visible

    diagnosis = diagnose(text)
    if diagnosis.pitfall is None:
        return ""
    lines = [f"Pitfall: {diagnosis.pitfall} ({diagnosis.confidence} confidence): {diagnosis.title}"]
    test_line = _test_line(item, excinfo)
    if test_line:
        lines.append(f"Test line: {test_line}")
    if diagnosis.where is not None:
        lines.append(f"Where: {diagnosis.where.text}")
    lines.append(f"Why: {diagnosis.reason}.")
    if diagnosis.fixes:
        fix = diagnosis.fixes[0]
        lines.append(f"Fix ({fix.title}):")
        lines.extend(f"    {code}" for code in fix.code.splitlines())
    if diagnosis.command:
        lines.append(f"See it live: {diagnosis.command}")
    lines.append("Full report: save the traceback and run `playground diagnose FILE`.")
    return "\n".join(visible(line) for line in lines)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report = outcome.get_result()
    if not report.failed or call.excinfo is None:
        return
    try:
        section = diagnosis_section(item, call.excinfo)
    except Exception:  # noqa: BLE001 - a diagnosis must never hide the test's own failure
        return
    if section:
        report.sections.append((SECTION, section))

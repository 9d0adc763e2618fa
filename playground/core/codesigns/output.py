"""The findings of ``playground check`` as text, JSON, GitHub annotations or SARIF.

Laid out in the core so every format is tested without a terminal; the command only
writes what these functions return. Paths and messages come from the user's files, so
text output writes their control characters as escapes.
"""

from __future__ import annotations

import json
import sys
from typing import Any
from urllib.parse import quote

from ..names import visible
from .analyze import Sign
from .codes import BY_CODE, CODES
from .project import CheckReport, Problem

FORMATS = ("text", "json", "github", "sarif")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _scenario(sign: Sign) -> str | None:
    from .codes import scenario_for

    return scenario_for(sign.pitfall)


def as_dict(sign: Sign) -> dict[str, Any]:
    """One finding as a JSON-ready dict."""
    return {
        "path": sign.path,
        "line": sign.line,
        "column": sign.column,
        "code": sign.code,
        "pitfall": sign.pitfall,
        "message": sign.message,
        "fix": sign.fix,
        "confidence": sign.confidence,
        "scenario": _scenario(sign),
        "command": sign.command,
    }


def render_text(report: CheckReport) -> str:
    """ruff's layout: ``path:line:col: CODE message``, then the fix and the live command."""
    out: list[str] = []
    for sign in report.signs:
        out.append(
            f"{visible(sign.path)}:{sign.line}:{sign.column}: {sign.code} "
            f"{visible(sign.message)} [{sign.confidence}]"
        )
        out.append(f"    fix: {visible(sign.fix)}")
        if sign.command:
            out.append(f"    see it live: {sign.command}")
    count = len(report.signs)
    files = f"{report.files} file{'s' if report.files != 1 else ''}"
    if count:
        out.append(f"Found {count} finding{'s' if count != 1 else ''} in {files}.")
    else:
        out.append(f"No findings in {files}.")
    return "\n".join(out) + "\n"


def render_problems(problems: list[Problem]) -> str:
    """The skipped files, one line each, for standard error."""
    lines = []
    for problem in problems:
        if problem.kind == "parse":
            lines.append(
                f"{visible(problem.path)}:{problem.line}:{problem.column}: "
                f"cannot parse, skipped ({visible(problem.message)})"
            )
        else:
            lines.append(f"cannot read {visible(problem.path)}: {visible(problem.message)}")
    unparsed = sum(problem.message.startswith("SyntaxError") for problem in problems)
    if unparsed:
        # A file written for a later Python (``def first[T]()`` is 3.12) is no broken file.
        version = ".".join(map(str, sys.version_info[:2]))
        files = f"{unparsed} file{'s' if unparsed != 1 else ''}"
        lines.append(
            f"{files} could not be parsed by this Python ({version}); "
            "if the project is written for a later Python, run the check under that one"
        )
    return "".join(f"playground check: {line}\n" for line in lines)


def render_json(report: CheckReport) -> str:
    return json.dumps([as_dict(s) for s in report.signs], indent=2, ensure_ascii=True) + "\n"


def _github_data(text: str) -> str:
    return visible(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: CheckReport) -> str:
    """GitHub Actions workflow commands: one ``::error`` annotation per finding."""
    out = []
    for sign in report.signs:
        out.append(
            f"::error title={sign.code} ({sign.pitfall}),file={_github_property(sign.path)},"
            f"line={sign.line},col={sign.column}::"
            f"{_github_data(f'{sign.code} {sign.message} Fix: {sign.fix}')}"
        )
    for problem in report.problems:
        out.append(
            f"::warning file={_github_property(problem.path)},line={problem.line}::"
            f"{_github_data(f'skipped: {problem.message}')}"
        )
    return "".join(line + "\n" for line in out)


def _uri(path: str) -> str:
    return quote(path.replace("\\", "/"), safe="/:")


def render_sarif(report: CheckReport, version: str) -> str:
    """A SARIF 2.1.0 log for code scanning."""
    rules = [
        {
            "id": code.code,
            "name": code.pitfall,
            "shortDescription": {"text": code.title},
            "help": {"text": code.fix},
            "properties": {"pitfall": code.pitfall},
        }
        for code in CODES
    ]
    index = {code.code: number for number, code in enumerate(CODES)}
    results = []
    for sign in report.signs:
        results.append(
            {
                "ruleId": sign.code,
                "ruleIndex": index[sign.code],
                "level": "error" if sign.confidence == "high" else "warning",
                "message": {"text": f"{sign.message}. Fix: {sign.fix}"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": _uri(sign.path)},
                            "region": {"startLine": sign.line, "startColumn": sign.column},
                        }
                    }
                ],
                "properties": {
                    "pitfall": sign.pitfall,
                    "confidence": sign.confidence,
                    "command": sign.command,
                    "title": BY_CODE[sign.code].title,
                },
            }
        )
    notifications = [
        {
            "level": "error" if p.kind == "read" else "warning",
            "message": {"text": f"{p.path}: {p.message}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(p.path)},
                        "region": {"startLine": max(p.line, 1)},
                    }
                }
            ],
        }
        for p in report.problems
    ]
    log = {
        "version": "2.1.0",
        "$schema": SARIF_SCHEMA,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "playground check",
                        "version": version,
                        "rules": rules,
                    }
                },
                "results": results,
                "invocations": [
                    {
                        "executionSuccessful": not report.unreadable,
                        "toolExecutionNotifications": notifications,
                    }
                ],
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=True) + "\n"

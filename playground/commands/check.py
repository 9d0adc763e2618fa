"""``playground check [PATH ...]``: find the async ORM pitfalls in code before it runs.

Exit status 0 with no findings, 1 with findings, 2 on a usage error or a file that
cannot be read. Everything it knows is in ``playground.core.codesigns``.
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from ..core.codesigns import CODES, check_paths
from ..core.codesigns.output import (
    FORMATS,
    render_github,
    render_json,
    render_problems,
    render_sarif,
    render_text,
)
from ..core.names import visible


def build_parser() -> argparse.ArgumentParser:
    codes = ", ".join(f"{c.code} {c.pitfall}" for c in CODES)
    parser = argparse.ArgumentParser(
        prog="playground check",
        description="Find SQLAlchemy asyncio ORM pitfalls (lazy IO after commit, unloaded "
        "relationships, serializers, engines used the wrong way) in Python code.",
        epilog=f"Codes: {codes}. Suppress one line with '# noqa: AOR101'; configure "
        "[tool.playground.check] exclude/select/ignore in pyproject.toml.",
    )
    parser.add_argument("paths", nargs="*", default=["."], help="files or folders (default: .)")
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default: text)"
    )
    parser.add_argument("--select", default="", metavar="CODES", help="only these code prefixes")
    parser.add_argument("--ignore", default="", metavar="CODES", help="skip these code prefixes")
    return parser


def _codes(text: str) -> list[str]:
    return [part.strip().upper() for part in text.split(",") if part.strip()]


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    report = check_paths(args.paths, select=_codes(args.select), ignore=_codes(args.ignore))
    if args.format == "json":
        output = render_json(report)
    elif args.format == "github":
        output = render_github(report)
    elif args.format == "sarif":
        output = render_sarif(report, __version__)
    else:
        output = render_text(report)
    try:
        sys.stdout.write(output)
        sys.stdout.flush()
    except OSError as exc:
        print(f"playground check: cannot write the report: {visible(str(exc))}", file=sys.stderr)
        return 2
    if report.problems and args.format != "github":
        sys.stderr.write(render_problems(report.problems))
    if report.unreadable:
        return 2
    return 1 if report.signs else 0

"""``playground diagnose [FILE|-] [--json]``: name the pitfall in a pasted traceback.

Exit status 0 when a pitfall is named, 1 when none is recognized (the output says
what the text lacks), 2 when the input cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..core.diagnose import diagnose, render_text
from ..core.diagnose.reader import visible


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="playground diagnose",
        description="Read a SQLAlchemy asyncio traceback and name the pitfall, with its fix "
        "and the scenario that shows it live.",
    )
    parser.add_argument(
        "file",
        nargs="?",
        default="-",
        help="a file holding the traceback, or - for standard input (default)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _read(source: str) -> str:
    """The input as text; undecodable bytes become U+FFFD rather than an error."""
    if source == "-":
        return sys.stdin.buffer.read().decode("utf-8", errors="replace")
    return Path(source).read_bytes().decode("utf-8", errors="replace")


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        text = _read(args.file)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(
            f"playground diagnose: cannot read {visible(args.file)}: {visible(reason)}",
            file=sys.stderr,
        )
        return 2
    diagnosis = diagnose(text)
    if args.json:
        sys.stdout.write(json.dumps(diagnosis.to_json(), indent=2, ensure_ascii=True) + "\n")
    else:
        sys.stdout.write(render_text(diagnosis))
    return 0 if diagnosis.named else 1

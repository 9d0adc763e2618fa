"""``playground diagnose [FILE|-] [--json]``: name the pitfall in a pasted traceback.

Exit status 0 when a pitfall is named, 1 when none is recognized (the output says
what the text lacks), 2 when the input cannot be read or the output cannot be written.
Every failure is one line on standard error, never a Python traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TextIO

from ..core.diagnose import diagnose, render_text
from ..core.diagnose.intake import Intake, read_file, read_stream
from ..core.names import visible

PROG = "playground diagnose"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Read a SQLAlchemy asyncio traceback, log line, error report or code and "
        "name the pitfall, with its fix and the scenario that shows it live.",
    )
    parser.add_argument(
        "file",
        nargs="?",
        default="-",
        help="a file holding the traceback, or - for standard input (default)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


class Refused(Exception):
    """The input or the output cannot be used; the message is the one line to show."""


def _say(message: str) -> None:
    """One line on standard error, if there is a standard error to write to."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(f"{PROG}: {visible(message)}\n")
        stream.flush()
    except (OSError, ValueError):
        pass


def _read(source: str) -> Intake:
    if source != "-":
        try:
            return read_file(source)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise Refused(f"cannot read {source}: {reason}") from None
    stdin = sys.stdin
    if stdin is None:
        raise Refused("standard input is closed: give a file, or pipe the traceback in")
    try:
        interactive = stdin.isatty()
    except (OSError, ValueError):
        interactive = False
    if interactive:
        _say("reading a traceback from standard input: paste it, then press Ctrl+D")
    try:
        return read_stream(stdin.buffer)
    except (OSError, ValueError, AttributeError) as exc:
        raise Refused(f"cannot read standard input: {exc}") from None


def _write(stdout: TextIO | None, text: str) -> None:
    if stdout is None:
        raise Refused("standard output is closed: nothing can be printed")
    try:
        if hasattr(stdout, "reconfigure"):
            stdout.reconfigure(errors="backslashreplace")
        stdout.write(text)
        stdout.flush()
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        _silence_stdout()
        raise Refused(f"cannot write the report: {reason}") from None


def _silence_stdout() -> None:
    """Point standard output at nothing, so the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        intake = _read(args.file)
        diagnosis = diagnose(intake.text, intake.skipped_lines)
        if args.json:
            out = json.dumps(diagnosis.to_json(), indent=2, ensure_ascii=True) + "\n"
        else:
            out = render_text(diagnosis)
        _write(sys.stdout, out)
    except Refused as refused:
        _say(str(refused))
        return 2
    except KeyboardInterrupt:
        _say("interrupted while reading; nothing was diagnosed")
        return 2
    except MemoryError:
        _say("not enough memory to read the input")
        return 2
    return 0 if diagnosis.named else 1

"""Command line: parse the arguments, check the database, then run the app.

Everything the app needs is built by ``make_app``; this module only turns flags into
its arguments, so a bad URL ends in one line on stderr instead of a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .core.database import DatabaseProblem, default_database_path, default_url
from .core.names import visible
from .core.scenarios import DEFAULT_SCENARIO, SCENARIOS


def build_parser(scenario_name: str = DEFAULT_SCENARIO) -> argparse.ArgumentParser:
    """The parser for one scenario: the common flags, then that scenario's own switches.

    Switch flags are added for the chosen scenario only, so two scenarios may share a
    switch name without their help texts colliding, and a flag from another scenario is
    an error that names the ones this scenario has.
    """
    parser = argparse.ArgumentParser(
        prog="playground",
        description="Feel how the SQLAlchemy asyncio ORM behaves around IO it cannot do.",
        epilog="Subcommands: playground diagnose [FILE], playground check [PATH ...], "
        "playground tour, playground serve. "
        "Each scenario's switches: playground --scenario NAME --help.",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help=f"async database URL (default: SQLite file {default_database_path()})",
    )
    parser.add_argument(
        "--scenario",
        choices=SCENARIOS.names(),
        default=DEFAULT_SCENARIO,
        metavar="NAME",
        help=f"experiment to start in, one of: {', '.join(SCENARIOS.names())} "
        "(default: %(default)s)",
    )
    if scenario_name in SCENARIOS:
        group = parser.add_argument_group(f"switches of {scenario_name}")
        for option in SCENARIOS[scenario_name].options:
            group.add_argument(
                option.flag,
                dest=option.key,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=f"start with '{option.label}' on or off ({option.hint})",
            )
    parser.add_argument(
        "--print-script",
        action="store_true",
        help="print the standalone script for these settings and exit",
    )
    parser.add_argument("--version", action="version", version=f"playground {__version__}")
    return parser


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    """Two passes: find the scenario, then parse with its switches (unknown ones refused)."""
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--scenario", default=DEFAULT_SCENARIO)
    known, _ = first.parse_known_args(argv)
    parser = build_parser(known.scenario)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        own = ", ".join(o.flag for o in SCENARIOS[args.scenario].options) or "none"
        parser.error(
            f"{visible(unknown[0])} is not a switch of {args.scenario} (its switches: {own}); "
            "pick the scenario with --scenario NAME first"
        )
    return args


def _settings(args: argparse.Namespace) -> dict[str, bool]:
    scenario = SCENARIOS[args.scenario]
    return {
        option.key: getattr(args, option.key)
        for option in scenario.options
        if getattr(args, option.key, None) is not None
    }


async def _preflight(url: str) -> None:
    """Check the database before the screen takes over, so a bad one fails in one line.

    A SQLite file is checked with the standard library (fast, and enough to find a bad
    path or a file that is not a database); a server is connected to once.
    """
    from .core.database import check_sqlite_file, is_sqlite, parse_url
    from .core.lab import Lab

    parsed = parse_url(url)
    if is_sqlite(parsed):
        check_sqlite_file(parsed)
        return
    lab = Lab(url)
    await lab.open()
    await lab.close()


SUBCOMMANDS = {
    "diagnose": "playground.commands.diagnose",
    "tour": "playground.commands.tour",
    "serve": "playground.commands.serve",
    "check": "playground.commands.check",
}
"""Each subcommand is a module with ``main(argv) -> int``, imported only when asked for."""


def fail(text: str) -> int:
    """Say why the app cannot start, in one line on stderr, and give the exit status 2.

    Everything in the line is made visible: a path or URL the user typed can hold
    newlines or terminal escapes, which must neither split the line nor drive the terminal.
    """
    print(f"playground: {visible(text)}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        import importlib

        command = importlib.import_module(SUBCOMMANDS[argv[0]])
        return int(command.main(argv[1:]))
    args = parse_arguments(argv)
    scenario = SCENARIOS[args.scenario]
    settings = _settings(args)
    url = default_url() if args.db is None else args.db
    try:
        from .core.database import parse_url

        parse_url(url)
    except DatabaseProblem as exc:
        return fail(str(exc))
    if args.print_script:
        sys.stdout.write(scenario.script(settings, url).text)
        return 0
    try:
        exports_dir = Path.cwd()
    except OSError:
        return fail(
            "the current folder no longer exists (it was deleted or moved away); "
            "change to another folder and start again"
        )
    try:
        if args.db is None:
            default_database_path().parent.mkdir(parents=True, exist_ok=True)
        asyncio.run(_preflight(url))
    except DatabaseProblem as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot prepare {default_database_path()}: {exc}")

    from .ui.app import make_app

    app = make_app(url, scenario=args.scenario, settings=settings, exports_dir=exports_dir)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())

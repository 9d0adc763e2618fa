"""Command line: parse the arguments, check the database, then run the app.

Everything the app needs is built by ``make_app``; this module only turns flags into
its arguments, so a bad URL ends in one line on stderr instead of a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from . import __version__
from .core.database import DatabaseProblem, default_database_path, default_url
from .core.scenarios import DEFAULT_SCENARIO, SCENARIOS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="playground",
        description="Feel how the SQLAlchemy asyncio ORM behaves around a commit.",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help=f"async database URL (default: SQLite file {default_database_path()})",
    )
    parser.add_argument(
        "--scenario",
        choices=sorted(SCENARIOS),
        default=DEFAULT_SCENARIO,
        help="experiment to start in (default: %(default)s)",
    )
    seen: set[str] = set()
    for scenario in SCENARIOS.values():
        for option in scenario.options:
            if option.key in seen:
                continue
            seen.add(option.key)
            parser.add_argument(
                f"--{option.key.replace('_', '-')}",
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
}
"""Each subcommand is a module with ``main(argv) -> int``, imported only when asked for."""


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        import importlib

        command = importlib.import_module(SUBCOMMANDS[argv[0]])
        return int(command.main(argv[1:]))
    args = build_parser().parse_args(argv)
    scenario = SCENARIOS[args.scenario]
    settings = _settings(args)
    url = args.db or default_url()
    if args.print_script:
        sys.stdout.write(scenario.script(settings, url).text)
        return 0
    try:
        if args.db is None:
            default_database_path().parent.mkdir(parents=True, exist_ok=True)
        asyncio.run(_preflight(url))
    except DatabaseProblem as exc:
        print(f"playground: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"playground: cannot prepare {default_database_path()}: {exc}", file=sys.stderr)
        return 2

    from .ui.app import make_app

    app = make_app(url, scenario=args.scenario, settings=settings)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())

"""``playground tour``: the guided tour, one lesson per scenario, on any database.

The database is checked before the screen takes over, exactly as for the app, so a bad
``--db`` (or an unknown ``--lesson``) ends in one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from ..core.database import DatabaseProblem, default_database_path, default_url
from ..core.scenarios import SCENARIOS
from ..core.tour import default_progress_path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="playground tour",
        description="Predict what each pitfall does, watch it run for real, then fix it.",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help=f"async database URL (default: SQLite file {default_database_path()})",
    )
    parser.add_argument(
        "--restart",
        action="store_true",
        help=f"forget saved answers and start from the first lesson ({default_progress_path()})",
    )
    parser.add_argument(
        "--lesson",
        metavar="NAME",
        help="open this lesson first (a scenario name, e.g. lazy-relationship), keeping the "
        "saved progress of the others",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.lesson is not None and args.lesson not in SCENARIOS:
        names = ", ".join(SCENARIOS)
        print(f"playground: no lesson named {args.lesson}; lessons: {names}", file=sys.stderr)
        return 2
    url = args.db or default_url()
    from ..__main__ import _preflight

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

    from ..ui.tour import TourApp

    app = TourApp(url, restart=args.restart, lesson=args.lesson)
    app.run()
    return app.return_code or 0

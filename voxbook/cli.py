"""The ``voxbook`` command.

Each command group registers itself in ``build_parser`` through an ``_add_*`` function and
binds a handler with ``set_defaults(handler=...)``. Handlers take the parsed args and return
an exit code. Expected failures (unreachable DB, failing migration) are printed as one line on
stderr; set ``VOXBOOK_DEBUG=1`` to get the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from voxbook.settings import Settings

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A failure to report as one line, without a traceback."""


def _database_url(args: argparse.Namespace) -> str:
    url = args.database_url or Settings.from_env().database_url
    if not url:
        raise CliError("no database: set DATABASE_URL or pass --database-url")
    return url


def _add_database_url_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--database-url",
        metavar="URL",
        help="PostgreSQL URL (default: $DATABASE_URL)",
    )


# -- db ----------------------------------------------------------------------------------


def _cmd_db_migrate(args: argparse.Namespace) -> int:
    from voxbook.migrate import migrate

    result = migrate(_database_url(args))
    print(f"voxbook db migrate: {result.summary()}")
    return EXIT_OK


def _cmd_db_seed_demo(args: argparse.Namespace) -> int:
    from voxbook.migrate import seed_demo

    name = seed_demo(_database_url(args))
    print(f"voxbook db seed-demo: applied {name}")
    return EXIT_OK


def _add_db_commands(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="database schema and data")
    db_sub = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)

    p = db_sub.add_parser("migrate", help="apply pending migrations and (re)load all functions")
    _add_database_url_option(p)
    p.set_defaults(handler=_cmd_db_migrate)

    p = db_sub.add_parser("seed-demo", help="load demo data (db/seed/demo.sql) in one transaction")
    _add_database_url_option(p)
    p.set_defaults(handler=_cmd_db_seed_demo)


# -- up --------------------------------------------------------------------------------


def _cmd_up(args: argparse.Namespace) -> int:
    from voxbook.up import run

    return run(Path(args.data_dir), args.host, args.port)


def _add_up_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("up", help="run everything locally (PostgreSQL, API, SMS worker) until Ctrl-C")
    p.add_argument("--data-dir", default=".voxbook", help="where the local database and secrets live (default: .voxbook)")
    p.add_argument("--host", default="127.0.0.1", help="API host (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="API port (default: 8000)")
    p.set_defaults(handler=_cmd_up)


# -- wiring ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voxbook", description="Booking backend for voice-AI receptionists."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in (_add_db_commands, _add_up_commands):
        add(sub)
    return parser


def _one_line(exc: BaseException, secrets: Sequence[str]) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0].strip() if text else ""
    for s in secrets:
        if s:
            line = line.replace(s, "***")
    from voxbook.migrate import MigrationError
    from voxbook.pgcluster import PgClusterError

    kind = type(exc).__name__
    if isinstance(exc, (CliError, MigrationError, PgClusterError)):
        return line or kind
    # Library errors: the class name (e.g. OperationalError) tells what kind of trouble it is.
    return f"{kind}: {line}" if line else kind


def _secrets(args: argparse.Namespace) -> list[str]:
    """Passwords that must never reach the terminal, whatever a library puts in a message."""
    from urllib.parse import unquote, urlsplit

    out: list[str] = []
    for url in (getattr(args, "database_url", None), os.environ.get("DATABASE_URL")):
        if not url:
            continue
        try:
            pw = urlsplit(url).password
        except ValueError:
            continue
        if pw:
            out += [pw, unquote(pw)]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI boundary: report, don't dump
        if os.environ.get("VOXBOOK_DEBUG"):
            raise
        print(f"voxbook: error: {_one_line(exc, _secrets(args))}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, CliError) else EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())

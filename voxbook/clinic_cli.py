"""``voxbook clinic apply FILE`` and ``voxbook clinic export ORG``: a clinic's whole definition as a YAML file
(voxbook/clinic_file.py; README "Onboarding a clinic"), and ``voxbook db seed-demo`` (the demo clinic's file).

``apply`` prints the plan (+ created, ~ changed old -> new, - removed or deactivated) and applies it through the
api functions in one transaction; ``--dry-run`` runs it all and rolls back. It refuses, changing nothing, a file
with a problem (each named with its line and column), an api refusal (at the line that asked for it), and a
change that would leave booked appointments outside the clinic's hours unless ``--allow-stranding``.
Output names providers, services and times, never a patient's name or number.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from voxbook.cli_errors import CliError
from voxbook.clinic_file import ApplyResult, ClinicFileError, StrandingRefused, apply, export, parse

EXIT_BAD_FILE = 2    # as a CliError: the input is wrong, nothing changed
EXIT_STRANDING = 3   # distinct from a bad file (2) and a database failure (1): scripts can tell them apart


def demo_file() -> Path:
    from voxbook.migrate import sql_dir

    return sql_dir() / "seed" / "demo-clinic.yaml"


def _read(path: str) -> tuple[str, str]:
    if path == "-":
        return sys.stdin.read(), "<stdin>"
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8"), str(path)
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: cannot read it ({type(exc).__name__})") from None


async def _apply_async(url: str, text: str, source: str, *, dry_run: bool, allow_stranding: bool,
                       changed_by: str | None) -> ApplyResult:
    f, positions = parse(text, source)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True, application_name="voxbook clinic apply") as conn:
        return await apply(conn, f, positions, source, dry_run=dry_run, allow_stranding=allow_stranding,
                           changed_by=changed_by)


def apply_file(url: str, path: str | Path, *, dry_run: bool = False, allow_stranding: bool = False,
               changed_by: str | None = None) -> ApplyResult:
    """Applies a clinic file (ClinicFileError, StrandingRefused, or psycopg's errors when it cannot)."""
    text, source = _read(str(path))
    return asyncio.run(_apply_async(url, text, source, dry_run=dry_run, allow_stranding=allow_stranding,
                                    changed_by=changed_by))


def seed_demo(url: str) -> ApplyResult:
    """``voxbook db seed-demo`` and ``voxbook up``: the demo clinic (db/seed/demo-clinic.yaml), idempotent.
    It never cancels a booking; it (re)sets the demo's settings and schedule even under booked appointments."""
    return apply_file(url, demo_file(), allow_stranding=True, changed_by="voxbook db seed-demo")


def cmd_apply(args: argparse.Namespace) -> int:
    text, source = _read(args.file)
    try:
        parse(text, source)   # a bad file is reported without a database
        result = asyncio.run(_apply_async(args.database_url_of(args), text, source, dry_run=args.dry_run,
                                          allow_stranding=args.allow_stranding, changed_by=args.changed_by))
    except ClinicFileError as exc:   # every problem, one a line (main() would print the first line only)
        print(f"voxbook clinic apply: {exc}", file=sys.stderr)
        return EXIT_BAD_FILE
    except StrandingRefused as exc:
        print(exc.plan_text)
        print(f"voxbook clinic apply: {exc}", file=sys.stderr)
        return EXIT_STRANDING
    print(result.plan_text())
    n = len(result.ops)
    if result.stranded:
        print(f"{len(result.stranded)} booked appointment(s) left outside the clinic's hours (--allow-stranding): "
              "reschedule them:")
        from voxbook.clinic_file import render_stranded

        print(render_stranded(result.stranded, result.zone))
    what = "created" if result.created else "updated"
    if args.dry_run:
        print(f"voxbook clinic apply: dry run, nothing changed ({n} change(s) planned for clinic {result.org_id})")
    elif n == 0:
        print(f"voxbook clinic apply: clinic {result.org_id} is as the file says")
    else:
        print(f"voxbook clinic apply: {n} change(s) applied, clinic {result.org_id} {what}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    async def run() -> str:
        async with await psycopg.AsyncConnection.connect(args.database_url_of(args), autocommit=True,
                                                         application_name="voxbook clinic export") as conn:
            return await export(conn, args.org)

    text = asyncio.run(run())
    if args.output and args.output != "-":
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"voxbook clinic export: wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def add_commands(clinic_sub: argparse._SubParsersAction, add_database_url_option: Callable[[Any], None],
                 database_url_of: Callable[[argparse.Namespace], str]) -> None:
    p = clinic_sub.add_parser("apply", help="create or change a clinic from its YAML file (shows the plan)",
                              description="Applies a clinic file (README \"Onboarding a clinic\") through the api "
                                          "functions, in one transaction. Exit 0 applied (or nothing to do), 2 a "
                                          "problem in the file (line and column given) or an api refusal, 3 refused "
                                          "because booked appointments would be stranded, 1 the database failed.")
    p.add_argument("file", metavar="FILE", help="the clinic file (YAML), - for stdin")
    p.add_argument("--dry-run", action="store_true", help="show the plan, run it, roll it back: nothing changes")
    p.add_argument("--allow-stranding", action="store_true",
                   help="apply even when booked appointments would fall outside the new hours, time off or "
                        "providers of their service (they stay booked, listed for staff to reschedule)")
    p.add_argument("--changed-by", metavar="NAME", help="who makes the change, for the audit log (default: the database user)")
    add_database_url_option(p)
    p.set_defaults(handler=cmd_apply, database_url_of=database_url_of)

    p = clinic_sub.add_parser("export", help="print a clinic as a YAML file that `clinic apply` takes back unchanged")
    p.add_argument("org", metavar="ORG", help="clinic id (uuid) or the clinic's phone number")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    add_database_url_option(p)
    p.set_defaults(handler=cmd_export, database_url_of=database_url_of)

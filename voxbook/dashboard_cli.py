"""``voxbook calendar-feed-token``: issue a secret and print it once; ``voxbook dashboard-token``: retired.

Only the secret's sha256 is stored (api.issue_calendar_feed_token), so this output is the one chance to copy
it. The clinic is given by id or by its phone number. The dashboard is signed in to with staff accounts
(``voxbook staff invite``, voxbook/staff_cli.py): a clinic token had no person behind it to audit.
"""

from __future__ import annotations

import argparse
import uuid

import psycopg


def _org_id(conn: psycopg.Connection, org: str) -> str:
    from voxbook.db import call_sync

    try:
        return str(uuid.UUID(org))
    except ValueError:
        return str(call_sync(conn, "find_organization", phone=org)["org_id"])


def _connect(args: argparse.Namespace) -> psycopg.Connection:
    # The CLI's rule for the database URL (--database-url, else $DATABASE_URL), handed down by add_commands.
    return psycopg.connect(args.database_url_of(args), autocommit=True)


def _base(url: str | None) -> str:
    return (url or "").rstrip("/")


def cmd_dashboard_token(args: argparse.Namespace) -> int:
    from voxbook.cli import CliError

    raise CliError("dashboard tokens no longer sign in: every action is done in a person's name. Invite the "
                   f"clinic's owner instead: voxbook staff invite --org {args.org} --email <email> --name <name> "
                   "--role owner")


def cmd_calendar_feed_token(args: argparse.Namespace) -> int:
    from voxbook.db import call_sync

    with _connect(args) as conn:
        result = call_sync(conn, "issue_calendar_feed_token", org_id=_org_id(conn, args.org),
                           calendar_id=args.calendar)
    print(f"Calendar feed of {result['provider']} (subscribe to this URL in Google Calendar or Outlook):")
    print(f"{_base(args.base_url)}{result['path']}")
    print("Only the token's hash is stored: keep the URL now. Revoke with api.revoke_calendar_feed_tokens.")
    return 0


def add_commands(sub: argparse._SubParsersAction, add_database_url_option, database_url_of) -> None:
    p = sub.add_parser("dashboard-token", help="retired: use `voxbook staff invite` (dashboard staff accounts)")
    p.add_argument("--org", required=True, metavar="ORG", help="clinic id (uuid) or the clinic's phone number")
    p.add_argument("--label", help="who or what the token is for, e.g. 'front desk'")
    p.add_argument("--base-url", metavar="URL", help="public URL of this server, to print the sign-in address")
    add_database_url_option(p)
    p.set_defaults(handler=cmd_dashboard_token, database_url_of=database_url_of)

    p = sub.add_parser("calendar-feed-token", help="issue a provider's iCalendar feed URL (printed once)")
    p.add_argument("--org", required=True, metavar="ORG", help="clinic id (uuid) or the clinic's phone number")
    p.add_argument("--calendar", required=True, metavar="ID", help="calendar id, e.g. cal-smith")
    p.add_argument("--base-url", metavar="URL", default="", help="public URL of this server (prefixes the path)")
    add_database_url_option(p)
    p.set_defaults(handler=cmd_calendar_feed_token, database_url_of=database_url_of)

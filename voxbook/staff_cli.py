"""``voxbook staff invite`` and ``voxbook staff list``: a clinic's dashboard accounts from the command line.

How a new clinic gets its first owner without SQL: ``voxbook staff invite --org <clinic> --email ... --name ...
--role owner`` prints a one-time link (only its hash is stored); the person opens it, chooses a password and is
signed in. Later invites are made by an owner on the dashboard's Staff page. Audited as the operating-system
user who ran the command ("<user> (voxbook staff)").
"""

from __future__ import annotations

import argparse
import getpass
import os

import psycopg


def _who() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        user = "operator"
    return f"{user} (voxbook staff)"


def _connect(args: argparse.Namespace) -> psycopg.Connection:
    return psycopg.connect(args.database_url_of(args), autocommit=True)


def cmd_staff_invite(args: argparse.Namespace) -> int:
    from voxbook.dashboard_cli import _base, _org_id
    from voxbook.db import call_sync

    with _connect(args) as conn:
        result = call_sync(conn, "invite_staff", org_id=_org_id(conn, args.org), email=args.email, name=args.name,
                           role=args.role, changed_by=_who(), valid_hours=args.valid_hours)
    role = "owner" if result["role"] == "owner" else "front desk"
    print(f"Invite for {result['name']} <{result['email']}>, {role} of {result['clinic']} "
          f"(valid until {result['expires_at']}, usable once):")
    print(f"{_base(args.base_url or os.environ.get('PUBLIC_BASE_URL') or 'http://127.0.0.1:8000')}{result['path']}")
    print("Only its hash is stored: send the link now. The person opens it and chooses a password.")
    return 0


def cmd_staff_list(args: argparse.Namespace) -> int:
    from voxbook.dashboard_cli import _org_id
    from voxbook.db import call_sync

    with _connect(args) as conn:
        result = call_sync(conn, "list_staff", org_id=_org_id(conn, args.org))
    rows = [(s["name"], s["email"], s["role"], s["status"], s["last_sign_in_at"] or "-") for s in result["staff"]]
    if not rows:
        print("No staff accounts yet: voxbook staff invite --org <clinic> --email ... --name ... --role owner")
        return 0
    header = ("NAME", "EMAIL", "ROLE", "STATUS", "LAST SIGN-IN")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    return 0


def add_commands(sub: argparse._SubParsersAction, add_database_url_option, database_url_of) -> None:
    staff = sub.add_parser("staff", help="a clinic's dashboard accounts: invite someone, list them")
    staff_sub = staff.add_subparsers(dest="staff_command", metavar="COMMAND", required=True)

    p = staff_sub.add_parser("invite", help="print a one-time link to join a clinic's dashboard with a role")
    p.add_argument("--org", required=True, metavar="ORG", help="clinic id (uuid) or the clinic's phone number")
    p.add_argument("--email", required=True, help="the person's email (they sign in with it)")
    p.add_argument("--name", required=True, help="the person's name, as the audit shows it")
    p.add_argument("--role", required=True, choices=("owner", "front_desk"),
                   help="owner: settings and staff accounts; front_desk: schedule and queues")
    p.add_argument("--valid-hours", type=int, default=72, metavar="N", help="how long the link works (default 72)")
    p.add_argument("--base-url", metavar="URL",
                   help="public URL of this server, to print the whole link (default: $PUBLIC_BASE_URL, "
                        "else http://127.0.0.1:8000)")
    add_database_url_option(p)
    p.set_defaults(handler=cmd_staff_invite, database_url_of=database_url_of)

    p = staff_sub.add_parser("list", help="a clinic's staff accounts, roles and status")
    p.add_argument("--org", required=True, metavar="ORG", help="clinic id (uuid) or the clinic's phone number")
    add_database_url_option(p)
    p.set_defaults(handler=cmd_staff_list, database_url_of=database_url_of)

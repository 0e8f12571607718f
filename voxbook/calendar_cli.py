"""``voxbook calendar connect|disconnect|list|test|worker``: providers' CalDAV calendars (issue 17).

The password (an app password: iCloud, Fastmail; Nextcloud's app password) is read from an environment variable
(``--password-env VAR``) or stdin (a hidden prompt on a terminal, else one line of a pipe), never from the command
line. ``connect`` and ``test`` first try the calendar for real (is it a calendar, do the credentials work, may this
account write there) and say what is wrong; ``connect`` then stores the password encrypted with
VOXBOOK_SECRETS_KEY (voxbook/secrets_box.py): the database gets the ciphertext only (api.connect_calendar).
``worker`` runs the sync worker (workers/calendar_sync.py).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import uuid

import psycopg

from voxbook.calendar_connect import CalendarCheckFailed, check_calendar, seal_connection
from voxbook.cli_errors import CliError
from voxbook.secrets_box import SecretsBox, SecretsKeyError
from voxbook.settings import Settings


def _box() -> SecretsBox:
    try:
        return SecretsBox(Settings.from_env().secrets_key)
    except SecretsKeyError as exc:
        raise CliError(str(exc)) from None


def _org_id(conn: psycopg.Connection, org: str) -> str:
    from voxbook.db import call_sync

    try:
        return str(uuid.UUID(org))
    except ValueError:
        return str(call_sync(conn, "find_organization", phone=org)["org_id"])


def _read_password(env_var: str | None) -> str:
    if env_var:
        secret = os.environ.get(env_var, "")
        if not secret:
            raise CliError(f"--password-env {env_var}: that environment variable is empty or unset")
    elif sys.stdin.isatty():
        secret = getpass.getpass("CalDAV password or app password (not echoed): ")
    else:
        secret = sys.stdin.readline()
    secret = secret.strip("\r\n")
    if not secret:
        raise CliError("the password is missing")
    return secret


def _try(url: str, username: str, password: str) -> dict:
    """The connection test (voxbook/calendar_connect.py): CliError with the reason staff can act on."""
    try:
        return check_calendar(url, username, password)
    except CalendarCheckFailed as exc:
        raise CliError(exc.message) from None


def cmd_connect(args: argparse.Namespace) -> int:
    from voxbook.db import call_sync

    box = _box()
    password = _read_password(args.password_env)
    # Tested, then encrypted: the same path as the dashboard's Calendars page (voxbook/calendar_connect.py).
    try:
        sealed = seal_connection(box, args.url, args.username, password, test=not args.no_test)
    except CalendarCheckFailed as exc:
        raise CliError(exc.message) from None
    if not args.no_test:
        print(f"Connection test passed: {sealed.display_name or args.url} is a calendar this account may write to.")
    with psycopg.connect(args.database_url_of(args), autocommit=True) as conn:
        org = _org_id(conn, args.org)
        result = call_sync(conn, "connect_calendar", org_id=org, calendar_id=args.calendar, url=args.url,
                           username=args.username, secret_ciphertext=sealed.secret_ciphertext, key_id=sealed.key_id,
                           event_title=args.title, patient_name=args.patient_name, changed_by=args.changed_by)
    c = result["connection"]
    print(f"Clinic {org}, provider {args.calendar}: calendar {'connected' if result['created'] else 'connection replaced'} "
          f"(password encrypted, key {c['key_id']}; events titled '{c['event_title']}', patient name: {c['patient_name']}).")
    print("The calendar sync worker (voxbook calendar worker, or voxbook up) syncs it within seconds.")
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    from voxbook.db import call_sync

    if args.url:
        found = _try(args.url, args.username or "", _read_password(args.password_env))
        print(f"OK: {found.get('display_name') or args.url} is a calendar this account may write to.")
        return 0
    # A stored connection: decrypted here, in this process's memory only, and tried as `connect` tries a new one.
    if not (args.org and args.calendar):
        raise CliError("pass --url and --username (a new calendar), or --org and --calendar (a connected one)")
    box = _box()
    with psycopg.connect(args.database_url_of(args), autocommit=True) as conn:
        org = _org_id(conn, args.org)
        c = call_sync(conn, "get_calendar_connection", org_id=org, calendar_id=args.calendar)["connection"]
    try:
        password = box.decrypt(c["secret_ciphertext"])
    except SecretsKeyError as exc:
        raise CliError(f"{exc} (key id {c['key_id']})") from None
    found = _try(c["url"], c["username"], password)
    print(f"OK: provider {args.calendar}: {found.get('display_name') or c['url']} is a calendar {c['username']} may "
          f"write to (sync state {c['state']}" + (f", last error {c['last_error_class']}: {c['last_error']}"
                                                  if c["last_error_class"] else "") + ").")
    return 0


def cmd_disconnect(args: argparse.Namespace) -> int:
    from voxbook.db import call_sync

    with psycopg.connect(args.database_url_of(args), autocommit=True) as conn:
        org = _org_id(conn, args.org)
        result = call_sync(conn, "disconnect_calendar", org_id=org, calendar_id=args.calendar,
                           changed_by=args.changed_by)
    if result["disconnected"]:
        print(f"Clinic {org}, provider {args.calendar}: calendar disconnected; {result['busy_removed']} imported busy "
              "period(s) removed. Events already written there stay.")
    else:
        print(f"Clinic {org}, provider {args.calendar}: had no connected calendar; nothing changed.")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from voxbook.db import call_sync

    with psycopg.connect(args.database_url_of(args), autocommit=True) as conn:
        org = _org_id(conn, args.org)
        connections = call_sync(conn, "list_calendar_connections", org_id=org)["connections"]
        conflicts = call_sync(conn, "list_calendar_conflicts", org_id=org)["conflicts"]
    if not connections:
        print(f"Clinic {org}: no connected calendar.")
    for c in connections:
        print(f"{c['calendar_id']}: {c['url']} as {c['username']}  [{c['state']}]"
              f"  pushed {c['events_pushed']}, busy periods {c['busy_imported']}"
              + (f", last synced {c['last_success_at']}" if c["last_success_at"] else "")
              + (f"\n    failing ({c['consecutive_failures']}x, {c['last_error_class']}): {c['last_error']}; "
                 f"next try {c['next_attempt_at']}" if c["state"] == "failing" else ""))
    for k in conflicts:
        print(f"CONFLICT  {k['provider']} {k['local_time']}: appointment {k['appointment_id']} overlaps busy time "
              "in the provider's calendar (still booked; move one of them)")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from voxbook.doctor import check, log_problems
    from voxbook.logs import setup_logging
    from voxbook.workers.calendar_sync import CalendarSyncConfig, run_calendar_worker

    settings = Settings.from_env()
    overrides = {k: v for k, v in dict(worker_id=args.worker_id, interval_seconds=args.interval_seconds,
                                       poll_seconds=args.poll_seconds, concurrency=args.concurrency,
                                       lease_seconds=args.lease_seconds).items()
                 if v is not None}
    config = CalendarSyncConfig(database_url=args.database_url_of(args), once=args.once, **overrides)
    try:
        setup_logging(settings.log_format, level="INFO")
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    # The start-up checks (voxbook doctor), calendars failing now included.
    log_problems(check(settings, config.database_url, "worker"), "calendar-worker")
    return run_calendar_worker(config, settings)


def add_commands(sub: argparse._SubParsersAction, add_database_url_option, database_url_of) -> None:
    calendar = sub.add_parser("calendar", help="providers' CalDAV calendars: two-way sync (connect, list, worker)")
    csub = calendar.add_subparsers(dest="calendar_command", metavar="COMMAND", required=True)

    def org_calendar(p: argparse.ArgumentParser, required: bool = True) -> None:
        p.add_argument("--org", required=required, metavar="ORG", help="clinic id (uuid) or the clinic's phone number")
        p.add_argument("--calendar", required=required, metavar="ID", help="the provider's calendar id (cal-smith)")
        add_database_url_option(p)
        p.set_defaults(database_url_of=database_url_of)

    p = csub.add_parser("connect", help="connect a provider to a CalDAV calendar (tested first)")
    org_calendar(p)
    p.add_argument("--url", required=True, help="the calendar collection's CalDAV URL")
    p.add_argument("--username", required=True)
    p.add_argument("--password-env", metavar="VAR",
                   help="read the password from this environment variable (default: a prompt, or one line of stdin)")
    p.add_argument("--title", metavar="TEMPLATE", help="event title: {service}, {provider}, {patient} (default {service})")
    p.add_argument("--patient-name", choices=["none", "first", "full"], help="the patient's name in events (default none)")
    p.add_argument("--changed-by", metavar="WHO", help="who connects it (audit log)")
    p.add_argument("--no-test", action="store_true", help="store without trying the calendar first")
    p.set_defaults(handler=cmd_connect)

    p = csub.add_parser("test", help="try a calendar URL and credentials (or show a stored connection's health)")
    org_calendar(p, required=False)
    p.add_argument("--url")
    p.add_argument("--username")
    p.add_argument("--password-env", metavar="VAR")
    p.set_defaults(handler=cmd_test)

    p = csub.add_parser("disconnect", help="stop syncing a provider's calendar (its imported busy time goes)")
    org_calendar(p)
    p.add_argument("--changed-by", metavar="WHO")
    p.set_defaults(handler=cmd_disconnect)

    p = csub.add_parser("list", help="a clinic's connected calendars, their health and conflicts")
    p.add_argument("--org", required=True, metavar="ORG")
    add_database_url_option(p)
    p.set_defaults(handler=cmd_list, database_url_of=database_url_of)

    p = csub.add_parser("worker", help="run the calendar sync worker until SIGTERM")
    add_database_url_option(p)
    p.add_argument("--once", action="store_true", help="sync what is due now, then exit")
    p.add_argument("--worker-id", metavar="ID")
    p.add_argument("--interval-seconds", type=float, metavar="S", help="a healthy calendar's sync interval (default 10)")
    p.add_argument("--poll-seconds", type=float, metavar="S", help="how often due calendars are looked for (default 2)")
    p.add_argument("--concurrency", type=int, metavar="N", help="calendars synced in parallel (default 4)")
    p.add_argument("--lease-seconds", type=float, metavar="S",
                   help="after this, a calendar this worker claimed may be synced by another (default 300)")
    p.set_defaults(handler=cmd_worker, database_url_of=database_url_of)

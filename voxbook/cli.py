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

from voxbook.cli_errors import CliError
from voxbook.settings import Settings

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2




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

    url = _database_url(args)
    result = migrate(url)
    print(f"voxbook db migrate: {result.summary()}")
    if args.app_role:
        from voxbook.migrate import ensure_login_role

        ensure_login_role(url, args.app_role, os.environ.get("APP_DB_PASSWORD") or None)
        print(f"voxbook db migrate: login role {args.app_role} may execute the api functions")
    return EXIT_OK


def _cmd_db_seed_demo(args: argparse.Namespace) -> int:
    from voxbook.clinic_cli import demo_file, seed_demo

    result = seed_demo(_database_url(args))
    print(result.plan_text())
    print(f"voxbook db seed-demo: applied {demo_file().name} ({len(result.ops)} change(s))")
    return EXIT_OK


def _add_db_commands(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="database schema and data")
    db_sub = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)

    p = db_sub.add_parser("migrate", help="apply pending migrations and (re)load all functions")
    _add_database_url_option(p)
    p.add_argument(
        "--app-role", metavar="ROLE",
        help="also create/update this login role (password from $APP_DB_PASSWORD) as a member of voxbook_api",
    )
    p.set_defaults(handler=_cmd_db_migrate)

    p = db_sub.add_parser("seed-demo", help="create or reset the demo clinic (`clinic apply db/seed/demo-clinic.yaml`)")
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


# -- serve / vapi-config ----------------------------------------------------------------


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url   # read by voxbook.api.app.create_app in the server
    _database_url(args)   # fail with one line now rather than inside the server
    _setup_logging(args.log_level.upper())
    uvicorn.run(
        "voxbook.api.app:create_app", factory=True, host=args.host, port=args.port, workers=1,
        loop="uvloop", http="httptools", log_level=args.log_level, server_header=False,
        log_config=None,   # uvicorn's records go through voxbook.logs like everyone else's
        # Open dashboard event streams would otherwise hold a stop (and `voxbook up`'s Ctrl-C) for minutes.
        timeout_graceful_shutdown=5,
    )
    return EXIT_OK


def _cmd_vapi_config(args: argparse.Namespace) -> int:
    import json
    from urllib.parse import urlsplit

    from voxbook.api.assistant import assistant_config

    base = args.base_url.rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise CliError("--base-url must be the public URL of this server, e.g. https://voxbook.example.com")
    config = assistant_config(clinic=args.clinic, time_zone=args.time_zone, base_url=base,
                              credential_id=args.credential_id, org_id=args.org_id, locale=args.locale,
                              languages=[x.strip() for x in args.languages.split(",") if x.strip()]
                                        if args.languages else None)
    print(json.dumps(config, indent=2))
    if not args.credential_id:
        print("voxbook vapi-config: no --credential-id: add a Bearer credential with VAPI_SECRET in Vapi "
              "and set it on the assistant's server and tools, or requests get 401", file=sys.stderr)
    return EXIT_OK


def _add_serve_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the HTTP API (Vapi webhook, RPC) with uvicorn")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    _add_database_url_option(p)
    p.set_defaults(handler=_cmd_serve)

    p = sub.add_parser("vapi-config", help="print the Vapi assistant (prompt and tools) as JSON")
    p.add_argument("--base-url", required=True, metavar="URL", help="public https URL of this server")
    p.add_argument("--clinic", default="our clinic", help="clinic name used in the greeting and prompt")
    p.add_argument("--time-zone", default="America/New_York", help="IANA zone for 'today' in the prompt")
    p.add_argument("--credential-id", metavar="ID", help="Vapi credential (Bearer VAPI_SECRET) for our server")
    p.add_argument("--org-id", metavar="UUID", help="pin the assistant to one clinic (for web calls)")
    p.add_argument("--locale", default="en-US", help="the clinic's locale, e.g. es-MX: prompt, voice, transcriber")
    p.add_argument("--languages", default=None, metavar="LIST",
                   help="languages offered, comma-separated (e.g. es,en: multilingual); default: the locale's")
    p.set_defaults(handler=_cmd_vapi_config)


# -- worker ------------------------------------------------------------------------------


def _cmd_worker(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from voxbook.workers.sms import WorkerConfig, run_worker

    settings = Settings.from_env()
    try:
        config = WorkerConfig.from_settings(
            settings, database_url=_database_url(args), provider=args.provider, once=args.once,
            worker_id=args.worker_id, concurrency=args.concurrency, batch_size=args.batch_size,
            poll_seconds=args.poll_seconds, lease_seconds=args.lease_seconds,
            retry_base_seconds=args.retry_base_seconds,
        )
        if args.provider:
            config.provider = settings.sms_provider_name(args.provider)
        if config.provider == "twilio" and not settings.twilio_configured:
            raise CliError("SMS provider twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    from voxbook.doctor import check, log_problems

    _setup_logging()
    # The start-up checks (voxbook doctor): a clinic Twilio cannot send from is reported now, not when its
    # first code fails. As the SMS provider this worker will use.
    log_problems(check(replace(settings, sms_provider=config.provider), config.database_url, "worker"), "worker")
    return run_worker(config, settings)


def _add_worker_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worker", help="send queued SMS (LISTEN/NOTIFY + polling) until SIGTERM")
    _add_database_url_option(p)
    p.add_argument("--once", action="store_true", help="send what is due now, then exit")
    p.add_argument("--provider", choices=["auto", "twilio", "console"],
                   help="default: $SMS_PROVIDER (auto = twilio when credentials are set, else console)")
    p.add_argument("--worker-id", metavar="ID", help="name in logs and locks (default: host:pid:random)")
    p.add_argument("--concurrency", type=int, metavar="N", help="parallel sends (default: 4)")
    p.add_argument("--batch-size", type=int, metavar="N", help="messages claimed per round (default: $WORKER_BATCH_SIZE)")
    p.add_argument("--poll-seconds", type=float, metavar="S", help="poll interval besides NOTIFY (default: $WORKER_POLL_SECONDS)")
    p.add_argument("--lease-seconds", type=float, metavar="S",
                   help="after this, a message left 'sending' counts as abandoned (default: 2 x TWILIO_TIMEOUT_SECONDS + 30)")
    p.add_argument("--retry-base-seconds", type=float, metavar="S", help="first retry delay, doubled per attempt (default: 30)")
    p.set_defaults(handler=_cmd_worker)


def _cmd_simulate_call(args: argparse.Namespace) -> int:
    from voxbook.simulate import main as simulate

    return simulate(args)


def _add_simulate_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate-call", help="play a whole Vapi booking call against a running voxbook")
    p.add_argument("--base-url", default="http://127.0.0.1:8000", help="the running server (default: the local one)")
    p.add_argument("--data-dir", default=".voxbook", help="`voxbook up`'s data dir: secrets and the console SMS outbox")
    p.add_argument("--date", help="local date to book, YYYY-MM-DD (default: the next weekday)")
    p.add_argument("--clinic-phone", default="+15551234567", help="the number the caller dials (default: the demo clinic)")
    p.add_argument("--patient-name", default="Alex Morgan")
    # A different fictional number each run (555-0100..0199): the clinic's per-number code limit (5 an hour)
    # applies to simulated callers too.
    p.add_argument("--patient-phone", default=None, help="the caller's mobile (default: a random 555-01xx number)")
    p.add_argument("--service", default="teeth-whitening", help="service id or name (default: teeth-whitening)")
    p.add_argument("--race", type=int, metavar="N", help="N callers race for the same slot instead: one wins")
    p.add_argument("--returning", action="store_true",
                   help="then a second call from the same number finds, moves and cancels that appointment")
    p.add_argument("--waitlist", action="store_true",
                   help="then another caller joins the waitlist for that time, it is cancelled, and a BOOK reply takes it")
    p.set_defaults(handler=_cmd_simulate_call)


# -- dashboard ---------------------------------------------------------------------------


def _add_dashboard_commands(sub: argparse._SubParsersAction) -> None:
    from voxbook.dashboard_cli import add_commands

    add_commands(sub, _add_database_url_option, _database_url)


# -- clinic ------------------------------------------------------------------------------


def _add_clinic_commands(sub: argparse._SubParsersAction) -> None:
    clinic = sub.add_parser("clinic", help="a clinic: its definition file (apply, export), carrier account")
    clinic_sub = clinic.add_subparsers(dest="clinic_command", metavar="COMMAND", required=True)
    from voxbook.carrier_cli import add_commands as add_carrier_commands
    from voxbook.clinic_cli import add_commands as add_clinic_file_commands

    add_clinic_file_commands(clinic_sub, _add_database_url_option, _database_url)
    add_carrier_commands(clinic_sub, _add_database_url_option, _database_url)


# -- doctor ------------------------------------------------------------------------------


def _cmd_doctor(args: argparse.Namespace) -> int:
    from voxbook.doctor import check

    from dataclasses import replace

    settings = Settings.from_env()
    settings = replace(settings, database_url=args.database_url or settings.database_url)
    problems = check(settings)
    for p in problems:
        print(f"PROBLEM  {p.check}: {p.message}\n         fix: {p.fix}")
    if problems:
        print(f"voxbook doctor: {len(problems)} problem(s)")
        return EXIT_FAILURE
    print(f"OK       database reachable and migrated, SMS provider {settings.sms_provider_name()}; "
          "no configuration problem found")
    return EXIT_OK


def _add_doctor_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check the configuration (settings and database); exit 1 on a problem")
    _add_database_url_option(p)
    p.set_defaults(handler=_cmd_doctor)


def _setup_logging(level: str = "INFO") -> None:
    from voxbook.logs import setup_logging

    try:
        setup_logging(Settings.from_env().log_format, level=level)
    except ValueError as exc:
        raise CliError(str(exc)) from exc


# -- calendar (CalDAV sync, issue 17) ---------------------------------------------------------


def _add_calendar_commands(sub: argparse._SubParsersAction) -> None:
    from voxbook.calendar_cli import add_commands

    add_commands(sub, _add_database_url_option, _database_url)


# -- staff accounts of the dashboard (issue 16) -------------------------------------------------


def _add_staff_commands(sub: argparse._SubParsersAction) -> None:
    from voxbook.staff_cli import add_commands

    add_commands(sub, _add_database_url_option, _database_url)


# -- wiring ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voxbook", description="Booking backend for voice-AI receptionists."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in (_add_db_commands, _add_up_commands, _add_serve_commands, _add_worker_commands,
                _add_simulate_commands, _add_dashboard_commands, _add_clinic_commands, _add_doctor_commands,
                _add_calendar_commands, _add_staff_commands):
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

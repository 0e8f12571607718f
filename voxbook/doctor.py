"""Configuration that cannot work, reported before a caller finds it.

One list of checks, used by ``voxbook doctor`` (printed, exit 1 on a problem), logged at the start of
``voxbook serve`` and ``voxbook worker``, and shown by GET /health. The checks of this process's settings
are here; the data rules (a clinic without a sender number, a role without a code pepper, a clinic whose
carrier token no key of VOXBOOK_SECRETS_KEY made -- compared by key id) are the database's:
``api.config_problems`` (db/functions/65_config.sql).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import psycopg

from voxbook.db import ApiError, call, call_sync
from voxbook.logs import event
from voxbook.secrets_box import SecretsBox, SecretsKeyError
from voxbook.settings import Settings

log = logging.getLogger("voxbook.doctor")


@dataclass(frozen=True)
class Problem:
    check: str
    message: str
    fix: str
    org_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def settings_problems(settings: Settings, component: str = "all") -> list[Problem]:
    """What is wrong with the settings themselves, without asking the database. ``component``: ``all``
    (voxbook doctor), ``api`` or ``worker`` (the worker has no use for the Vapi secret)."""
    out: list[Problem] = []
    if not settings.database_url:
        out.append(Problem("database_url", "DATABASE_URL is not set", "set DATABASE_URL=postgresql://..."))
    if not settings.vapi_secret and component != "worker":
        out.append(Problem("vapi_secret", "VAPI_SECRET is not set: the Vapi webhooks refuse every request",
                           "set VAPI_SECRET to the token of the Bearer credential configured in Vapi"))
    if settings.secrets_key and not _secrets_key_ids(settings):
        # SecretsBox's message names the key's position, never the key.
        out.append(Problem("secrets_key", _secrets_key_error(settings),
                           "set VOXBOOK_SECRETS_KEY to Fernet keys separated by commas (voxbook up generates one)"))
    try:
        provider = settings.sms_provider_name()
    except ValueError as exc:
        return [*out, Problem("sms_provider", str(exc), "set SMS_PROVIDER to twilio, console or auto")]
    if provider == "twilio":
        if not settings.twilio_configured:
            out.append(Problem("twilio_credentials", "SMS_PROVIDER is twilio but the credentials are missing",
                               "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"))
        if not settings.public_base_url:
            out.append(Problem("public_base_url",
                               "PUBLIC_BASE_URL is not set: Twilio cannot report delivery, and its callbacks "
                               "(status, inbound STOP) are refused",
                               "set PUBLIC_BASE_URL to the public https URL of the API"))
    return out


def _secrets_key_ids(settings: Settings) -> list[str]:
    """The public ids of the keys in VOXBOOK_SECRETS_KEY (none when it is unset or malformed)."""
    try:
        return list(SecretsBox(settings.secrets_key).key_ids)
    except SecretsKeyError:
        return []


def _secrets_key_error(settings: Settings) -> str:
    try:
        SecretsBox(settings.secrets_key)
    except SecretsKeyError as exc:
        return str(exc)
    return ""


def _params(settings: Settings) -> dict[str, Any]:
    try:
        provider = settings.sms_provider_name()
    except ValueError:
        provider = "console"
    # The key ids only (never a key): the database names the clinics whose carrier token none of them made.
    return {"sms_provider": provider, "messaging_service": bool(settings.twilio_messaging_service_sid),
            "secrets_key_ids": _secrets_key_ids(settings)}


def _from_database(result: dict[str, Any]) -> list[Problem]:
    return [Problem(p["check"], p["message"], p["fix"], p.get("org_id")) for p in result["problems"]]


_NOT_MIGRATED = Problem("migrated", "the database has no api.config_problems: not migrated, or older than this code",
                        "run voxbook db migrate")


def _unreachable(exc: BaseException) -> Problem:
    # The error's class only: a libpq message can quote the host, user or more.
    return Problem("database", f"the database is unreachable ({type(exc).__name__})",
                   "check DATABASE_URL and that the server is up")


def check(settings: Settings, database_url: str | None = None, component: str = "all") -> list[Problem]:
    """Every problem, settings and database (``database_url``: default the settings')."""
    problems = settings_problems(settings, component)
    url = database_url or settings.database_url
    if not url:
        return problems
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            problems += _from_database(call_sync(conn, "config_problems", **_params(settings)))
            problems += calendar_problems(conn)
    except (ApiError, psycopg.errors.UndefinedFunction, psycopg.errors.InvalidSchemaName):
        problems.append(_NOT_MIGRATED)
    except psycopg.Error as exc:
        problems.append(_unreachable(exc))
    return problems


async def check_async(settings: Settings, conn: psycopg.AsyncConnection) -> list[Problem]:
    """The API's problems on an open connection (GET /health). Database errors propagate: the caller
    reports them."""
    problems = settings_problems(settings, "api")
    try:
        problems += _from_database(await call(conn, "config_problems", **_params(settings)))
    except (ApiError, psycopg.errors.UndefinedFunction, psycopg.errors.InvalidSchemaName):
        problems.append(_NOT_MIGRATED)
    return problems


def log_problems(problems: list[Problem], component: str) -> None:
    """The start-up report of a long-running command: one warning per problem (ids, never numbers)."""
    for p in problems:
        event(log, "config.problem", logging.WARNING, component=component, **p.as_json())
    if not problems:
        event(log, "config.ok", component=component)


# -- calendar sync (issue 17) ------------------------------------------------------------------


def calendar_problems(conn: psycopg.Connection) -> list[Problem]:
    """Connected CalDAV calendars that fail (api.calendar_sync_problems): one problem per calendar, with the
    error class and reason the sync worker recorded (never a secret)."""
    try:
        result = call_sync(conn, "calendar_sync_problems")
    except (ApiError, psycopg.errors.UndefinedFunction):
        return []   # older schema: reported as not migrated by config_problems
    out = []
    for f in result["failing"]:
        if f["last_error_class"] is None:
            out.append(Problem("calendar_sync", f"provider {f['calendar_id']}: its calendar was never synced",
                               "run the calendar sync worker (voxbook calendar worker; voxbook up runs it)", f["org_id"]))
        else:
            out.append(Problem("calendar_sync",
                               f"provider {f['calendar_id']}: calendar sync failing ({f['last_error_class']}, "
                               f"{f['consecutive_failures']}x): {f['last_error']}",
                               "fix it and run voxbook calendar connect again (voxbook calendar list shows the health)",
                               f["org_id"]))
    return out

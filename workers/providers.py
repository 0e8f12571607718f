"""SMS providers: Twilio (the real thing) and console (a laptop without credentials).

Providers are synchronous and not shared between threads (twilio-python wants one client per
thread); the worker runs them in a thread pool and keeps one instance per thread.

Every failure is raised as :class:`SendFailure` with one of three kinds, because that is all the
worker needs to decide what happens next:

* ``permanent``: the provider refused this message and will refuse it again (invalid number...).
* ``transient``: the provider certainly does not have it (429, connection refused): retry later.
* ``ambiguous``: the provider may have accepted it (timeout after the request left, 5xx, connection
  dropped mid-response): never resend before asking the provider (see README "ambiguous-send rule").
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base import values
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from voxbook.settings import Settings

PERMANENT = "permanent"
TRANSIENT = "transient"
AMBIGUOUS = "ambiguous"

# Twilio error codes that mean "try again later" although they come with a 4xx status.
_TRANSIENT_CODES = {20429, 21611, 20003, 20005}
# How far before our first attempt a provider's message still counts as ours when reconciling:
# Twilio's date_created has one-second precision and the clocks are not ours.
RECONCILE_SLACK = timedelta(minutes=2)


@dataclass(frozen=True)
class Outgoing:
    message_id: str
    org_id: str
    to: str
    from_: str | None
    body: str
    validity_period: int | None
    status_callback: str | None
    first_attempt_at: datetime
    # Provider ids already recorded for other messages to this number: never ours (see find).
    taken_sids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Accepted:
    sid: str
    status: str | None = None
    segments: int | None = None


class SendFailure(Exception):
    def __init__(self, kind: str, code: str | None, message: str):
        super().__init__(message)
        self.kind = kind
        self.code = code
        self.message = message


class Provider(Protocol):
    name: str

    def send(self, msg: Outgoing) -> Accepted: ...

    def find(self, msg: Outgoing) -> Accepted | None:
        """The provider's copy of ``msg`` if an earlier attempt reached it, else None."""
        ...


# -- console --------------------------------------------------------------------------------

_print_lock = threading.Lock()
_console_counter = itertools.count(1)


class ConsoleProvider:
    """Prints each message on stdout (the log goes to stderr) and calls it sent.

    For development only: it prints numbers and bodies in full, codes included, because reading
    them is the point. Nothing can be half-sent to a terminal, so ``find`` never finds anything and a
    recovered message is simply printed again.
    """

    name = "console"

    def __init__(self, out=None, outbox_path: str | None = None):
        self._out = out
        # `voxbook up` and `voxbook simulate-call` read codes back from this file (SMS_CONSOLE_OUTBOX).
        self._outbox_path = outbox_path

    def send(self, msg: Outgoing) -> Accepted:
        sid = f"console-{uuid.uuid4().hex}"
        sender = msg.from_ or "(provider default)"
        lines = [
            f"----- SMS #{next(_console_counter)} {sid} -----",
            f"to:   {msg.to}",
            f"from: {sender}",
            *(f"      {line}" if i else f"body: {line}" for i, line in enumerate(msg.body.splitlines() or [""])),
            "",
        ]
        with _print_lock:
            out = self._out or sys.stdout
            out.write("\n".join(lines) + "\n")
            out.flush()
            if self._outbox_path:
                record = {"id": sid, "at": datetime.now(timezone.utc).isoformat(), "message_id": msg.message_id,
                          "org_id": msg.org_id, "to": msg.to, "from": msg.from_, "body": msg.body}
                with open(self._outbox_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(record) + "\n")
        return Accepted(sid=sid, status="sent", segments=None)

    def find(self, msg: Outgoing) -> Accepted | None:
        return None


# -- twilio ---------------------------------------------------------------------------------


class BaseUrlHttpClient(TwilioHttpClient):
    """TwilioHttpClient that sends every request to another base URL (TWILIO_API_BASE).

    The library builds ``https://api.twilio.com/2010-04-01/...``; we keep its path and query and
    swap scheme and host (and prepend the base's own path, for a proxy mounted under a prefix).
    """

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self._base = urlsplit(base_url.rstrip("/"))

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        parts = urlsplit(url)
        url = urlunsplit((self._base.scheme, self._base.netloc, self._base.path + parts.path, parts.query, ""))
        return super().request(method, url, params=params, data=data, headers=headers, auth=auth,
                               timeout=timeout, allow_redirects=allow_redirects)


def classify_twilio_error(exc: BaseException) -> SendFailure:
    """Maps what twilio-python and requests raise to permanent / transient / ambiguous."""
    if isinstance(exc, TwilioException) and hasattr(exc, "status"):
        status = int(getattr(exc, "status", 0) or 0)
        code = getattr(exc, "code", None)
        text = str(getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", "") or "")
        code_s = str(code) if code is not None else f"http_{status}"
        if status >= 500:
            # Twilio may have created the message before failing to answer.
            return SendFailure(AMBIGUOUS, code_s, f"HTTP {status}: {text}")
        if status == 429 or (code is not None and int(code) in _TRANSIENT_CODES):
            return SendFailure(TRANSIENT, code_s, f"HTTP {status}: {text}")
        return SendFailure(PERMANENT, code_s, f"HTTP {status}: {text}")
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError)):
        return SendFailure(TRANSIENT, "connect_error", type(exc).__name__)
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)
        if type(reason).__name__ in ("NewConnectionError", "NameResolutionError"):
            return SendFailure(TRANSIENT, "connect_error", type(reason).__name__)
        return SendFailure(AMBIGUOUS, "connection_lost", type(exc).__name__)
    if isinstance(exc, requests.exceptions.Timeout):
        return SendFailure(AMBIGUOUS, "timeout", type(exc).__name__)
    return SendFailure(AMBIGUOUS, "error", type(exc).__name__)


@dataclass(frozen=True)
class TwilioAccount:
    """A clinic's own Twilio account (api.get_carrier_account, the token decrypted in this process only).
    Its messages go through its Messaging Service when it has one, else from the clinic's number."""
    account_sid: str
    auth_token: str = field(repr=False)
    messaging_service_sid: str | None = None


class TwilioProvider:
    name = "twilio"

    def __init__(self, settings: Settings, account: TwilioAccount | None = None):
        """The process-wide account (TWILIO_*), or ``account``: a clinic's own (then TWILIO_API_BASE and
        TWILIO_TIMEOUT_SECONDS still apply, nothing else of the process-wide account does)."""
        if account is None and not settings.twilio_configured:
            raise ValueError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are required for the twilio provider")
        # No retries inside the client: a retried POST is a duplicate SMS; retries are ours to decide.
        if settings.twilio_api_base:
            http = BaseUrlHttpClient(settings.twilio_api_base, timeout=settings.twilio_timeout_seconds)
        else:
            http = TwilioHttpClient(timeout=settings.twilio_timeout_seconds)
        if account is None:
            self._client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=http)
            self._messaging_service_sid = settings.twilio_messaging_service_sid
            self._prefer_service = False   # the clinic's own number first, the shared service for the others
        else:
            self._client = Client(account.account_sid, account.auth_token, http_client=http)
            self._messaging_service_sid = account.messaging_service_sid
            self._prefer_service = True    # a clinic's own service is its sender of choice
        self.account_sid = account.account_sid if account else settings.twilio_account_sid

    def _sender(self, msg: Outgoing) -> str | None:
        """The From number, or None to send through the Messaging Service."""
        if self._prefer_service and self._messaging_service_sid:
            return None
        return msg.from_

    def send(self, msg: Outgoing) -> Accepted:
        from_ = self._sender(msg)
        if not from_ and not self._messaging_service_sid:
            raise SendFailure(PERMANENT, "no_sender",
                              "no sender: set the clinic's sms_from or a Messaging Service (TWILIO_MESSAGING_SERVICE_SID, "
                              "or the clinic's carrier account)")
        try:
            m = self._client.messages.create(
                to=msg.to,
                body=msg.body,
                from_=from_ or values.unset,
                messaging_service_sid=values.unset if from_ else self._messaging_service_sid,
                status_callback=msg.status_callback or values.unset,
                validity_period=msg.validity_period if msg.validity_period else values.unset,
            )
        except Exception as exc:  # noqa: BLE001 - every failure is classified, none escapes unlabelled
            raise classify_twilio_error(exc) from exc
        return Accepted(sid=m.sid, status=m.status, segments=_int_or_none(m.num_segments))

    def find(self, msg: Outgoing) -> Accepted | None:
        """One provider message for one of ours. Twilio's message list does not return the StatusCallback
        URL (which names our row), so a message is recognised by number, sender, body and creation after
        our first attempt; a message recorded for another of our rows (``taken_sids``: two identical texts
        to one number) is never taken, and the database refuses a provider id recorded twice
        (``sid_taken``). The callback URL still links a send to its row when Twilio reports on it
        (api.record_sms_status)."""
        since = msg.first_attempt_at - RECONCILE_SLACK
        try:
            # Newest first; To (and From) narrow it to one conversation. No DateSent filter: a message
            # Twilio accepted but has not sent yet has no date_sent and would be missed.
            found = self._client.messages.list(to=msg.to, from_=self._sender(msg) or values.unset, limit=50,
                                               page_size=50)
        except Exception as exc:  # noqa: BLE001
            failure = classify_twilio_error(exc)
            # A failed lookup proves nothing either way: the message stays unknown.
            raise SendFailure(AMBIGUOUS, failure.code, f"lookup failed: {failure.message}") from exc
        match = None
        for m in found:   # newest first: the last match is the oldest, the closest to our first attempt
            created = m.date_created
            if created is not None and created.tzinfo is None:
                created = created.replace(tzinfo=timezone.utc)
            if created is not None and created < since:
                continue
            if m.sid in msg.taken_sids:
                continue
            if (m.direction or "outbound").startswith("outbound") and (m.body or "").endswith(msg.body):
                # endswith: trial accounts prefix "Sent from your Twilio trial account - ".
                match = m
        if match is None:
            return None
        return Accepted(sid=match.sid, status=match.status, segments=_int_or_none(match.num_segments))


def _int_or_none(v) -> int | None:
    try:
        return int(v) if v is not None else None
    except (TypeError, ValueError):
        return None


def make_provider(name: str, settings: Settings) -> Provider:
    if name == "twilio":
        return TwilioProvider(settings)
    return ConsoleProvider(outbox_path=settings.sms_console_outbox)

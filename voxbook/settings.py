"""Runtime settings, read from the environment (one place for every variable).

==============================  ===============  ================================================
Variable                        Default          Meaning
==============================  ===============  ================================================
``DATABASE_URL``                (unset)          libpq URL of the voxbook database, e.g.
                                                 ``postgresql://user:pw@host:5432/voxbook`` or, for a
                                                 Unix socket, ``postgresql://postgres@/voxbook?host=/run/postgresql``
``PUBLIC_BASE_URL``             (unset)          Public https URL of this deployment; Twilio status
                                                 callbacks and signature checks use it
``VAPI_SECRET``                 (unset)          Shared secret Vapi sends as ``X-Vapi-Secret`` or
                                                 ``Authorization: Bearer``; unset = webhooks refuse all
``VAPI_HMAC_SECRET``            (unset)          Optional: also accept HMAC-signed requests
                                                 (``x-signature`` over ``{x-timestamp}.{body}``)
``ADMIN_TOKEN``                 (unset)          Bearer token of ``POST /rpc/{function}``; unset = off
``MAX_BODY_BYTES``              ``8388608``      Largest body of Vapi's webhooks (8 MiB: Vapi resends
                                                 the whole conversation in every tool-calls message)
``MAX_OTHER_BODY_BYTES``        ``262144``       Largest body of every other endpoint (/rpc, /twilio,
                                                 the dashboard)
``SMS_PROVIDER``                ``auto``         ``twilio``, ``console``, or ``auto`` (twilio when
                                                 credentials are set)
``TWILIO_ACCOUNT_SID``          (unset)          Twilio account
``TWILIO_AUTH_TOKEN``           (unset)          Twilio auth token (also validates callbacks)
``TWILIO_MESSAGING_SERVICE_SID`` (unset)         Send through a Messaging Service instead of
                                                 the clinic's number
``TWILIO_API_BASE``             (unset)          Send Twilio's requests to another base URL (a
                                                 local fake, a proxy)
``TWILIO_TIMEOUT_SECONDS``      ``10``           Request timeout towards Twilio
``WORKER_POLL_SECONDS``         ``2``            Worker's polling interval besides NOTIFY
``WORKER_BATCH_SIZE``           ``50``           Messages claimed per round
``SMS_CONSOLE_OUTBOX``          (unset)          Console provider: also append each message as
                                                 a JSON line to this file (``voxbook up``)
``LOG_FORMAT``                  ``auto``         ``json`` (one object per line), ``text`` (readable
                                                 lines), ``auto``: text on a terminal, else json
``VOXBOOK_CODE_PEPPER``         (unset)          Key of the one-time code hashes (32+ characters):
                                                 ``voxbook db migrate`` stores it as a role setting
                                                 of its own and the app login role; unset = codes off
                                                 until a migrate sets it (``voxbook up``: generated)
``VOXBOOK_SECRETS_KEY``        (unset)          Fernet key(s), comma-separated, first encrypts: clinics'
                                                 own carrier tokens (``voxbook clinic carrier``) are
                                                 stored encrypted with it; the API and the worker need
                                                 it to use them (``voxbook up``: generated)
==============================  ===============  ================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None = None
    public_base_url: str | None = None
    vapi_secret: str | None = None
    vapi_hmac_secret: str | None = None
    admin_token: str | None = None
    max_body_bytes: int = 8 * 1024 * 1024
    max_other_body_bytes: int = 256 * 1024
    sms_provider: str = "auto"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)   # a secret
    twilio_messaging_service_sid: str | None = None
    twilio_api_base: str | None = None
    twilio_timeout_seconds: float = 10.0
    worker_poll_seconds: float = 2.0
    worker_batch_size: int = 50
    sms_console_outbox: str | None = None
    log_format: str = "auto"
    code_pepper: str | None = field(default=None, repr=False)   # a secret: never in a repr or log
    secrets_key: str | None = field(default=None, repr=False)   # likewise (voxbook/secrets_box.py)
    # CalDAV URLs may point at private, loopback or link-local addresses (a calendar server on the clinic's own
    # network, the tests' Radicale): off by default, so that a clinic's URL cannot make the worker reach
    # 169.254.169.254, 127.0.0.1 or the internal network (workers/README.md, "Calendar sync").
    caldav_allow_private_hosts: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            # An empty variable (e.g. `DATABASE_URL= voxbook ...`) means "not configured".
            return env.get(name) or None

        return cls(
            database_url=get("DATABASE_URL"),
            public_base_url=(get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
            vapi_secret=get("VAPI_SECRET"),
            vapi_hmac_secret=get("VAPI_HMAC_SECRET"),
            admin_token=get("ADMIN_TOKEN"),
            max_body_bytes=int(get("MAX_BODY_BYTES") or 8 * 1024 * 1024),
            max_other_body_bytes=int(get("MAX_OTHER_BODY_BYTES") or 256 * 1024),
            sms_provider=(get("SMS_PROVIDER") or "auto").lower(),
            twilio_account_sid=get("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=get("TWILIO_AUTH_TOKEN"),
            twilio_messaging_service_sid=get("TWILIO_MESSAGING_SERVICE_SID"),
            twilio_api_base=(get("TWILIO_API_BASE") or "").rstrip("/") or None,
            twilio_timeout_seconds=float(get("TWILIO_TIMEOUT_SECONDS") or 10),
            worker_poll_seconds=float(get("WORKER_POLL_SECONDS") or 2),
            worker_batch_size=int(get("WORKER_BATCH_SIZE") or 50),
            sms_console_outbox=get("SMS_CONSOLE_OUTBOX"),
            log_format=(get("LOG_FORMAT") or "auto").lower(),
            code_pepper=get("VOXBOOK_CODE_PEPPER"),
            secrets_key=get("VOXBOOK_SECRETS_KEY"),
            caldav_allow_private_hosts=(get("CALDAV_ALLOW_PRIVATE_HOSTS") or "").lower() in ("1", "true", "yes", "on"),
        )

    @property
    def twilio_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    def sms_provider_name(self, override: str | None = None) -> str:
        """The SMS provider in use: ``twilio`` or ``console`` (``auto``: twilio when credentials are set)."""
        name = (override or self.sms_provider or "auto").lower()
        if name == "auto":
            return "twilio" if self.twilio_configured else "console"
        if name not in ("twilio", "console"):
            raise ValueError(f"unknown SMS provider {name!r} (use twilio, console or auto)")
        return name

"""The SMS worker: sends the outbox (voxbook.sms_outbox) through a provider.

Wakes on NOTIFY voxbook_sms and on a poll timer (a NOTIFY sent while we were disconnected is
lost; the timer also catches messages whose send_after comes due, which never NOTIFY). On Citus only the
timer counts: a NOTIFY sent inside a function delegated to a worker node fires there, never on the
coordinator we listen on (WORKER_POLL_SECONDS is then the latency of a new message: 1 s is cheap there). All
decisions about which message may go out live in the database (api.claim_sms_batch and friends):
this process claims, sends, reports. See workers/README.md.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable
from urllib.parse import urlencode

import psycopg
from psycopg.types.json import Jsonb

from voxbook.db import ApiError, call, listen
from voxbook.logs import event as log_event, mask_phone, scrub
from voxbook.migrate import CITUS_INSTALLED_SQL
from voxbook.secrets_box import SecretsBox, SecretsKeyError
from voxbook.settings import Settings
from voxbook.workers.providers import (
    AMBIGUOUS,
    PERMANENT,
    TRANSIENT,
    Accepted,
    Outgoing,
    Provider,
    SendFailure,
    TwilioAccount,
    TwilioProvider,
    make_provider,
)

CHANNEL = "voxbook_sms"
APPLICATION_NAME = "voxbook-worker"
log = logging.getLogger("voxbook.worker")


def _event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    # One JSON object per line in production (voxbook.logs); never a phone number in clear nor a body.
    log_event(log, event, level, **fields)


# -- configuration --------------------------------------------------------------------------------


@dataclass
class WorkerConfig:
    database_url: str
    provider: str = "console"
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    batch_size: int = 50
    poll_seconds: float = 2.0
    concurrency: int = 4
    # How long a claimed message may wait in this worker for its send to begin before another worker may
    # take it over (api.claim_sms_batch). Just before each send, api.begin_sms_send checks that the row is
    # still ours and renews its lease to cover that send (send_lease_seconds), so a row that waited too
    # long is never sent by two workers: it is sent by the one that holds it when its send begins.
    lease_seconds: float = 60.0
    # The provider's request timeout (TWILIO_TIMEOUT_SECONDS): what one send can take.
    send_timeout_seconds: float = 10.0
    # First retry after this, doubling each attempt (jitter, the 5 min cap and when to give up are in the database).
    retry_base_seconds: float = 30.0
    public_base_url: str | None = None
    once: bool = False
    reconnect_initial_seconds: float = 0.5
    reconnect_max_seconds: float = 30.0
    # Clinics' own carrier accounts (api.get_carrier_account): used unless SMS_PROVIDER=console says "never
    # send for real". Each is read again after this long, so a rotated token or a new account is picked up
    # within it.
    carrier_accounts: bool = True
    carrier_ttl_seconds: float = 30.0
    # Housekeeping between sends, each at most this often (the drain runs on every NOTIFY, many times a second
    # when SMS are busy): offering freed times to the waitlist (a freed time waits at most this plus one poll
    # interval), and deleting tool call records older than tool_calls_keep (api.purge_tool_calls: at least a
    # day, past any redelivery by Vapi).
    waitlist_every_seconds: float = 2.0
    purge_every_seconds: float = 3600.0
    tool_calls_keep: timedelta = timedelta(days=2)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> WorkerConfig:
        if not settings.database_url and not overrides.get("database_url"):
            raise ValueError("DATABASE_URL is not set")
        values = dict(
            database_url=settings.database_url,
            provider=settings.sms_provider_name(),
            batch_size=settings.worker_batch_size,
            poll_seconds=settings.worker_poll_seconds,
            lease_seconds=2 * settings.twilio_timeout_seconds + 30,
            send_timeout_seconds=settings.twilio_timeout_seconds,
            public_base_url=settings.public_base_url,
            carrier_accounts=(settings.sms_provider or "auto").lower() != "console",
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def send_lease_seconds(self, reconcile: bool) -> float:
        """The lease a send needs: no other worker may take the row over before this send is surely over.
        The timeout bounds connecting and reading separately, so one request may take twice it; a
        reconciliation makes two requests (the lookup, then maybe the send); plus a margin for the hop
        from the database answer to the request leaving."""
        return (2 if reconcile else 1) * 2 * self.send_timeout_seconds + 5.0


# -- the worker ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Unusable:
    """A clinic has its own account but this process cannot use it (no VOXBOOK_SECRETS_KEY, or not the key
    that encrypted it): its messages wait (retried) rather than go out through another account."""
    reason: str


class _CarrierAccounts:
    """Each clinic's own Twilio account, read with api.get_carrier_account and kept ``ttl`` seconds per clinic
    (a rotated token or a new account is used within that). The token is decrypted here, in this process's
    memory only; None: the clinic uses the process-wide account."""

    def __init__(self, settings: Settings, ttl: float):
        self._ttl = ttl
        self._cache: dict[str, tuple[float, TwilioAccount | _Unusable | None]] = {}
        self._box: SecretsBox | None = None
        self._box_error: str | None = None
        try:
            self._box = SecretsBox(settings.secrets_key)
        except SecretsKeyError as exc:
            self._box_error = str(exc)

    async def get(self, conn: psycopg.AsyncConnection, org_id: str) -> TwilioAccount | _Unusable | None:
        now = time.monotonic()
        hit = self._cache.get(org_id)
        if hit and hit[0] > now:
            return hit[1]
        try:
            row = (await call(conn, "get_carrier_account", org_id=org_id))["account"]
        except ApiError:   # the clinic was deleted meanwhile: api.begin_sms_send refuses its message
            return None
        account: TwilioAccount | _Unusable | None = None
        if row is not None:
            if self._box is None:
                account = _Unusable(self._box_error or "VOXBOOK_SECRETS_KEY is not set")
            else:
                try:
                    account = TwilioAccount(row["account_sid"], self._box.decrypt(row["auth_token_ciphertext"]),
                                            row["messaging_service_sid"])
                except SecretsKeyError as exc:
                    account = _Unusable(f"{exc} (key id {row['key_id']})")
            if isinstance(account, _Unusable) and not (hit and hit[1] == account):
                _event("sms.carrier_account_unusable", logging.ERROR, org_id=org_id, reason=account.reason)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[org_id] = (now + self._ttl, account)
        return account


@dataclass
class _Outcome:
    kind: str  # sent | failed | give_up | released
    accepted: Accepted | None = None
    failure: SendFailure | None = None
    reconciled: bool = False
    reason: str | None = None


class SmsWorker:
    def __init__(self, config: WorkerConfig, settings: Settings | None = None,
                 provider_factory: Callable[[], Provider] | None = None):
        self.config = config
        self.settings = settings or Settings.from_env()
        self._provider_factory = provider_factory or (lambda: make_provider(config.provider, self.settings))
        self._local = threading.local()
        self._executor = ThreadPoolExecutor(max_workers=max(1, config.concurrency), thread_name_prefix="sms-send")
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested = False
        self._work_conn: psycopg.AsyncConnection | None = None
        self._carriers = _CarrierAccounts(self.settings, config.carrier_ttl_seconds) if config.carrier_accounts else None
        self.sent = 0
        self._waitlist_due = 0.0   # time.monotonic() from which the next waitlist sweep may run
        self._purge_due = 0.0

    # Called from any thread (tests, an embedding process).
    def request_stop(self) -> None:
        self._stop_requested = True
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)

    @property
    def stopping(self) -> bool:
        return bool(self._stop and self._stop.is_set())

    def _provider(self, account: TwilioAccount | None = None) -> Provider:
        if account is None:
            p = getattr(self._local, "provider", None)
            if p is None:
                p = self._local.provider = self._provider_factory()
            return p
        # One client per thread and clinic account; a rotated token is another key, so a new client.
        clients = getattr(self._local, "accounts", None)
        if clients is None or len(clients) > 1000:
            clients = self._local.accounts = {}
        p = clients.get(account)
        if p is None:
            p = clients[account] = TwilioProvider(self.settings, account)
        return p

    async def run(self, install_signal_handlers: bool = False) -> int:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self._stop_requested:
            self._stop.set()
        if install_signal_handlers:
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._loop.add_signal_handler(sig, self._on_signal, sig)
        cfg = self.config
        _event("worker.started", worker=cfg.worker_id, provider=cfg.provider, concurrency=cfg.concurrency,
               batch_size=cfg.batch_size, poll_seconds=cfg.poll_seconds, lease_seconds=cfg.lease_seconds,
               status_callback=bool(cfg.public_base_url), once=cfg.once or None)
        if not cfg.public_base_url and cfg.provider == "twilio":
            _event("worker.no_status_callback", logging.WARNING, worker=cfg.worker_id,
                   hint="set PUBLIC_BASE_URL so Twilio reports delivery")
        code = 0
        try:
            if cfg.once:
                code = await self._once()
            else:
                # One LISTEN loop with the dashboard's liveness probe and backoff (voxbook.db.listen): each
                # (re)connection drains what is due (NOTIFYs sent while away are lost); a NOTIFY drains; a
                # quiet poll interval probes the connection and drains (send_after coming due never NOTIFYs).
                await listen(
                    cfg.database_url, CHANNEL, application_name=APPLICATION_NAME,
                    on_connect=self._on_connect, on_notify=lambda _payload: self._drain(self._work_conn),
                    on_idle=lambda: self._drain(self._work_conn), idle_seconds=cfg.poll_seconds,
                    initial_backoff=cfg.reconnect_initial_seconds, max_backoff=cfg.reconnect_max_seconds,
                    stop=self._stop, on_disconnect=self._on_disconnect,
                )
        finally:
            if self._work_conn is not None:
                await self._work_conn.close()
            self._executor.shutdown(wait=True)
            _event("worker.stopped", worker=cfg.worker_id, sent=self.sent)
        return code

    def _on_disconnect(self, exc: BaseException, retry_in: float | None) -> None:
        _event("worker.disconnected" if isinstance(exc, psycopg.OperationalError) else "worker.error",
               logging.WARNING, worker=self.config.worker_id, error=type(exc).__name__,
               detail=scrub(str(exc).splitlines()[0] if str(exc) else None),
               retry_in=None if retry_in is None else round(retry_in, 2))

    def _on_signal(self, sig: signal.Signals) -> None:
        _event("worker.stopping", worker=self.config.worker_id, signal=sig.name)
        self._stop.set()

    async def _connect(self) -> psycopg.AsyncConnection:
        return await psycopg.AsyncConnection.connect(
            self.config.database_url, autocommit=True, application_name=APPLICATION_NAME, connect_timeout=10)

    async def _on_connect(self, _n: int) -> None:
        # The listening connection is up (LISTEN done): a fresh one to claim and report on, then catch up.
        if self._work_conn is not None:
            await self._work_conn.close()
            self._work_conn = None
        self._work_conn = await self._connect()
        citus = (await (await self._work_conn.execute(CITUS_INSTALLED_SQL)).fetchone())[0]
        # polling_only: say so, since there the poll interval is how long a new message waits.
        _event("worker.connected", worker=self.config.worker_id, polling_only=citus or None,
               poll_seconds=self.config.poll_seconds if citus else None)
        await self._drain(self._work_conn)

    async def _once(self) -> int:
        """``--once``: send what is due now, then return (no LISTEN); 1 when the database failed us."""
        try:
            async with await self._connect() as conn:
                await self._drain(conn)
        except Exception as exc:  # noqa: BLE001 - reported as one event and the exit code
            self._on_disconnect(exc, None)
            return 1
        return 0

    async def _housekeeping(self, conn: psycopg.AsyncConnection) -> None:
        """The periodic sweeps, each when due (WorkerConfig). A failure here must not stop the sending: a
        refusal of the database is logged; a lost connection propagates (reconnect)."""
        cfg = self.config
        now = time.monotonic()
        if now >= self._waitlist_due:
            self._waitlist_due = now + cfg.waitlist_every_seconds
            # Freed times go to waitlisted patients (db/functions/48_waitlist.sql); their offers are queued
            # SMS that this very drain sends.
            try:
                offered = await call(conn, "offer_waitlist_openings")
                if offered.get("offers"):
                    _event("waitlist.offered", worker=cfg.worker_id, offers=offered["offers"])
            except ApiError as exc:
                _event("waitlist.failed", worker=cfg.worker_id, error=exc.sqlstate)
        if now >= self._purge_due:
            self._purge_due = now + cfg.purge_every_seconds
            try:
                purged = await call(conn, "purge_tool_calls", older_than=cfg.tool_calls_keep)
                if purged.get("deleted"):
                    _event("tool_calls.purged", worker=cfg.worker_id, deleted=purged["deleted"])
            except ApiError as exc:
                _event("tool_calls.purge_failed", worker=cfg.worker_id, error=exc.sqlstate)

    async def _drain(self, conn: psycopg.AsyncConnection) -> None:
        cfg = self.config
        await self._housekeeping(conn)
        while not self.stopping:
            batch = await call(conn, "claim_sms_batch", worker_id=cfg.worker_id, batch_size=cfg.batch_size,
                               lease_seconds=cfg.lease_seconds)
            for message_id in batch["recovered"]:
                _event("sms.recovered", worker=cfg.worker_id, message_id=message_id, status="unknown")
            for s in batch["skipped"]:
                _event("sms.skipped", worker=cfg.worker_id, message_id=s["message_id"], org_id=s["org_id"],
                       kind=s["kind"], status=s["status"], reason=s["reason"])
            messages = batch["messages"]
            if messages:
                await self._process(conn, messages)
            if len(messages) + len(batch["skipped"]) < cfg.batch_size:
                return

    async def _process(self, conn: psycopg.AsyncConnection, messages: list[dict[str, Any]]) -> None:
        sem = asyncio.Semaphore(max(1, self.config.concurrency))
        released: list[str] = []
        reports = _SentReports(self, conn)

        async def one(m: dict[str, Any]) -> None:
            async with sem:
                if self.stopping:
                    released.append(m["message_id"])
                    return
                # The clinic's own account, if it has one (cached per clinic): read before the send begins.
                account = await self._carriers.get(conn, m["org_id"]) if self._carriers else None
                # The check just before the send: only a row this worker still holds goes out, and its lease
                # now covers this send. A row that waited past its lease may have been taken over meanwhile.
                begun = await call(conn, "begin_sms_send", org_id=m["org_id"], message_id=m["message_id"],
                                   worker_id=self.config.worker_id, attempt=m["attempt"],
                                   lease_seconds=self.config.send_lease_seconds(m["reconcile"]))
                if not begun["success"]:
                    _event("sms.skipped" if begun["code"] == "blocked" else "sms.not_held",
                           logging.INFO if begun["code"] == "blocked" else logging.WARNING,
                           worker=self.config.worker_id, message_id=m["message_id"], org_id=m["org_id"],
                           kind=m["kind"], status=begun.get("status"), reason=begun.get("reason"))
                    return
                m = {**m, "resend": begun["resend"], "resend_blocked": begun["resend_blocked"]}
                _event("sms.sending", worker=self.config.worker_id, message_id=m["message_id"], org_id=m["org_id"],
                       kind=m["kind"], attempt=m["attempt"], to=mask_phone(m["to"]), segments=m["segments"],
                       reconcile=m["reconcile"] or None, status="sending",
                       carrier="clinic" if account is not None else None)
                outcome = await self._loop.run_in_executor(self._executor, self._deliver, m, account)
            # The send slot is free again: the next message goes out while this one is being recorded.
            if outcome.kind == "sent":
                await reports.record(m, outcome)
            else:
                await self._report(conn, m, outcome)

        results = await asyncio.gather(*(one(m) for m in messages), return_exceptions=True)
        if released:
            await call(conn, "release_sms_claims", worker_id=self.config.worker_id,
                       message_ids=[uuid.UUID(x) for x in released])
            for message_id in released:
                _event("sms.released", worker=self.config.worker_id, message_id=message_id)
        for r in results:
            if isinstance(r, BaseException):
                # Rows whose report was lost stay 'sending' and are reconciled after the lease.
                raise r

    def _outgoing(self, m: dict[str, Any]) -> Outgoing:
        callback = None
        if self.config.public_base_url:
            callback = (f"{self.config.public_base_url}/twilio/status?"
                        + urlencode({"org_id": m["org_id"], "message_id": m["message_id"]}))
        return Outgoing(
            message_id=m["message_id"], org_id=m["org_id"], to=m["to"], from_=m["from"], body=m["body"],
            validity_period=m["validity_period"], status_callback=callback,
            first_attempt_at=datetime.fromisoformat(m["first_attempt_at"].replace("Z", "+00:00")),
            taken_sids=frozenset(m.get("taken_sids") or ()),
        )

    def _deliver(self, m: dict[str, Any], account: TwilioAccount | _Unusable | None = None) -> _Outcome:
        """Runs in a worker thread: the provider calls only, no database. ``account``: the clinic's own."""
        if isinstance(account, _Unusable):
            # Never through another account (its sender, billing and opt-outs are not the clinic's): retried.
            return _Outcome("failed", failure=SendFailure(TRANSIENT, "carrier_account_unusable", account.reason))
        provider = self._provider(account)
        out = self._outgoing(m)
        if m["reconcile"]:
            try:
                found = provider.find(out)
            except SendFailure as f:
                return _Outcome("failed", failure=f)
            if found:
                return _Outcome("sent", accepted=found, reconciled=True)
            if not m["resend"]:
                return _Outcome("give_up", reason=m["resend_blocked"] or "not re-sent")
        try:
            return _Outcome("sent", accepted=provider.send(out))
        except SendFailure as f:
            return _Outcome("failed", failure=f)

    def _log_sent(self, m: dict[str, Any], o: _Outcome, res: dict[str, Any]) -> None:
        base = dict(worker=self.config.worker_id, message_id=m["message_id"], org_id=m["org_id"], kind=m["kind"],
                    attempt=m["attempt"])
        if not res["success"]:
            if res.get("code") == "sid_taken":
                # The lookup matched another message's send (identical texts): looked up again later.
                _event("sms.sid_taken", logging.WARNING, **base, provider_message_id=o.accepted.sid,
                       status=res.get("status"))
            elif res.get("code") == "duplicate_send":
                _event("sms.duplicate_send", logging.ERROR, **base, provider_message_id=o.accepted.sid,
                       kept_provider_message_id=res.get("provider_message_id"), status=res.get("status"))
            else:   # the row is gone (deleted with its clinic): nothing to record
                _event("sms.not_recorded", logging.ERROR, **base, provider_message_id=o.accepted.sid,
                       reason=res.get("code"))
            return
        self.sent += 1
        _event("sms.reconciled" if o.reconciled else "sms.sent", **base, status=res["status"],
               provider_message_id=o.accepted.sid, provider_status=o.accepted.status,
               provider_segments=o.accepted.segments)

    async def _report(self, conn: psycopg.AsyncConnection, m: dict[str, Any], o: _Outcome) -> None:
        cfg = self.config
        base = dict(worker=cfg.worker_id, message_id=m["message_id"], org_id=m["org_id"], kind=m["kind"],
                    attempt=m["attempt"])
        # Accepted sends are recorded by _SentReports (api.mark_sms_sent_batch); here the rest.
        if o.kind == "give_up":
            res = await call(conn, "mark_sms_failed", org_id=m["org_id"], message_id=m["message_id"],
                             worker_id=cfg.worker_id, error_code="not_sent",
                             error_message=f"not found at the provider; not re-sent: {o.reason}", permanent=True)
            _event("sms.failed", logging.WARNING, **base, status=res.get("status"), error_code="not_sent",
                   reason=o.reason)
            return
        f = o.failure
        res = await call(conn, "mark_sms_failed", org_id=m["org_id"], message_id=m["message_id"],
                         worker_id=cfg.worker_id, error_code=f.code, error_message=f.message,
                         permanent=f.kind == PERMANENT, ambiguous=f.kind == AMBIGUOUS,
                         retry_base_seconds=cfg.retry_base_seconds)
        level = logging.WARNING
        event = {"queued": "sms.retry", "unknown": "sms.unknown", "failed": "sms.failed"}.get(res.get("status"),
                                                                                               "sms.not_claimed")
        _event(event, level, **base, status=res.get("status"), failure=f.kind, error_code=f.code,
               error=scrub(f.message), retry_at=res.get("retry_at"), opted_out=res.get("opted_out") or None)


class _SentReports:
    """Records accepted sends with api.mark_sms_sent_batch: one round trip and one commit for all the
    messages whose send finished while the previous report was being written (none is held back to
    fill a batch: alone, a message is recorded at once). ``record`` returns once its message is recorded
    and raises what recording it raised; a message whose report is lost stays 'sending' and goes
    through the ambiguous-send rule after the lease, as if the worker had died before reporting it."""

    def __init__(self, worker: SmsWorker, conn: psycopg.AsyncConnection):
        self._worker = worker
        self._conn = conn
        self._lock = asyncio.Lock()
        self._queue: list[tuple[dict[str, Any], _Outcome, asyncio.Future]] = []

    async def record(self, m: dict[str, Any], o: _Outcome) -> None:
        done = asyncio.get_running_loop().create_future()
        self._queue.append((m, o, done))
        async with self._lock:
            if self._queue:   # else an earlier holder of the lock has recorded ours too
                batch, self._queue = self._queue, []
                await self._write(batch)
        await done

    async def _write(self, batch: list[tuple[dict[str, Any], _Outcome, asyncio.Future]]) -> None:
        reports = [{"org_id": m["org_id"], "message_id": m["message_id"], "provider_message_id": o.accepted.sid,
                    "provider_status": o.accepted.status, "provider_segments": o.accepted.segments}
                   for m, o, _ in batch]
        try:
            try:
                res = await call(self._conn, "mark_sms_sent_batch", reports=Jsonb(reports),
                                 worker_id=self._worker.config.worker_id)
            except psycopg.errors.UniqueViolation:
                # Two messages recorded the same provider id at the same moment (a lookup racing the real
                # owner's report); the other one has committed now, so the database refuses it row by row.
                res = await call(self._conn, "mark_sms_sent_batch", reports=Jsonb(reports),
                                 worker_id=self._worker.config.worker_id)
        except Exception as exc:  # noqa: BLE001 - every waiting message fails with it
            for _, _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            return
        except BaseException:
            for _, _, done in batch:
                done.cancel()
            raise
        for (m, o, done), r in zip(batch, res["results"], strict=True):
            self._worker._log_sent(m, o, r)
            if not done.done():
                done.set_result(None)


def run_worker(config: WorkerConfig, settings: Settings | None = None) -> int:
    """Blocking entry point of ``voxbook worker`` (the CLI has set up logging)."""
    worker = SmsWorker(config, settings)
    return asyncio.run(worker.run(install_signal_handlers=threading.current_thread() is threading.main_thread()))

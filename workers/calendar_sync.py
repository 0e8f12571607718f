"""The calendar sync worker: providers' CalDAV calendars <-> voxbook, both ways (issue 17).

Each round it claims the connections that are due (api.claim_calendar_syncs: FOR UPDATE SKIP LOCKED and a lease,
so two workers never sync one calendar at once) and, for each, in a thread of its own:

* out: api.calendar_push_plan compares the provider's confirmed appointments with what was pushed; each new,
  moved or renamed appointment is PUT as one event (UID ``<appointment id>@voxbook``, a fixed href), each
  cancelled one DELETEd, and recorded (api.record_calendar_push). Idempotent whatever crashes: a create is
  ``If-None-Match: *``; when the server says the event exists already (a push whose record was lost, a second
  worker) it is read for its ETag and updated with ``If-Match``: never a second event.
* in: the calendar's changes since the last round (a sync-collection REPORT with the server's sync-token, or,
  where a server has none, the caldav library's full read compared by ETag digest), parsed with icalendar,
  recurring events expanded with recurring-ical-events over the clinic's booking horizon, all-day and floating
  events in the clinic's zone, TRANSPARENT and CANCELLED ones and our own events skipped; api.apply_calendar_import
  turns them into blocks under the calendar row lock that claims take.
* api.finish_calendar_sync records the health: the next round, or a backoff for this calendar alone.

Tool calls never wait on any of this: they read the database. The worker LISTENs on ``voxbook_calendar``
(api.connect_calendar wakes it) and polls every ``poll_seconds``; a booking is pushed on the calendar's next round
(``interval_seconds``), with no NOTIFY on the booking path. See workers/README.md, "Calendar sync".
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import psycopg
import recurring_ical_events
from caldav.elements import dav
from caldav.lib import error as caldav_error
from psycopg.types.json import Jsonb

from voxbook.db import ApiError, call_sync
from voxbook.secrets_box import SecretsBox, SecretsKeyError
from voxbook.settings import Settings
from voxbook.caldav_client import (  # re-exported: tests and calendar_connect name them here too
    APPLICATION_NAME,
    CHANNEL,
    MAX_OCCURRENCES_PER_EVENT,
    MAX_RESPONSE_BYTES,  # noqa: F401 - re-exported
    OUR_PROPERTY,
    OUR_UID_SUFFIX,
    _event,
    build_event,
    CalDavCalendar,
    check_target,  # noqa: F401 - re-exported
    classify,
    LeaseLost,
    SyncError,
)

log = logging.getLogger("voxbook.calendar_sync")


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _instant(value: Any, zone: ZoneInfo) -> datetime:
    """A DTSTART/DTEND as an aware instant: a date is its midnight in the clinic's zone (all-day events), a
    floating time is read in the clinic's zone."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=zone)
    raise ValueError("not a date or time")


def _utc(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def busy_occurrences(ical_text: str, zone: ZoneInfo, window_starts: datetime, window_ends: datetime
                     ) -> tuple[str | None, list[dict[str, str | None]], bool]:
    """(uid, busy occurrences in the window, ours?) of one calendar object: recurring events expanded
    (RRULE, RDATE, EXDATE, moved occurrences), TRANSPARENT and CANCELLED occurrences left out."""
    cal = icalendar.Calendar.from_ical(ical_text)
    events = list(cal.walk("VEVENT"))
    if not events:
        return None, [], False
    uid = str(events[0].get("UID", "")) or None
    if any(str(e.get("UID", "")).endswith(OUR_UID_SUFFIX) or e.get(OUR_PROPERTY) is not None for e in events):
        return uid, [], True
    out = []
    # Lazily, in order of start (between() would build every occurrence first: millions for FREQ=SECONDLY).
    for n, occ in enumerate(recurring_ical_events.of(cal).after(window_starts)):
        first = _instant(occ.get("DTSTART").dt, zone)
        if first >= window_ends:
            break
        if n >= MAX_OCCURRENCES_PER_EVENT:
            # Busier than any person: the rest of the window is busy (blocking too much is the safe side).
            out.append({"starts_at": _utc(first), "ends_at": _utc(window_ends), "recurrence_id": _utc(first)})
            break
        if str(occ.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            continue
        if str(occ.get("STATUS", "")).upper() == "CANCELLED":
            continue
        start_value = occ.get("DTSTART").dt
        starts = _instant(start_value, zone)
        end_prop = occ.get("DTEND")
        if end_prop is not None:
            ends = _instant(end_prop.dt, zone)
        elif occ.get("DURATION") is not None:
            ends = starts + occ.get("DURATION").dt
        else:
            # RFC 5545: no end = one day for a date, no time at all for a date-time (blocks nothing).
            ends = _instant(start_value + timedelta(days=1), zone) if not isinstance(start_value, datetime) else starts
        if ends <= starts:
            continue
        rid = occ.get("RECURRENCE-ID")
        recurrence = _utc(_instant(rid.dt, zone)) if rid is not None else (
            _utc(starts) if (occ.get("RRULE") or occ.get("RDATE")) else None)
        out.append({"starts_at": _utc(starts), "ends_at": _utc(ends), "recurrence_id": recurrence})
    return uid, out, False


# -- the worker ------------------------------------------------------------------------------------


@dataclass
class CalendarSyncConfig:
    database_url: str
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    # How often each calendar is synced when healthy: the delay of a booking reaching the provider's calendar
    # and of their change reaching availability (issue 17's target: within 60 s).
    interval_seconds: float = 10.0
    poll_seconds: float = 2.0
    concurrency: int = 4
    batch_size: int = 20
    lease_seconds: float = 300.0
    request_timeout_seconds: float = 15.0
    retry_base_seconds: float = 15.0
    # Busy occurrences one calendar may hand over in a round (api.apply_calendar_import refuses more than 50000):
    # a hostile calendar of thousands of ever-recurring events must not fill the worker's memory.
    max_busy_occurrences: int = 50000
    once: bool = False


class CalendarSyncWorker:
    def __init__(self, config: CalendarSyncConfig, settings: Settings | None = None):
        self.config = config
        self.settings = settings or Settings.from_env()
        self._stop = threading.Event()
        self._local = threading.local()
        self._box: SecretsBox | None = None
        self._box_error: str | None = None
        try:
            self._box = SecretsBox(self.settings.secrets_key)
        except SecretsKeyError as exc:
            self._box_error = str(exc)
        self.rounds = 0
        self.pushed = 0
        # One client per connection, kept between rounds (its HTTP connection stays open: no new TCP and TLS
        # handshake every round). Keyed by what makes it: new credentials or URL, a new client. A connection
        # is synced by one thread at a time (its lease), so a client is never used by two at once.
        self._clients: dict[str, tuple[tuple[str, str, str], CalDavCalendar]] = {}
        self._clients_lock = threading.Lock()
        self._running: set[Future] = set()   # rounds submitted to the pool by drain, not reaped yet

    def request_stop(self) -> None:
        self._stop.set()

    def _db(self) -> psycopg.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._local.conn = psycopg.connect(self.config.database_url, autocommit=True,
                                                      application_name=APPLICATION_NAME, connect_timeout=10)
        return conn

    def run(self, install_signal_handlers: bool = False) -> int:
        cfg = self.config
        if install_signal_handlers:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: self._stop.set())
        _event("calendar_sync.started", worker=cfg.worker_id, interval_seconds=cfg.interval_seconds,
               poll_seconds=cfg.poll_seconds, concurrency=cfg.concurrency, once=cfg.once or None)
        listener: psycopg.Connection | None = None
        backoff = 0.5
        with ThreadPoolExecutor(max_workers=max(1, cfg.concurrency), thread_name_prefix="caldav") as pool:
            try:
                while not self._stop.is_set():
                    try:
                        if listener is None and not cfg.once:
                            listener = psycopg.connect(cfg.database_url, autocommit=True,
                                                       application_name=APPLICATION_NAME, connect_timeout=10)
                            listener.execute(f"LISTEN {CHANNEL}")
                        self.drain(pool)
                        if cfg.once:
                            self.finish_running()
                        backoff = 0.5
                    except psycopg.Error as exc:
                        _event("calendar_sync.db_error", logging.WARNING, worker=cfg.worker_id, error=type(exc).__name__)
                        if listener is not None:
                            listener.close()
                        listener = None
                        if cfg.once:
                            return 1
                        self._stop.wait(backoff)
                        backoff = min(backoff * 2, 30)
                        continue
                    if cfg.once:
                        break
                    self._wait(listener)
            finally:
                # The rounds running end first (each bounded by its requests' timeouts), then the claims go back.
                wait(self._running)
                self._running.clear()
                try:
                    with psycopg.connect(cfg.database_url, autocommit=True, connect_timeout=5) as conn:
                        call_sync(conn, "release_calendar_claims", worker_id=cfg.worker_id)
                except psycopg.Error:
                    pass   # the leases run out by themselves
                if listener is not None:
                    listener.close()
                self.close_clients()
        _event("calendar_sync.stopped", worker=cfg.worker_id, rounds=self.rounds, pushed=self.pushed)
        return 0

    def _wait(self, listener: psycopg.Connection | None) -> None:
        """Until a NOTIFY (api.connect_calendar), the poll interval, or a stop request (seen within 0.2 s)."""
        deadline = time.monotonic() + self.config.poll_seconds
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if listener is None:
                self._stop.wait(min(0.2, left))
                continue
            for _ in listener.notifies(timeout=min(0.2, left), stop_after=1):
                return

    def drain(self, pool: ThreadPoolExecutor | None = None) -> int:
        """Syncs every due connection; returns how many were claimed. Without a pool, one after the other until
        done. With one, a calendar is claimed only when a thread is free for it and drain does not wait for the
        rounds still running: a slow or stalled server holds its own thread, never the next round of the others
        (a whole batch waiting for its slowest calendar would delay every clinic's sync by it)."""
        cfg = self.config
        done = 0
        due_before = None   # one pass: what was due when it began (a calendar due again at once waits)
        while not self._stop.is_set():
            free = cfg.batch_size if pool is None else max(1, cfg.concurrency) - len(self._reap())
            if free <= 0:
                wait(self._running, timeout=0.2, return_when=FIRST_COMPLETED)
                continue
            res = call_sync(self._db(), "claim_calendar_syncs", worker_id=cfg.worker_id,
                            max_rows=min(free, cfg.batch_size), lease_seconds=cfg.lease_seconds, due_before=due_before)
            due_before = due_before or _parse_time(res["claimed_at"])
            claimed = res["connections"]
            for c in claimed:
                if pool is None:
                    self.sync_one(c)
                else:
                    self._running.add(pool.submit(self.sync_one, c))
            done += len(claimed)
            if len(claimed) < min(free, cfg.batch_size):
                break
        return done

    def _reap(self) -> set[Future]:
        """Forgets the rounds that ended (a database error in one is raised here, as the run loop expects);
        returns those still running."""
        finished = {f for f in self._running if f.done()}
        self._running -= finished
        for f in finished:
            f.result()
        return self._running

    def finish_running(self) -> None:
        """Waits for the rounds still running (the end of a --once run, a stop)."""
        wait(self._running)
        self._reap()

    def sync_one(self, c: dict[str, Any]) -> None:
        """One round of one calendar: push, then import; then its health. Never raises for a CalDAV failure."""
        cfg = self.config
        db = self._db()
        org, conn_id = c["org_id"], c["connection_id"]
        error: SyncError | None = None
        stats: dict[str, Any] = {}
        cal: CalDavCalendar | None = None
        try:
            if self._box is None:
                raise SyncError("secrets_key", self._box_error or "VOXBOOK_SECRETS_KEY is not set")
            try:
                password = self._box.decrypt(c["secret_ciphertext"])
            except SecretsKeyError as exc:
                raise SyncError("secrets_key", f"{exc} (key id {c['key_id']})") from None
            cal = self._client(conn_id, c["url"], c["username"], password)
            # Out, then in; a failed push (e.g. the account may only read that calendar) does not stop the busy
            # time from being read: availability must hear of it whatever happens to our events.
            try:
                stats["pushed"], stats["deleted"] = self._push(db, cal, org, conn_id)
            except (SyncError, caldav_error.DAVError) as exc:
                error = classify(exc, writing=True)
            stats.update(self._pull(db, cal, c))
        except LeaseLost:
            _event("calendar_sync.lease_lost", logging.WARNING, worker=cfg.worker_id, org_id=org,
                   calendar_id=c["calendar_id"])
            return
        except ApiError as exc:
            if exc.sqlstate == "VB404":   # disconnected meanwhile: nothing to report on
                return
            # The database refused what this calendar holds (e.g. over 20000 changed events at once): this
            # calendar's failure, reported and retried with backoff; the others go on.
            error = SyncError("invalid_data", f"the database refused the calendar's data ({exc.sqlstate}: {exc.message})")
        except SyncError as exc:
            error = error or exc
        except psycopg.Error:
            raise
        except Exception as exc:  # noqa: BLE001 - any library failure is this calendar's, classified
            error = error or classify(exc)
        if error is not None and cal is not None:
            self._drop_client(conn_id)   # a fresh connection next time
        try:
            res = call_sync(db, "finish_calendar_sync", org_id=org, connection_id=conn_id, worker_id=cfg.worker_id,
                            error_class=error.kind if error else None, error=str(error) if error else None,
                            next_seconds=cfg.interval_seconds, retry_base_seconds=cfg.retry_base_seconds)
        except ApiError as exc:
            if exc.sqlstate != "VB404":
                raise
            return
        self.rounds += 1
        if error:
            _event("calendar_sync.failed", logging.WARNING, worker=cfg.worker_id, org_id=org, calendar_id=c["calendar_id"],
                   error_class=error.kind, reason=str(error), consecutive_failures=res.get("consecutive_failures"),
                   next_attempt_at=res.get("next_attempt_at"))
        elif any(v for k, v in stats.items() if k != "full"):
            _event("calendar_sync.synced", worker=cfg.worker_id, org_id=org, calendar_id=c["calendar_id"], **stats)

    def _client(self, conn_id: str, url: str, username: str, password: str) -> CalDavCalendar:
        key = (url, username, hashlib.sha256(password.encode("utf-8")).hexdigest())
        with self._clients_lock:
            hit = self._clients.get(conn_id)
            if hit and hit[0] == key:
                return hit[1]
        cal = CalDavCalendar(url, username, password, self.config.request_timeout_seconds,
                             allow_private=self.settings.caldav_allow_private_hosts)
        with self._clients_lock:
            old = self._clients.pop(conn_id, None)
            self._clients[conn_id] = (key, cal)
        if old:
            old[1].close()
        return cal

    def _drop_client(self, conn_id: str) -> None:
        with self._clients_lock:
            hit = self._clients.pop(conn_id, None)
        if hit:
            hit[1].close()

    def close_clients(self) -> None:
        with self._clients_lock:
            clients, self._clients = list(self._clients.values()), {}
        for _, cal in clients:
            cal.close()

    def _push(self, db: psycopg.Connection, cal: CalDavCalendar, org: str, conn_id: str) -> tuple[int, int]:
        plan = call_sync(db, "calendar_push_plan", org_id=org, connection_id=conn_id)
        pushed = deleted = 0
        worker_id = self.config.worker_id
        for u in plan["upserts"]:
            starts, ends = _parse_time(u["starts_at"]), _parse_time(u["ends_at"])
            body = build_event(u["uid"], u["appointment_id"], starts, ends, u["title"])
            href, etag = cal.put_event(u["href"], u["appointment_id"], body, u["etag"])
            res = call_sync(db, "record_calendar_push", org_id=org, connection_id=conn_id,
                            appointment_id=u["appointment_id"], href=href, etag=etag, starts_at=starts, ends_at=ends,
                            title=u["title"], worker_id=worker_id)
            if not res.get("success"):
                raise LeaseLost()   # another worker has the calendar now: its round redoes what this one missed
            pushed += 1
        for d in plan["deletes"]:
            cal.delete_event(d["href"])
            res = call_sync(db, "record_calendar_push", org_id=org, connection_id=conn_id,
                            appointment_id=d["appointment_id"], href=d["href"], deleted=True, worker_id=worker_id)
            if not res.get("success"):
                raise LeaseLost()
            deleted += 1
        self.pushed += pushed + deleted
        return pushed, deleted

    def _pull(self, db: psycopg.Connection, cal: CalDavCalendar, c: dict[str, Any]) -> dict[str, Any]:
        zone = ZoneInfo(c["time_zone"])
        window_starts, window_ends = _parse_time(c["window_starts"]), _parse_time(c["window_ends"])
        objects, deleted, token, ctag, full = cal.changes(c["sync_token"], c["ctag"], bool(c["full"]))
        if not full and not objects and not deleted and token == c["sync_token"] and ctag == c["ctag"]:
            return {}
        changed = []
        total = 0
        for obj in objects:
            href = str(obj.url.canonical())   # the form deleted_urls come in, so that a deletion finds its rows
            if not getattr(obj, "data", None):
                # Reported changed, gone when loaded (deleted meanwhile): its busy time goes.
                if not full:
                    deleted.append(href)
                continue
            try:
                uid, occurrences, ours = busy_occurrences(obj.data, zone, window_starts, window_ends)
            except Exception:  # noqa: BLE001 - one unreadable event must not stop the calendar's sync
                _event("calendar_sync.unreadable_event", logging.WARNING, org_id=c["org_id"],
                       calendar_id=c["calendar_id"])
                continue
            if ours or (full and not occurrences):
                continue   # a full read replaces everything: an event with no busy time in the window adds nothing
            etag = obj.props.get(dav.GetEtag.tag) if getattr(obj, "props", None) else None
            changed.append({"href": href, "etag": str(etag) if etag else None, "uid": uid, "occurrences": occurrences})
            total += len(occurrences)
            if total > self.config.max_busy_occurrences:
                raise SyncError("invalid_data", f"the calendar has over {self.config.max_busy_occurrences} busy "
                                                "occurrences in the booking window: nothing imported")
        res = call_sync(db, "apply_calendar_import", org_id=c["org_id"], connection_id=c["connection_id"],
                        worker_id=self.config.worker_id, changed=Jsonb(changed), deleted_hrefs=Jsonb(deleted),
                        full_read=full, sync_token=token, ctag=ctag, expanded_until=window_ends)
        if not res.get("success"):
            return {"not_held": True}
        for conflict in res["conflicts"]:
            _event("calendar_sync.conflict", logging.WARNING, org_id=c["org_id"], calendar_id=c["calendar_id"],
                   appointment_id=conflict["appointment_id"], starts_at=conflict["starts_at"])
        return {"full": full, "imported": res["inserted"], "removed": res["removed"],
                "released_holds": res["released_holds"], "conflicts": len(res["conflicts"])}


def run_calendar_worker(config: CalendarSyncConfig, settings: Settings | None = None) -> int:
    """Blocking entry point of ``voxbook calendar worker`` (the CLI has set up logging)."""
    worker = CalendarSyncWorker(config, settings)
    return worker.run(install_signal_handlers=threading.current_thread() is threading.main_thread())

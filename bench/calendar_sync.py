"""Benchmark: CalDAV calendar sync (issue 17) against a local Radicale (started here, htpasswd, 127.0.0.1).

1. Latency of an external change: a provider adds a busy event to their calendar; measured from the moment the
   CalDAV server has it (the PUT answered) until api.check_availability no longer offers that time. The worker is a
   real `voxbook calendar worker` process with its deployed defaults (a healthy calendar synced every 10 s, due
   calendars looked for every 2 s), with the other connected calendars idle beside it. Baseline, same run: the same
   change taken in by one round started at once in-process (what a round itself costs; the rest is the wait for
   the calendar's turn). Target: p99 under 60 s (the issue's).
2. Cost per connected calendar: every calendar connected and idle (nothing changed there: what almost every round
   is), rounds run in-process back to back; CPU time of the worker process and database calls per calendar per
   round. Baseline, same run: the bare caldav library asking the same server for the same calendars' changes
   (one sync-collection REPORT each, no database): the ratio is what voxbook adds to the CalDAV request itself.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import caldav
import psycopg

from bench.common import REPO_ROOT, BenchResult, BenchServer, Row, Scale, create_clinic, log, median, percentile, ratio
from voxbook.secrets_box import SecretsBox, generate_key
from voxbook.settings import Settings
from voxbook.workers.calendar_sync import CalendarSyncConfig, CalendarSyncWorker

CLINIC_PHONE = "+15550000017"
USER, PASSWORD = "bench", "bench-" + uuid.uuid4().hex[:12]
DEFAULT_INTERVAL = CalendarSyncConfig.interval_seconds


class Radicale:
    """A throwaway Radicale (the test suite's is tests/caldav_helpers.py; bench/ imports nothing from tests/)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="voxbook-bench-radicale-"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        (self.dir / "users").write_text(f"{USER}:{PASSWORD}\n")
        (self.dir / "config").write_text(
            f"[server]\nhosts = 127.0.0.1:{self.port}\n[auth]\ntype = htpasswd\nhtpasswd_filename = {self.dir / 'users'}\n"
            f"htpasswd_encryption = plain\n[rights]\ntype = owner_only\n[storage]\n"
            f"filesystem_folder = {self.dir / 'collections'}\n[logging]\nlevel = warning\n")
        self.proc = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(self.dir / "config")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("radicale did not start") from None
                time.sleep(0.1)

    def client(self) -> caldav.DAVClient:
        return caldav.DAVClient(url=f"http://127.0.0.1:{self.port}/{USER}/", username=USER, password=PASSWORD,
                                enable_rfc6764=False, timeout=15)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


class _CountingCursor(psycopg.Cursor):
    """Counts the statements the worker sends (one per api call): the database calls per round."""

    statements = 0

    def execute(self, *args, **kwargs):
        type(self).statements += 1
        return super().execute(*args, **kwargs)


class _CountingWorker(CalendarSyncWorker):
    def _db(self) -> psycopg.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._local.conn = psycopg.connect(self.config.database_url, autocommit=True,
                                                      cursor_factory=_CountingCursor)
        return conn


def _busy_ics(uid: str, start: datetime) -> str:
    fmt = "%Y%m%dT%H%M%SZ"
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//voxbook bench//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start.strftime(fmt)}\r\n"
            f"DTEND:{(start + timedelta(hours=1)).strftime(fmt)}\r\nSUMMARY:busy\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def _offered(conn: psycopg.Connection, org: str, slot: datetime) -> bool:
    r = conn.execute("SELECT api.check_availability(%s, %s, calendar_id => 'c1') ->'slots'",
                     (org, slot.date())).fetchone()[0]
    want = slot.strftime("%Y-%m-%dT%H:%M:%SZ")
    return any(s["time"] == want for s in r)


def _wait_gone(conn: psycopg.Connection, org: str, slot: datetime, since: float, timeout: float = 120) -> float:
    while _offered(conn, org, slot):
        if time.monotonic() - since > timeout:
            raise RuntimeError("an external change did not reach availability within 120 s")
        time.sleep(0.05)
    return time.monotonic() - since


def run_calendar_sync(server: BenchServer, scale: Scale) -> BenchResult:
    res = BenchResult("calendar_sync")
    calendars = 40 if scale.name == "full" else 4
    samples = 12 if scale.name == "full" else 2
    cost_rounds = 5 * scale.rounds
    url = server.new_db("bench_calendar_sync")
    app_url = server.url("bench_calendar_sync", app=True)
    org = create_clinic(url, calendars, CLINIC_PHONE, day_start="00:00", day_end="23:59")
    key = generate_key()
    box = SecretsBox(key)
    # The bench's Radicale listens on 127.0.0.1, a private address the CalDAV client refuses by default (SSRF):
    # allowed here, for the in-process worker and the `voxbook calendar worker` subprocess (it inherits it).
    os.environ["CALDAV_ALLOW_PRIVATE_HOSTS"] = "1"
    settings = replace(Settings.from_env(), secrets_key=key)
    radicale = Radicale()
    proc = None
    try:
        principal = radicale.client().principal()
        cals = [principal.make_calendar(name=f"c{i}", cal_id=f"c{i}") for i in range(1, calendars + 1)]
        with psycopg.connect(url, autocommit=True) as conn:
            for i, cal in enumerate(cals, 1):
                conn.execute("SELECT api.connect_calendar(%s, %s, %s, %s, %s, %s)",
                             (org, f"c{i}", str(cal.url), USER, box.encrypt(PASSWORD), box.key_id))
        first = CalendarSyncWorker(CalendarSyncConfig(database_url=app_url, once=True, interval_seconds=0), settings)
        first.drain()   # the initial full reads
        first.close_clients()
        base_day = (datetime.now(UTC) + timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
        slots = [base_day + timedelta(days=i // 20, hours=i % 20) for i in range(2 * samples + 2)]

        # 1. baseline: one round at once, in-process.
        quick = CalendarSyncWorker(CalendarSyncConfig(database_url=app_url, once=True, interval_seconds=0), settings)
        quick.drain()   # its clients made (the first request of a new client negotiates authentication)
        floor = []
        with psycopg.connect(url, autocommit=True) as conn:
            for i in range(samples):
                slot = slots[samples + i]
                cals[0].save_event(_busy_ics(f"floor-{i}", slot))
                t0 = time.monotonic()
                quick.drain()
                floor.append(_wait_gone(conn, org, slot, t0))
        quick.close_clients()

        # 1. the deployed worker, as `voxbook calendar worker` runs.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKER_", "DATABASE_URL"))}
        env.update(DATABASE_URL=app_url, VOXBOOK_SECRETS_KEY=key, PYTHONPATH=str(REPO_ROOT))
        proc = subprocess.Popen([sys.executable, "-m", "voxbook.cli", "calendar", "worker", "--worker-id", "bench-cal"],
                                env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lat = []
        with psycopg.connect(url, autocommit=True) as conn:
            for i in range(samples):
                slot = slots[i]
                # Changes land at points spread over the calendar's cycle (right after a sample the worker has just
                # synced it: without this wait every change would wait a whole interval).
                time.sleep(((i * 0.618) % 1.0) * DEFAULT_INTERVAL)
                cals[0].save_event(_busy_ics(f"lat-{i}", slot))
                lat.append(_wait_gone(conn, org, slot, time.monotonic()))
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        proc = None

        # 2. cost per calendar per idle round, and the bare client's REPORT as baseline.
        worker = _CountingWorker(CalendarSyncConfig(database_url=app_url, once=True, interval_seconds=0,
                                                    concurrency=1), settings)
        with psycopg.connect(url, autocommit=True) as conn:   # due now (the process above set its interval)
            conn.execute("UPDATE voxbook.calendar_connections SET next_attempt_at = now() WHERE org_id = %s", (org,))
        worker.drain()   # connections and clients warmed
        cpu, stmts, bare, rounds_done = [], [], [], []
        with psycopg.connect(url, autocommit=True) as conn:
            tokens = dict(conn.execute("SELECT calendar_id, sync_token FROM voxbook.calendar_connections "
                                       "WHERE org_id = %s", (org,)).fetchall())
        bare_client = radicale.client()
        bare_cals = [caldav.Calendar(client=bare_client, url=str(c.url)) for c in cals]
        for _ in range(cost_rounds):
            _CountingCursor.statements = 0
            t0 = time.process_time()
            n = worker.drain()
            rounds_done.append(n)
            cpu.append((time.process_time() - t0) * 1000 / max(n, 1))
            stmts.append(_CountingCursor.statements / max(n, 1))
            t0 = time.process_time()
            for i, c in enumerate(bare_cals, 1):
                c.get_objects_by_sync_token(tokens[f"c{i}"], load_objects=True)
            bare.append((time.process_time() - t0) * 1000 / len(bare_cals))
        worker.close_clients()
        bare_client.close()

        p50, p99 = percentile(lat, 50), percentile(lat, 99)
        res.rows += [
            Row("calendar_sync", "external change -> availability, p50", round(p50, 2), "s",
                "one round of all, at once", round(median(floor), 3), ratio(p50, median(floor)), "", None),
            Row("calendar_sync", "external change -> availability, p99", round(p99, 2), "s",
                "one round of all, at once", round(percentile(floor, 99), 3), ratio(p99, percentile(floor, 99)), "< 60 s",
                p99 < 60),
            Row("calendar_sync", "worker CPU per calendar per idle round", round(median(cpu), 2), "ms",
                "bare caldav REPORT", round(median(bare), 2), ratio(median(cpu), median(bare)), "", None),
            Row("calendar_sync", "database calls per calendar per idle round", round(median(stmts), 2), "calls",
                "", None, None, "", None),
        ]
        res.raw = {"latency_s": lat, "one_round_s": floor, "cpu_ms_per_calendar": cpu, "bare_cpu_ms": bare,
                   "db_calls_per_calendar": stmts, "calendars": calendars, "interval_seconds": DEFAULT_INTERVAL}
        with psycopg.connect(url, autocommit=True) as conn:
            events = conn.execute("SELECT count(*) FROM voxbook.blocked_periods WHERE org_id = %s AND source = 'caldav'",
                                  (org,)).fetchone()[0]
        res.checks = {"exactly_every_busy_event_imported": events == 2 * samples,
                      "every_calendar_synced_each_round": min(rounds_done) == calendars}
        res.notes.append(f"{calendars} calendars connected, worker defaults (interval {DEFAULT_INTERVAL:g} s, poll 2 s)")
        log(f"calendar_sync: p50 {p50:.2f} s, p99 {p99:.2f} s; {median(cpu):.2f} ms CPU and "
            f"{median(stmts):.1f} calls per calendar per round")
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        radicale.stop()
    return res

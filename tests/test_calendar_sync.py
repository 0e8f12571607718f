"""Two-way CalDAV calendar sync (issue 17) against a real Radicale started here (tests/caldav_helpers.py) and the
test database: appointments become events (moved, cancelled), busy time there blocks availability and claims
(single, weekly recurring, all-day; transparent and cancelled ones do not), our own events are never imported,
conflicts are shown, an outage stops no booking and is caught up, two workers and a killed worker never make a
second event, and a wrong URL or password is said clearly.

The worker runs in-process (CalendarSyncWorker.drain, the code `voxbook calendar worker` runs) or as real
`voxbook calendar worker` processes; nothing of ours is replaced.
"""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from caldav_helpers import USERS, RadicaleServer, event_ics, free_port, our_events
from caldav_helpers import no_connections_left_behind, radicale  # noqa: F401 - the module's fixtures
from clinic_helpers import new_clinic
from conftest import REPO_ROOT, run_cli
from voxbook.secrets_box import SecretsBox, generate_key
from voxbook.settings import Settings
from voxbook.workers.calendar_sync import CalDavCalendar, CalendarSyncConfig, CalendarSyncWorker, SyncError

SECRETS_KEY = generate_key()
BOX = SecretsBox(SECRETS_KEY)


def worker(app_database_url: str, **overrides) -> CalendarSyncWorker:
    cfg = CalendarSyncConfig(database_url=app_database_url, once=True, interval_seconds=0, retry_base_seconds=0,
                             request_timeout_seconds=5, **overrides)
    return CalendarSyncWorker(cfg, replace(Settings.from_env(), secrets_key=SECRETS_KEY))


def sync(app_database_url: str, **overrides) -> CalendarSyncWorker:
    """One round of every due calendar, as `voxbook calendar worker --once` runs it."""
    w = worker(app_database_url, **overrides)
    try:
        w.drain()
    finally:
        w.close_clients()
    return w


def connect(db, org: str, url: str, user: str = "alice", calendar: str = "cal-a", **kw) -> dict:
    return db.execute(
        "SELECT api.connect_calendar(%s, %s, %s, %s, %s, %s, event_title => %s, patient_name => %s) AS r",
        (org, calendar, url, user, BOX.encrypt(USERS[user]), BOX.key_id, kw.get("title"), kw.get("patient_name")),
    ).fetchone()["r"]


def at(db, org: str, days: int, hhmm: str) -> datetime:
    return db.execute("SELECT tests.at(%s, (current_date + %s) + %s::time) AS t", (org, days, hhmm)).fetchone()["t"]


def book(db, org: str, slot: datetime, name: str = "Pat Doe", calendar: str = "cal-a") -> str:
    r = db.execute("SELECT api.book_for_patient(%s, %s, %s, 'cleaning', %s, '+15550001234', 'desk') AS r",
                   (org, calendar, slot, name)).fetchone()["r"]
    assert r["success"], r
    return r["appointment_id"]


def ical_utc(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def offered(db, org: str, day: datetime, calendar: str = "cal-a") -> set[datetime]:
    local_day = db.execute("SELECT (%s AT TIME ZONE o.time_zone)::date AS d FROM voxbook.organizations o WHERE o.id = %s",
                           (day, org)).fetchone()["d"]
    r = db.execute("SELECT api.check_availability(%s, %s, calendar_id => %s) AS r", (org, local_day, calendar)).fetchone()["r"]
    return {datetime.fromisoformat(s["time"].replace("Z", "+00:00")) for s in r["slots"]}


def claim_refused(db, org: str, slot: datetime) -> str | None:
    try:
        with db.transaction():
            db.execute("SELECT api.claim_slot_atomic(org_id => %s, calendar_id => 'cal-a', slot_time => %s, "
                       "call_sid => 'call-x', patient_name => 'Sam', patient_phone => '+15550009999')", (org, slot))
            raise _Rollback
    except psycopg.Error as exc:
        return exc.diag.message_primary
    except _Rollback:
        return None


class _Rollback(Exception):
    pass


def health(db, org: str) -> dict:
    return db.execute("SELECT api.list_calendar_connections(%s) AS r", (org,)).fetchone()["r"]["connections"][0]


def test_appointments_become_events_moved_and_cancelled(db, radicale, app_database_url):
    org, _ = new_clinic(db)
    cal = radicale.new_calendar()
    connect(db, org, str(cal.url), title="{service} - {patient}", patient_name="first")
    slot = at(db, org, 3, "10:00")
    appt = book(db, org, slot, name="Pat Doe")
    sync(app_database_url)

    events = our_events(radicale.calendar(str(cal.url)))
    assert len(events) == 1
    ev = events[0]
    assert str(ev["UID"]) == f"{appt}@voxbook"
    assert str(ev["SUMMARY"]) == "Cleaning - Pat"          # first name only, by policy
    assert ev["DTSTART"].dt == slot and ev["DTEND"].dt == slot + timedelta(hours=1)
    assert "0001234" not in ev.to_ical().decode()          # never the phone
    assert health(db, org)["state"] == "ok"

    new_slot = at(db, org, 4, "14:00")
    r = db.execute("SELECT api.reschedule_appointment(%s, %s, %s, staff_user => 'desk') AS r", (appt, org, new_slot)).fetchone()["r"]
    assert r["success"], r
    sync(app_database_url)
    events = our_events(radicale.calendar(str(cal.url)))
    assert [(str(e["UID"]), e["DTSTART"].dt) for e in events] == [(f"{appt}@voxbook", new_slot)]

    r = db.execute("SELECT api.cancel_appointment(%s, %s, staff_user => 'desk') AS r", (appt, org)).fetchone()["r"]
    assert r["success"], r
    sync(app_database_url)
    assert our_events(radicale.calendar(str(cal.url))) == []
    # Our own event was never imported as busy time.
    assert db.execute("SELECT count(*) AS n FROM voxbook.blocked_periods WHERE org_id = %s", (org,)).fetchone()["n"] == 0


def test_busy_time_blocks_availability_and_claims(db, radicale, app_database_url):
    org, _ = new_clinic(db)
    cal = radicale.new_calendar()
    connect(db, org, str(cal.url))
    single = at(db, org, 5, "10:00")
    weekly = at(db, org, 6, "14:00")
    all_day = at(db, org, 8, "00:00")
    transparent = at(db, org, 5, "15:00")
    cancelled = at(db, org, 5, "16:00")
    before = {d: offered(db, org, d) for d in (single, weekly, weekly + timedelta(days=7), all_day)}
    assert single in before[single] and weekly in before[weekly] and transparent in before[single]

    cal.save_event(event_ics("dentist-1", ical_utc(single), ical_utc(single + timedelta(hours=1))))
    cal.save_event(event_ics("team-weekly", ical_utc(weekly), ical_utc(weekly + timedelta(minutes=30)),
                             rrule="FREQ=WEEKLY;COUNT=3"))
    local_date = db.execute("SELECT (%s AT TIME ZONE 'America/New_York')::date AS d", (all_day,)).fetchone()["d"]
    cal.save_event(event_ics("day-off", local_date.strftime("%Y%m%d"),
                             (local_date + timedelta(days=1)).strftime("%Y%m%d"), all_day=True))
    cal.save_event(event_ics("fyi", ical_utc(transparent), ical_utc(transparent + timedelta(hours=1)), transparent=True))
    cal.save_event(event_ics("called-off", ical_utc(cancelled), ical_utc(cancelled + timedelta(hours=1)),
                             status="CANCELLED"))
    sync(app_database_url)

    after_single = offered(db, org, single)
    assert single not in after_single and single + timedelta(minutes=30) not in after_single
    assert transparent in after_single and cancelled in after_single   # not busy
    assert weekly not in offered(db, org, weekly)
    assert weekly + timedelta(days=7) not in offered(db, org, weekly + timedelta(days=7))   # the recurrence
    assert offered(db, org, all_day + timedelta(hours=12)) == set()                           # the whole local day
    assert "not available" in (claim_refused(db, org, single) or "")
    assert "not available" in (claim_refused(db, org, weekly + timedelta(days=14)) or "")
    assert claim_refused(db, org, transparent) is None

    # Incremental: the event removed there frees the time on the next round.
    for obj in cal.search(event=True):
        if "dentist-1" in obj.data:
            obj.delete()
    sync(app_database_url)
    assert single in offered(db, org, single)
    assert health(db, org)["incremental"] is True


def test_a_server_without_sync_tokens_is_read_by_ctag_and_etags(db, radicale, app_database_url):
    """The fallback for servers without sync-collection: the ctag first (unchanged: nothing read), else every
    object, compared by a digest of their ETags. Radicale has sync-tokens, so the connection is put on the fallback
    the way the caldav library leaves it after a server refused sync-collection: a "fake-" token."""
    org, _ = new_clinic(db)
    cal = radicale.new_calendar()
    connect(db, org, str(cal.url))
    sync(app_database_url)
    db.execute("UPDATE voxbook.calendar_connections SET sync_token = 'fake-0' WHERE org_id = %s", (org,))
    busy = at(db, org, 4, "15:00")
    cal.save_event(event_ics("fallback-1", ical_utc(busy), ical_utc(busy + timedelta(minutes=30))))
    sync(app_database_url)
    assert busy not in offered(db, org, busy)
    state = db.execute("SELECT sync_token, ctag FROM voxbook.calendar_connections WHERE org_id = %s", (org,)).fetchone()
    assert state["sync_token"].startswith("fake-") and state["ctag"]
    assert health(db, org)["incremental"] is False

    client = CalDavCalendar(str(cal.url), "alice", USERS["alice"])
    try:
        # Nothing changed: the ctag says so, no object is read.
        assert client.changes(state["sync_token"], state["ctag"], full=False)[:2] == ([], [])
        for obj in cal.search(event=True):
            obj.delete()
        objects, deleted, token, ctag, full = client.changes(state["sync_token"], state["ctag"], full=False)
        assert ctag != state["ctag"] and full and objects == []   # a full read: the calendar is empty now
    finally:
        client.close()
    sync(app_database_url)
    assert busy in offered(db, org, busy)


def test_conflict_is_shown_and_the_appointment_stays(db, radicale, app_database_url):
    org, _ = new_clinic(db)
    cal = radicale.new_calendar()
    connect(db, org, str(cal.url))
    slot = at(db, org, 3, "11:00")
    appt = book(db, org, slot)
    assert db.execute("SELECT api.list_calendar_conflicts(%s) AS r", (org,)).fetchone()["r"]["conflicts"] == []
    cal.save_event(event_ics("golf", ical_utc(slot - timedelta(minutes=30)), ical_utc(slot + timedelta(minutes=30))))
    sync(app_database_url)
    conflicts = db.execute("SELECT api.list_calendar_conflicts(%s) AS r", (org,)).fetchone()["r"]["conflicts"]
    assert [c["appointment_id"] for c in conflicts] == [appt]
    status = db.execute("SELECT status FROM voxbook.appointments WHERE id = %s", (appt,)).fetchone()["status"]
    assert status == "confirmed"


def test_a_read_only_calendar_still_blocks_busy_time(db, radicale, app_database_url):
    """An account that may only read the calendar: our events cannot be written (said so, in the health), but the
    provider's busy time is still imported and refused to callers."""
    org, _ = new_clinic(db)
    cal = radicale.new_calendar()                     # alice's calendar, connected with reader's account
    connect(db, org, str(cal.url), user="reader")
    busy = at(db, org, 5, "10:00")
    cal.save_event(event_ics("meeting", ical_utc(busy), ical_utc(busy + timedelta(hours=1))))
    book(db, org, at(db, org, 5, "14:00"))
    sync(app_database_url)
    h = health(db, org)
    assert h["state"] == "failing" and h["last_error_class"] == "no_write_permission", h
    assert our_events(radicale.calendar(str(cal.url))) == []
    assert busy not in offered(db, org, busy)
    assert "not available" in (claim_refused(db, org, busy) or "")


def test_server_down_bookings_work_and_sync_catches_up(db, radicale, app_database_url):
    with RadicaleServer() as server:
        org, _ = new_clinic(db)
        cal = server.new_calendar()
        connect(db, org, str(cal.url))
        other, _ = new_clinic(db)                               # another clinic, its calendar on a healthy server
        other_cal = radicale.new_calendar()
        connect(db, other, str(other_cal.url))
        server.stop()
        appt = book(db, org, at(db, org, 3, "09:00"))          # the tool call never waits on CalDAV
        other_appt = book(db, other, at(db, other, 3, "09:00"))
        w = worker(app_database_url)
        w.drain()
        h = health(db, org)
        assert h["state"] == "failing" and h["last_error_class"] == "unreachable", h
        assert h["consecutive_failures"] == 1
        # A failing calendar stops nothing else: the other one synced in the same round.
        assert health(db, other)["state"] == "ok"
        assert [str(e["UID"]) for e in our_events(radicale.calendar(str(other_cal.url)))] == [f"{other_appt}@voxbook"]
        w.drain()
        assert health(db, org)["consecutive_failures"] == 2    # retried (backoff 0 here), counted
        doctor = run_cli("doctor", database_url=app_database_url, extra_env={"VOXBOOK_SECRETS_KEY": SECRETS_KEY})
        assert doctor.returncode == 1 and "calendar sync failing (unreachable, 2x)" in doctor.stdout, doctor.stdout
        server.start()
        w.drain()
        w.close_clients()
        assert [str(e["UID"]) for e in our_events(server.calendar(str(cal.url)))] == [f"{appt}@voxbook"]
        assert health(db, org)["state"] == "ok" and health(db, org)["consecutive_failures"] == 0


def test_a_lost_record_or_a_second_worker_never_makes_a_second_event(db, radicale, app_database_url):
    org, _ = new_clinic(db)
    cal = radicale.new_calendar()
    connect(db, org, str(cal.url))
    appts = [book(db, org, at(db, org, 2, f"{h}:00")) for h in (9, 10, 11, 13, 14)]
    sync(app_database_url)
    # The crash window: the PUT reached the server, its record did not reach the database.
    db.execute("DELETE FROM voxbook.calendar_pushes WHERE org_id = %s", (org,))
    sync(app_database_url)
    uids = sorted(str(e["UID"]) for e in our_events(radicale.calendar(str(cal.url))))
    assert uids == sorted(f"{a}@voxbook" for a in appts)


def _start_worker(app_database_url: str, worker_id: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {
        "DATABASE_URL": app_database_url, "VOXBOOK_SECRETS_KEY": SECRETS_KEY}
    # A 2 s lease: a killed worker's calendar is taken over quickly, and a slow round may be taken over while
    # it still runs (both workers then push the same appointments: the PUT preconditions keep one event each).
    return subprocess.Popen([sys.executable, "-m", "voxbook.cli", "calendar", "worker", "--worker-id", worker_id,
                             "--interval-seconds", "0.2", "--poll-seconds", "0.2", "--lease-seconds", "2"],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait(predicate, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def test_two_workers_and_a_killed_one_each_event_once(db, radicale, app_database_url):
    org, _ = new_clinic(db)
    cal = radicale.new_calendar()
    connect(db, org, str(cal.url))
    appts = [book(db, org, at(db, org, d, f"{h}:00")) for d in (2, 3, 4) for h in (9, 10, 11, 13, 14, 15, 16)]
    workers = {"w1": _start_worker(app_database_url, "w1"), "w2": _start_worker(app_database_url, "w2")}
    killed = None
    try:
        # kill -9 the worker that holds the calendar as soon as the first events are there: mid-push.
        _wait(lambda: len(our_events(radicale.calendar(str(cal.url)))) >= 1)
        holder = db.execute("SELECT locked_by FROM voxbook.calendar_connections WHERE org_id = %s",
                            (org,)).fetchone()["locked_by"]
        killed = holder if holder in workers else "w1"
        os.kill(workers[killed].pid, signal.SIGKILL)
        # The other one takes the calendar over once the lease has run out, and finishes.
        _wait(lambda: db.execute("SELECT count(*) AS n FROM voxbook.calendar_pushes WHERE org_id = %s",
                                 (org,)).fetchone()["n"] == len(appts))
    finally:
        for p in workers.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(20)
    assert workers[killed].returncode == -signal.SIGKILL
    uids = [str(e["UID"]) for e in our_events(radicale.calendar(str(cal.url)))]
    assert sorted(uids) == sorted(f"{a}@voxbook" for a in appts)   # each once, none missing


class _PlainWebSite:
    """A web server that knows nothing of WebDAV (PROPFIND: 501), on 127.0.0.1."""

    def __enter__(self) -> str:
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):  # noqa: ARG002
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_connection_errors_are_said_clearly(radicale):
    cal = radicale.new_calendar()

    def kind(url: str, user: str, password: str) -> str:
        c = CalDavCalendar(url, user, password, timeout=5)
        try:
            c.check(write=True)
            return "ok"
        except SyncError as exc:
            return exc.kind
        finally:
            c.close()

    assert kind(str(cal.url), "alice", USERS["alice"]) == "ok"
    assert kind(str(cal.url), "alice", "wrong") == "bad_credentials"
    assert kind(radicale.base_url + "/alice/", "alice", USERS["alice"]) == "not_a_calendar"       # the principal
    principal = CalDavCalendar(radicale.base_url + "/alice/", "alice", USERS["alice"], timeout=5)
    with pytest.raises(SyncError) as refused:
        principal.check()
    principal.close()
    # ... with the account's calendars (the first five) to choose from
    assert "principal" in str(refused.value) and f"calendars: {radicale.base_url}/alice/cal-" in str(refused.value)
    assert kind(radicale.base_url + "/.web/", "alice", USERS["alice"]) == "not_a_calendar"         # refused (403)
    with _PlainWebSite() as page:
        assert kind(page, "alice", "x") == "not_a_calendar"                                       # a plain page
    assert kind(str(cal.url), "reader", USERS["reader"]) == "no_write_permission"
    assert kind(f"http://127.0.0.1:{free_port()}/x/", "alice", "x") == "unreachable"


def test_cli_connect_tests_first_then_stores_encrypted(db, radicale, database_url):
    org, _ = new_clinic(db)
    cal = radicale.new_calendar()
    env = {"VOXBOOK_SECRETS_KEY": SECRETS_KEY, "CALDAV_PW": "wrong-password"}
    res = run_cli("calendar", "connect", "--org", org, "--calendar", "cal-a", "--url", str(cal.url),
                  "--username", "alice", "--password-env", "CALDAV_PW", database_url=database_url, extra_env=env)
    assert res.returncode == 2 and "bad credentials" in res.stderr, res.stderr
    assert "wrong-password" not in res.stderr + res.stdout
    assert db.execute("SELECT count(*) AS n FROM voxbook.calendar_connections WHERE org_id = %s", (org,)).fetchone()["n"] == 0

    env["CALDAV_PW"] = USERS["alice"]
    res = run_cli("calendar", "connect", "--org", org, "--calendar", "cal-a", "--url", str(cal.url),
                  "--username", "alice", "--password-env", "CALDAV_PW", "--patient-name", "full",
                  database_url=database_url, extra_env=env)
    assert res.returncode == 0, res.stderr
    row = db.execute("SELECT secret_ciphertext FROM voxbook.calendar_connections WHERE org_id = %s", (org,)).fetchone()
    assert USERS["alice"] not in row["secret_ciphertext"] and BOX.decrypt(row["secret_ciphertext"]) == USERS["alice"]
    res = run_cli("calendar", "list", "--org", org, database_url=database_url, extra_env=env)
    assert res.returncode == 0 and "cal-a" in res.stdout and "[pending]" in res.stdout, res.stdout
    res = run_cli("calendar", "test", "--org", org, "--calendar", "cal-a", database_url=database_url, extra_env=env)
    assert res.returncode == 0 and res.stdout.startswith("OK: provider cal-a"), res.stdout + res.stderr
    res = run_cli("calendar", "test", "--org", org, "--calendar", "cal-a", database_url=database_url,
                  extra_env=env | {"VOXBOOK_SECRETS_KEY": generate_key()})
    assert res.returncode == 2 and "no key of VOXBOOK_SECRETS_KEY opens" in res.stderr, res.stderr
    res = run_cli("calendar", "disconnect", "--org", org, "--calendar", "cal-a", database_url=database_url, extra_env=env)
    assert res.returncode == 0 and "disconnected" in res.stdout

"""The CalDAV sync attacked (issue 17 review): a clinic owner controls the calendar URL, and whoever runs the server
controls its answers. The worker must not be aimed at loopback, private or link-local addresses (cloud metadata),
must not follow redirects or hrefs to other hosts, and must bound what one hostile answer costs it (a body too
big, a body trickled forever, a recurring event with millions of occurrences).

Hostile servers are small real HTTP servers on 127.0.0.1 (``Hostile``) and the suite's Radicale; the code under
test is the worker's own (CalDavCalendar, busy_occurrences, CalendarSyncWorker.drain).
"""

from __future__ import annotations

import http.server
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import psycopg
import pytest

from caldav_helpers import USERS, RadicaleServer, our_events
from caldav_helpers import no_connections_left_behind, radicale  # noqa: F401 - the module's fixtures
from clinic_helpers import new_clinic
from voxbook.secrets_box import SecretsBox, generate_key
from voxbook.settings import Settings
from voxbook.workers.calendar_sync import (MAX_OCCURRENCES_PER_EVENT, MAX_RESPONSE_BYTES, CalDavCalendar,
                                           CalendarSyncConfig, CalendarSyncWorker, SyncError, busy_occurrences)

SECRETS_KEY = generate_key()
BOX = SecretsBox(SECRETS_KEY)


class Hostile:
    """An HTTP server on 127.0.0.1 answering every method with ``answer(handler)``; it records what reached it."""

    def __init__(self, answer):
        self.requests: list[tuple[str, str, str | None]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                outer.requests.append((self.command, self.path, self.headers.get("Authorization")))
                try:
                    answer(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = do_OPTIONS = _any

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cal/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _reply(h, status: int, body: bytes = b"", headers: dict | None = None):
    h.send_response(status)
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


@pytest.fixture
def hostile():
    servers = []

    def make(answer):
        s = Hostile(answer)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()


def refused(url: str, allow_private: bool, timeout: float = 5) -> SyncError:
    cal = CalDavCalendar(url, "alice", "pw-" + "x" * 8, timeout=timeout, allow_private=allow_private)
    try:
        with pytest.raises(SyncError) as exc:
            cal.check(write=True)
    finally:
        cal.close()
    return exc.value


# -- SSRF ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "127.1"])
def test_loopback_targets_are_refused_without_the_setting(host, hostile):
    """A reachable server on loopback (here ours) is not contacted at all by default, by IP or by a name."""
    server = hostile(lambda h: _reply(h, 207, b"<?xml version='1.0'?><multistatus xmlns='DAV:'/>"))
    port = server.server.server_address[1]
    err = refused(f"http://{host}:{port}/cal/", allow_private=False, timeout=2)
    assert err.kind == "unreachable" and "CALDAV_ALLOW_PRIVATE_HOSTS" in str(err)
    assert "127.0.0.1" not in str(err)   # the reason names no address
    assert server.requests == []


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/cal/",
                                 "http://192.168.1.1/cal/", "http://[fe80::1]/cal/", "http://0.0.0.0/cal/",
                                 "http://[::ffff:169.254.169.254]/cal/", "http://100.64.0.1/cal/"])
def test_metadata_private_and_link_local_targets_are_refused(url):
    err = refused(url, allow_private=False, timeout=2)
    assert err.kind == "unreachable" and "CALDAV_ALLOW_PRIVATE_HOSTS" in str(err)


def test_the_worker_refuses_a_loopback_calendar_and_says_why(db, radicale, app_database_url):
    """A clinic's URL pointing at a real calendar on 127.0.0.1: without the operator's setting the worker never
    contacts it (nothing pushed, nothing imported) and staff see why."""
    org, _ = new_clinic(db)
    cal = radicale.new_calendar()
    db.execute("SELECT api.connect_calendar(%s, 'cal-a', %s, 'alice', %s, %s)",
               (org, str(cal.url), BOX.encrypt(USERS["alice"]), BOX.key_id))
    db.execute("SELECT api.book_for_patient(%s, 'cal-a', tests.at(%s, (current_date + 3) + time '10:00'), "
               "'cleaning', 'Pat Doe', '+15550001234', 'desk')", (org, org))
    cfg = CalendarSyncConfig(database_url=app_database_url, once=True, interval_seconds=0, retry_base_seconds=0,
                             request_timeout_seconds=5)
    w = CalendarSyncWorker(cfg, replace(Settings.from_env(), secrets_key=SECRETS_KEY, caldav_allow_private_hosts=False))
    try:
        w.drain()
    finally:
        w.close_clients()
    c = db.execute("SELECT api.list_calendar_connections(%s) AS r", (org,)).fetchone()["r"]["connections"][0]
    assert c["state"] == "failing" and c["last_error_class"] == "unreachable"
    assert "CALDAV_ALLOW_PRIVATE_HOSTS" in c["last_error"] and USERS["alice"] not in c["last_error"]
    assert c["events_pushed"] == 0
    assert list(cal.search(event=True)) == []


def test_a_redirect_is_not_followed(hostile):
    """A calendar URL that answers 307 towards another server (an internal one, say): refused, the other never hears
    of it, and the password is not sent there."""
    inner = hostile(lambda h: _reply(h, 207, b"<?xml version='1.0'?><multistatus xmlns='DAV:'/>"))
    outer = hostile(lambda h: _reply(h, 307, headers={"Location": inner.url}))
    err = refused(outer.url, allow_private=True)
    assert err.kind == "not_a_calendar" and "redirect" in str(err)
    assert inner.url not in str(err)
    assert outer.requests and inner.requests == []


def test_an_href_on_another_host_is_not_requested(hostile):
    """A multistatus whose principal href names another host: the client never goes there with the password."""
    other = hostile(lambda h: _reply(h, 207, b"<?xml version='1.0'?><multistatus xmlns='DAV:'/>"))

    def principal_elsewhere(h):
        body = (f"<?xml version='1.0'?><d:multistatus xmlns:d='DAV:'><d:response><d:href>/cal/</d:href><d:propstat>"
                f"<d:prop><d:resourcetype><d:collection/></d:resourcetype><d:current-user-principal><d:href>"
                f"{other.url}principal/</d:href></d:current-user-principal></d:prop><d:status>HTTP/1.1 200 OK"
                f"</d:status></d:propstat></d:response></d:multistatus>").encode()
        _reply(h, 207, body, {"Content-Type": "application/xml; charset=utf-8"})

    server = hostile(principal_elsewhere)
    err = refused(server.url, allow_private=True)
    assert err.kind == "not_a_calendar"
    assert other.requests == []


# -- hostile answers ------------------------------------------------------------------------------


def test_a_huge_answer_is_cut_off(hostile):
    big = b"<?xml version='1.0'?><multistatus xmlns='DAV:'>" + b" " * (MAX_RESPONSE_BYTES + 1024) + b"</multistatus>"
    server = hostile(lambda h: _reply(h, 207, big, {"Content-Type": "application/xml"}))
    err = refused(server.url, allow_private=True)
    assert err.kind == "server_error" and "MB in one answer" in str(err)


def test_a_trickled_answer_does_not_hold_the_worker(hostile):
    """Headers at once, then a byte every 0.3 s for 20 s: each read is within the socket timeout (1 s), the whole
    answer is not (4 x the timeout)."""
    def trickle(h):
        h.send_response(207)
        h.send_header("Content-Type", "application/xml")
        h.send_header("Content-Length", "100000")
        h.end_headers()
        end = time.monotonic() + 20
        while time.monotonic() < end:
            h.wfile.write(b" ")
            h.wfile.flush()
            time.sleep(0.3)

    server = hostile(trickle)
    err = refused(server.url, allow_private=True, timeout=1)
    assert err.kind == "unreachable" and "to send one answer" in str(err)


def test_an_event_recurring_every_minute_is_bounded_and_stays_busy():
    """FREQ=MINUTELY (no end) over ten days is 14400 occurrences, FREQ=SECONDLY millions: the expansion stops at
    MAX_OCCURRENCES_PER_EVENT and the rest of the window is one busy block (never bookable by omission)."""
    zone = ZoneInfo("America/New_York")
    window_starts = datetime(2030, 1, 1, tzinfo=timezone.utc)
    window_ends = window_starts + timedelta(days=10)
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\nUID:every-minute\r\n"
           "DTSTAMP:20260101T000000Z\r\nDTSTART:20300101T120000Z\r\nDTEND:20300101T120030Z\r\n"
           "RRULE:FREQ=MINUTELY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    uid, occ, ours = busy_occurrences(ics, zone, window_starts, window_ends)
    assert uid == "every-minute" and not ours
    assert len(occ) == MAX_OCCURRENCES_PER_EVENT + 1
    assert occ[-1]["ends_at"] == "2030-01-11T00:00:00Z"
    last_regular = datetime.fromisoformat(occ[-2]["starts_at"].replace("Z", "+00:00"))
    assert occ[-1]["starts_at"] == (last_regular + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_calendar_flooding_busy_time_is_refused_whole(db, radicale, app_database_url):
    """Many ever-recurring events: the worker stops collecting at max_busy_occurrences (its memory), imports nothing
    and says why; the database refuses over 50000 whatever the caller (tests/pgtap/test_90_calendar_adversarial.sql)."""
    from caldav_helpers import event_ics

    org, _ = new_clinic(db)
    cal = radicale.new_calendar()
    db.execute("SELECT api.connect_calendar(%s, 'cal-a', %s, 'alice', %s, %s)",
               (org, str(cal.url), BOX.encrypt(USERS["alice"]), BOX.key_id))
    start = datetime.now(timezone.utc).replace(hour=15, minute=0, second=0, microsecond=0) + timedelta(days=1)
    for i in range(3):
        t = start + timedelta(hours=i)
        cal.save_event(event_ics(f"daily-{i}", t.strftime("%Y%m%dT%H%M%SZ"),
                                 (t + timedelta(minutes=30)).strftime("%Y%m%dT%H%M%SZ"), rrule="FREQ=DAILY"))
    cfg = CalendarSyncConfig(database_url=app_database_url, once=True, interval_seconds=0, retry_base_seconds=0,
                             request_timeout_seconds=5, max_busy_occurrences=100)
    w = CalendarSyncWorker(cfg, replace(Settings.from_env(), secrets_key=SECRETS_KEY))
    try:
        w.drain()
    finally:
        w.close_clients()
    c = db.execute("SELECT api.list_calendar_connections(%s) AS r", (org,)).fetchone()["r"]["connections"][0]
    assert c["last_error_class"] == "invalid_data" and "over 100 busy occurrences" in c["last_error"]
    assert c["busy_imported"] == 0
    db.execute("SELECT api.disconnect_calendar(%s, 'cal-a')", (org,))


# -- a slow server --------------------------------------------------------------------------------


def test_a_stalled_calendar_does_not_hold_the_others(db, radicale, app_database_url, hostile):
    """One provider's server takes a request and never answers (until released here); the worker (two threads, as
    `voxbook calendar worker` runs) keeps syncing the other provider's calendar meanwhile: a booking made after
    the stall began reaches that calendar while the stalled request is still held."""
    release = threading.Event()

    def stall(h):
        release.wait(90)
        _reply(h, 503)

    slow = hostile(stall)
    org, _ = new_clinic(db)
    cal = radicale.new_calendar()
    for calendar, url in (("cal-a", str(cal.url)), ("cal-b", slow.url)):
        db.execute("SELECT api.connect_calendar(%s, %s, %s, 'alice', %s, %s)",
                   (org, calendar, url, BOX.encrypt(USERS["alice"]), BOX.key_id))
    cfg = CalendarSyncConfig(database_url=app_database_url, interval_seconds=0.2, poll_seconds=0.2, concurrency=2,
                             request_timeout_seconds=60, retry_base_seconds=0)
    w = CalendarSyncWorker(cfg, replace(Settings.from_env(), secrets_key=SECRETS_KEY))
    thread = threading.Thread(target=w.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not slow.requests and time.monotonic() < deadline:
            time.sleep(0.1)
        assert slow.requests, "the worker never reached the slow server"
        r = db.execute("SELECT api.book_for_patient(%s, 'cal-a', tests.at(%s, (current_date + 3) + time '10:00'), "
                       "'cleaning', 'Pat Doe', '+15550001234', 'desk') AS r", (org, org)).fetchone()["r"]
        assert r["success"], r
        deadline = time.monotonic() + 30
        while not our_events(radicale.calendar(str(cal.url))) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert len(our_events(radicale.calendar(str(cal.url)))) == 1, "the other calendar waited for the stalled one"
        assert not release.is_set() and len(slow.requests) == 1   # still the first, held request
    finally:
        release.set()
        w.request_stop()
        thread.join(120)
        db.execute("SELECT api.disconnect_calendar(%s, 'cal-a'), api.disconnect_calendar(%s, 'cal-b')", (org, org))
    assert not thread.is_alive()

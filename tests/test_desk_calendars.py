"""The dashboard's Calendars page (issues 16 and 17) over real HTTP (uvicorn on 127.0.0.1, staff signed in with a
password) against a real Radicale (tests/caldav_helpers.py) and the real sync worker (CalendarSyncWorker.drain):
every provider's calendar with its sync health, a failing one's reason, the conflicts; owners connect (tested
first, as `voxbook calendar connect`: a bad password, a URL that is no calendar, an account that may not write,
a server that is down each said clearly, nothing stored) and disconnect; the front desk sees and may not change
(403); another clinic's staff see nothing of it; the password is in no page and no log line; a server without
VOXBOOK_SECRETS_KEY says so plainly."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta

import psycopg
import pytest
import uvicorn
from caldav_helpers import USERS, RadicaleServer, event_ics, free_port
from caldav_helpers import no_connections_left_behind, radicale  # noqa: F401 - the module's fixtures
from clinic_helpers import new_clinic, unique_phone
from dashboard_helpers import VAPI_SECRET, Server, create_staff, sign_in
from voxbook.api.app import create_app
from voxbook.secrets_box import SecretsBox, generate_key
from voxbook.settings import Settings
from voxbook.workers.calendar_sync import CalendarSyncConfig, CalendarSyncWorker

SECRETS_KEY = generate_key()
BOX = SecretsBox(SECRETS_KEY)


@contextmanager
def serve(settings: Settings) -> Iterator[Server]:
    """The app under a real uvicorn in a thread (as dashboard_helpers.live_server), with these settings."""
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning",
                                           lifespan="on", timeout_graceful_shutdown=3))
    thread = threading.Thread(target=server.run, name="calendars-test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start for the calendars tests")
        time.sleep(0.05)
    try:
        yield Server(f"http://127.0.0.1:{server.config.port}", server, app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module")
def live_server(app_database_url: str) -> Iterator[Server]:
    """This module's server has a VOXBOOK_SECRETS_KEY (the shared live_server has none); staff_client uses it."""
    with serve(Settings(database_url=app_database_url, vapi_secret=VAPI_SECRET, secrets_key=SECRETS_KEY)) as s:
        yield s


def sync(app_database_url: str) -> None:
    """One round of every due calendar, as `voxbook calendar worker --once` runs it."""
    cfg = CalendarSyncConfig(database_url=app_database_url, once=True, interval_seconds=0, retry_base_seconds=0,
                             request_timeout_seconds=5)
    w = CalendarSyncWorker(cfg, replace(Settings.from_env(), secrets_key=SECRETS_KEY))
    try:
        w.drain()
    finally:
        w.close_clients()


def connection(db, org: str, calendar: str = "cal-a"):
    return db.execute("SELECT url, username, secret_ciphertext, connected_by FROM voxbook.calendar_connections"
                      " WHERE org_id = %s AND calendar_id = %s", [org, calendar]).fetchone()


def who(client) -> str:
    return f"{client.staff.name} <{client.staff.email}>"


def ical_utc(t) -> str:
    return t.strftime("%Y%m%dT%H%M%SZ")


def test_owner_connects_a_calendar_tested_first_and_nothing_stored_on_a_failure(live_server, db, staff_client,
                                                                                 radicale, caplog):
    caplog.set_level(logging.DEBUG)
    org, _ = new_clinic(db, "Connect Dental")
    owner = staff_client(org, role="owner")
    cal = radicale.new_calendar()
    url = str(cal.url)
    form = {"calendar_id": "cal-a", "url": url, "username": "alice", "password": "wrong-" + USERS["alice"]}

    refusals = {
        "bad credentials": form,
        "not a calendar": {**form, "url": radicale.base_url + "/alice/", "password": USERS["alice"]},   # the account
        "no write permission": {**form, "username": "reader", "password": USERS["reader"]},
        "unreachable": {**form, "url": f"http://127.0.0.1:{free_port()}/alice/x/", "password": USERS["alice"]},
    }
    for said, data in refusals.items():
        resp = owner.act("/dashboard/calendars/connect", data)
        assert resp.status_code == 400, (said, resp.status_code)
        assert said in resp.text and 'id="connect-error"' in resp.text, (said, resp.text[-2000:])
        assert data["password"] not in resp.text, said                # never shown back
        assert f'value="{data["url"]}"' in resp.text                  # what was typed stays, the password does not
        assert connection(db, org) is None, said                      # nothing stored
    # A URL with credentials in it is refused before any request.
    resp = owner.act("/dashboard/calendars/connect", {**form, "url": url.replace("http://", "http://alice:x@")})
    assert resp.status_code == 400 and "user:password@" in resp.text and connection(db, org) is None

    resp = owner.act("/dashboard/calendars/connect", {**form, "password": USERS["alice"], "patient_name": "first",
                                                      "event_title": "{service} - {patient}"})
    assert resp.status_code == 303 and resp.headers["location"] == "/dashboard/calendars?done=connected"
    row = connection(db, org)
    assert (row["url"], row["username"], row["connected_by"]) == (url, "alice", who(owner))
    assert USERS["alice"] not in row["secret_ciphertext"] and BOX.decrypt(row["secret_ciphertext"]) == USERS["alice"]
    page = owner.get("/dashboard/calendars?done=connected")
    assert page.status_code == 200 and 'data-done="connected"' in page.text
    assert 'data-calendar-id="cal-a" data-state="pending"' in page.text and url in page.text
    assert 'data-calendar-id="cal-b" data-state="none"' in page.text   # every provider, connected or not
    assert USERS["alice"] not in page.text and "gAAAAA" not in page.text
    # The password is in no log line (ours, uvicorn's, the caldav library's), the wrong ones neither.
    logged = caplog.text
    assert "calendar connection test failed" in logged and "calendar connected for clinic" in logged   # captured
    assert USERS["alice"] not in logged and "wrong-" not in logged and USERS["reader"] not in logged
    # The clinic page links to it.
    assert 'href="/dashboard/calendars"' in owner.get("/dashboard/clinic").text


def test_health_failing_reason_and_conflicts_are_shown(live_server, db, staff_client, radicale, app_database_url):
    org, _ = new_clinic(db, "Health Dental")
    owner = staff_client(org, role="owner")
    cal = radicale.new_calendar()
    resp = owner.act("/dashboard/calendars/connect", {"calendar_id": "cal-a", "url": str(cal.url), "username": "alice",
                                                      "password": USERS["alice"]})
    assert resp.status_code == 303, resp.text[-1000:]
    slot = db.execute("SELECT tests.at(%s, (current_date + 3) + time '11:00') AS t", [org]).fetchone()["t"]
    appt = db.execute("SELECT api.book_for_patient(%s, 'cal-a', %s, 'cleaning', 'Pat Conflict', %s, 'desk') AS r",
                      [org, slot, unique_phone()]).fetchone()["r"]
    assert appt["success"], appt
    # A read-only account for Dr. Baker (connected in psql: the page's test would refuse it): it will fail.
    db.execute("SELECT api.connect_calendar(%s, 'cal-b', %s, 'reader', %s, %s)",
               [org, str(radicale.new_calendar().url), BOX.encrypt(USERS["reader"]),
                BOX.key_id])
    db.execute("SELECT api.book_for_patient(%s, 'cal-b', %s, 'cleaning', 'Bea Baker', %s, 'desk')",
               [org, slot, unique_phone()])
    sync(app_database_url)

    desk = staff_client(org, role="front_desk")
    page = desk.get("/dashboard/calendars")
    assert page.status_code == 200
    text = page.text
    assert 'data-calendar-id="cal-a" data-state="ok"' in text
    able = text.split('data-calendar-id="cal-a"', 1)[1].split("</li>", 1)[0]
    assert '<dd data-field="events-pushed">1</dd>' in able and "not yet" not in able
    last = db.execute("SELECT api.dashboard_calendars(%s) #>> '{providers,0,connection,local_last_success}' AS t",
                      [org]).fetchone()["t"]
    assert last and f'<dd data-field="last-success">{last}</dd>' in able   # the clinic's time, as the other pages
    baker = text.split('data-calendar-id="cal-b"', 1)[1].split("</li>", 1)[0]
    assert 'data-state="failing"' in text and 'data-error-class="no_write_permission"' in baker
    assert "no write permission" in baker and "refused to let this account write" in baker and "1 failure in a row" in baker
    assert "No conflicts." in text

    # The provider puts a busy event over the booked appointment: shown as a conflict, still booked.
    cal.save_event(event_ics("golf", ical_utc(slot - timedelta(minutes=30)), ical_utc(slot + timedelta(minutes=30)),
                             summary="Golf"))
    sync(app_database_url)
    page = desk.get("/dashboard/calendars").text
    conflict = page.split('id="calendar-conflicts"', 1)[1]
    assert f'data-appointment-id="{appt["appointment_id"]}"' in conflict and "Pat Conflict" in conflict
    local = db.execute("SELECT api.dashboard_calendars(%s) #>> '{conflicts,0,local_time}' AS t", [org]).fetchone()["t"]
    assert local in conflict and "Dr. Able" in conflict
    assert '<dd data-field="busy-imported">1</dd>' in page
    assert db.execute("SELECT status FROM voxbook.appointments WHERE id = %s",
                      [appt["appointment_id"]]).fetchone()["status"] == "confirmed"
    # the front desk sees, but has no form to change anything
    assert 'id="connect-form"' not in page and 'data-action="disconnect"' not in page


def test_front_desk_may_not_change_and_other_clinics_see_nothing(live_server, db, staff_client, radicale):
    org, _ = new_clinic(db, "Mine Dental")
    other, _ = new_clinic(db, "Theirs Dental")
    db.execute("SELECT api.upsert_provider(%s, 'cal-only-mine', 'Dr. Only')", [org])
    cal = radicale.new_calendar()
    owner = staff_client(org, role="owner")
    assert owner.act("/dashboard/calendars/connect", {"calendar_id": "cal-a", "url": str(cal.url), "username": "alice",
                                                      "password": USERS["alice"]}).status_code == 303
    db.execute("SELECT api.connect_calendar(%s, 'cal-only-mine', %s, 'alice', %s, %s)",
               [org, str(cal.url), BOX.encrypt(USERS["alice"]), BOX.key_id])
    desk = staff_client(org, role="front_desk")
    before = db.execute("SELECT calendar_id, url, secret_ciphertext FROM voxbook.calendar_connections WHERE org_id = %s"
                        " ORDER BY 1", [org]).fetchall()

    assert desk.act("/dashboard/calendars/connect", {"calendar_id": "cal-b", "url": str(cal.url), "username": "alice",
                                                     "password": USERS["alice"]}).status_code == 403
    assert desk.act("/dashboard/calendars/cal-a/disconnect").status_code == 403
    # a form without the session's CSRF token: refused before anything
    assert owner.post("/dashboard/calendars/cal-a/disconnect", data={}).status_code == 403

    intruder = staff_client(other, role="owner")
    page = intruder.get("/dashboard/calendars").text
    assert str(cal.url) not in page and "Dr. Only" not in page and 'data-state="pending"' not in page
    assert intruder.act("/dashboard/calendars/cal-only-mine/disconnect").status_code == 404
    assert intruder.act("/dashboard/calendars/cal-a/disconnect").status_code == 303   # their own cal-a: had none
    assert intruder.act("/dashboard/calendars/connect", {"calendar_id": "cal-only-mine", "url": str(cal.url),
                                                         "username": "alice",
                                                         "password": USERS["alice"]}).status_code == 404
    assert db.execute("SELECT calendar_id, url, secret_ciphertext FROM voxbook.calendar_connections WHERE org_id = %s"
                      " ORDER BY 1", [org]).fetchall() == before
    assert db.execute("SELECT count(*) AS n FROM voxbook.calendar_connections WHERE org_id = %s",
                      [other]).fetchone()["n"] == 0

    resp = owner.act("/dashboard/calendars/cal-a/disconnect")
    assert resp.status_code == 303 and resp.headers["location"] == "/dashboard/calendars?done=disconnected"
    assert connection(db, org) is None and connection(db, org, "cal-only-mine") is not None
    audit = db.execute("SELECT changed_by FROM voxbook.audit_log WHERE org_id = %s AND action = 'disconnect_calendar'",
                       [org]).fetchall()
    assert [a["changed_by"] for a in audit] == [who(owner)]


def test_a_server_without_a_secrets_key_says_so_and_stores_nothing(app_database_url, db, radicale):
    org, _ = new_clinic(db, "Keyless Dental")
    cal = radicale.new_calendar()
    with serve(Settings(database_url=app_database_url, vapi_secret=VAPI_SECRET)) as keyless:
        owner = sign_in(keyless.base_url, create_staff(db, org, "owner"))
        try:
            page = owner.get("/dashboard/calendars")
            assert page.status_code == 200 and 'id="secrets-problem"' in page.text
            assert "no VOXBOOK_SECRETS_KEY" in page.text and 'id="connect-form"' not in page.text
            resp = owner.act("/dashboard/calendars/connect", {"calendar_id": "cal-a", "url": str(cal.url),
                                                              "username": "alice", "password": USERS["alice"]})
            assert resp.status_code == 503 and "no VOXBOOK_SECRETS_KEY" in resp.text
            assert connection(db, org) is None
        finally:
            owner.close()

"""The clinic dashboard over real HTTP (uvicorn on 127.0.0.1, the app as voxbook_app): logins scoped to
one clinic, the schedule with SMS states, the live hot-lead stream (one LISTEN per process, isolation,
reconnect) and the iCalendar feed, checked with the `icalendar` parser."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from datetime import UTC, datetime

import httpx
import icalendar
import psycopg
import pytest
from clinic_helpers import new_clinic, unique_phone
from conftest import run_cli
from dashboard_helpers import (SSEReader, book, csrf_of, dashboard_token, end_of_call_report, login, post_report,
                               tomorrow)

from voxbook.api.dashboard import _RedactTokens
from voxbook.api.dashboard_events import LISTENER_APPLICATION_NAME


def listeners(db) -> int:
    return db.execute("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = %s",
                      [LISTENER_APPLICATION_NAME]).fetchone()["n"]


def wait_until(predicate, timeout: float = 10, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not reached within {timeout} s")
        time.sleep(0.05)


# -- logins ----------------------------------------------------------------------------------------


def test_login_scopes_everything_to_one_clinic(live_server, db):
    base = live_server.base_url
    org_a, _ = new_clinic(db, "Scope Dental A")
    org_b, _ = new_clinic(db, "Scope Dental B")
    day = tomorrow(db, org_a)
    book(db, org_a, "cal-a", f"{day} 10:00", "Alice Only-A", unique_phone())
    book(db, org_b, "cal-a", f"{day} 10:00", "Bruno Only-B", unique_phone())

    anon = httpx.Client(base_url=base, timeout=10, headers={"Origin": base})
    page = anon.get("/dashboard")
    assert page.status_code == 200 and 'name="password"' in page.text and "Alice" not in page.text
    for path in ("/dashboard/fragments/leads", "/dashboard/fragments/schedule", "/dashboard/fragments/holds",
                 "/dashboard/events", "/dashboard/lead?call_id=x", "/dashboard/phone?call_id=x"):
        assert anon.get(path).status_code == 401, path
    owner_a = dashboard_token(db, org_a)
    refused = anon.post("/dashboard/login", data={"email": owner_a.email, "password": "not-the-password",
                                                  "_csrf": csrf_of(page)},
                        headers={"X-Forwarded-For": "198.51.100.71"})
    assert refused.status_code == 401 and "Wrong email or password" in refused.text
    assert "voxbook_dashboard" not in refused.headers.get("set-cookie", "")

    a = login(base, owner_a)
    cookie = a.cookies.get("voxbook_dashboard")
    assert cookie and owner_a.password not in cookie
    fresh = httpx.Client(base_url=base, headers={"Origin": base})
    set_cookie = fresh.post("/dashboard/login", data={"email": owner_a.email, "password": owner_a.password,
                                                      "_csrf": csrf_of(fresh.get("/dashboard"))}).headers["set-cookie"]
    assert "httponly" in set_cookie.lower() and "samesite=strict" in set_cookie.lower() and "path=/dashboard" in set_cookie.lower()
    page = a.get("/dashboard")
    assert page.status_code == 200
    assert "Scope Dental A" in page.text and "Alice Only-A" in page.text and owner_a.name in page.text
    assert "Scope Dental B" not in page.text and "Bruno Only-B" not in page.text
    assert page.headers["cache-control"] == "no-store" and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    # Session secrets and passwords are stored hashed only.
    sessions = db.execute("SELECT s.session_hash FROM voxbook.dashboard_sessions AS s WHERE s.org_id = %s",
                          [org_a]).fetchall()
    assert hashlib.sha256(cookie.encode()).digest() in [bytes(r["session_hash"]) for r in sessions]
    stored = db.execute("SELECT s.password_hash FROM voxbook.staff_accounts AS s WHERE s.org_id = %s AND s.id = %s",
                        [org_a, owner_a.staff_id]).fetchone()["password_hash"]
    assert stored.startswith("$argon2id$") and owner_a.password not in stored

    b = login(base, dashboard_token(db, org_b))
    sched_b = b.get("/dashboard/fragments/schedule").text
    assert "Bruno Only-B" in sched_b and "Alice Only-A" not in sched_b

    # Sign-out ends the session on the server, not only in this browser.
    assert a.act("/dashboard/logout").status_code == 303
    stale = httpx.Client(base_url=base, cookies={"voxbook_dashboard": cookie})
    assert stale.get("/dashboard/fragments/leads").status_code == 401


def test_dashboard_tokens_no_longer_sign_in(live_server, db, database_url):
    org, phone = new_clinic(db, "CLI Dental")
    res = run_cli("dashboard-token", "--org", phone, "--label", "owner", database_url=database_url)
    assert res.returncode == 2 and "voxbook staff invite" in res.stderr
    token = db.execute("SELECT api.issue_dashboard_token(%s, 'psql') ->> 'token' AS t", [org]).fetchone()["t"]
    browser = httpx.Client(base_url=live_server.base_url, timeout=10, headers={"Origin": live_server.base_url})
    form = browser.get("/dashboard")
    resp = browser.post("/dashboard/login", data={"token": token, "_csrf": csrf_of(form)},
                        headers={"X-Forwarded-For": "198.51.100.72"})
    assert resp.status_code == 401 and "voxbook_dashboard" not in browser.cookies


# -- schedule --------------------------------------------------------------------------------------


def test_schedule_per_provider_with_status_and_sms_states(live_server, db):
    org, _ = new_clinic(db, "Schedule Dental")
    db.execute("UPDATE voxbook.organizations SET reminder_hours = 1 WHERE id = %s", [org])  # reminder due tomorrow
    day = tomorrow(db, org)
    delivered = book(db, org, "cal-a", f"{day} 10:00", "Dana Delivered", "+15557650001", service="cleaning")
    cancelled = book(db, org, "cal-a", f"{day} 13:00", "Carl Cancelled", "+15557650002")
    failed = book(db, org, "cal-b", f"{day} 09:00", "Fay Failed", "+15557650003")
    held = book(db, org, "cal-b", f"{day} 15:00", "Hank Holding", "+15557650004", confirm=False)
    db.execute("UPDATE voxbook.sms_outbox SET status = 'delivered', delivered_at = now() "
               "WHERE org_id = %s AND appointment_id = %s AND kind = 'confirmation'", [org, delivered["appointment_id"]])
    db.execute("UPDATE voxbook.sms_outbox SET status = 'failed', error_code = '30003' "
               "WHERE org_id = %s AND appointment_id = %s AND kind = 'confirmation'", [org, failed["appointment_id"]])
    db.execute("SELECT api.cancel_appointment(%s, %s, 'patient called')", [cancelled["appointment_id"], org])

    data = db.execute("SELECT api.dashboard_schedule(%s) AS r", [org]).fetchone()["r"]
    assert [d["is_today"] for d in data["days"]] == [True, False]
    day2 = data["days"][1]
    assert day2["date"] == day
    by_provider = {p["provider"]: p["entries"] for p in day2["providers"]}
    assert list(by_provider) == ["Dr. Able", "Dr. Baker"]
    able = by_provider["Dr. Able"]
    assert [(x["local_start"], x["status"]) for x in able] == [("10:00 AM", "confirmed"), ("1:00 PM", "cancelled")]
    assert able[0]["confirmation_sms"]["status"] == "delivered"
    assert able[0]["reminder_sms"]["status"] == "queued" and able[0]["service_name"] == "Cleaning"
    assert able[1]["reminder_sms"]["status"] == "cancelled"
    assert able[0]["phone_masked"] == "(***) ***-0001"
    baker = by_provider["Dr. Baker"]
    assert [(x["patient_name"], x["status"]) for x in baker] == [("Fay Failed", "confirmed"), ("Hank Holding", "held")]
    assert baker[0]["confirmation_sms"] == baker[0]["confirmation_sms"] | {"status": "failed", "error_code": "30003"}
    assert baker[1]["hold_id"] == held["hold_id"] and baker[1]["expires_at"]

    holds = db.execute("SELECT api.dashboard_live_holds(%s) AS r", [org]).fetchone()["r"]["holds"]
    assert [h["hold_id"] for h in holds] == [held["hold_id"]] and 0 < holds[0]["seconds_left"] <= 600

    client = login(live_server.base_url, dashboard_token(db, org))
    frag = client.get("/dashboard/fragments/schedule").text
    for text in ("Dana Delivered", "Carl Cancelled", "Fay Failed", "Hank Holding", ">delivered<", ">failed<",
                 ">cancelled<", ">held<", "error 30003"):
        assert text in frag, text
    assert "+15557650001" not in frag and "765-0001" not in frag   # masked
    shown = client.get(f"/dashboard/phone?appointment_id={delivered['appointment_id']}").json()
    assert shown == {"phone": "+15557650001", "display": "(555) 765-0001"}
    assert "Hank Holding" in client.get("/dashboard/fragments/holds").text


def test_schedule_days_are_local_days_across_dst(db):
    # 2030-03-10: New York springs forward at 02:00, so that local day is 23 hours long.
    with db.transaction():
        org = str(db.execute("SELECT tests.create_clinic('DST Dental') AS o").fetchone()["o"])
        db.execute("SELECT tests.freeze_time('2030-03-08 12:00-05')")
        book(db, org, "cal-a", "2030-03-09 16:30", "Late Saturday", "+15557651001")
        book(db, org, "cal-a", "2030-03-10 09:00", "Early Sunday", "+15557651002")
        data = db.execute("SELECT api.dashboard_schedule(%s, '2030-03-09', 2) AS r", [org]).fetchone()["r"]
        db.execute("SELECT tests.unfreeze_time()")
        raise psycopg.Rollback()
    sat, sun = ([x for p in d["providers"] for x in p["entries"]] for d in data["days"])
    assert [(x["patient_name"], x["local_start"], x["starts_at"]) for x in sat] == [
        ("Late Saturday", "4:30 PM", "2030-03-09T21:30:00Z")]
    assert [(x["patient_name"], x["local_start"], x["starts_at"]) for x in sun] == [
        ("Early Sunday", "9:00 AM", "2030-03-10T13:00:00Z")]


# -- live hot leads --------------------------------------------------------------------------------


def test_hot_leads_stream_to_their_clinic_only_through_one_listener(live_server, db):
    base = live_server.base_url
    org_a, phone_a = new_clinic(db, "Stream Dental A")
    org_b, phone_b = new_clinic(db, "Stream Dental B")
    a1, a2 = login(base, dashboard_token(db, org_a)), login(base, dashboard_token(db, org_a))
    b = login(base, dashboard_token(db, org_b))
    streams = [SSEReader(c) for c in (a1, a2, b)]
    try:
        for s in streams:
            assert s.next("hello")["retry"] == "1000"
        assert listeners(db) == 1   # three browsers, one LISTEN connection

        call_a = f"stream-a-{uuid.uuid4()}"
        post_report(base, end_of_call_report(phone_a, call_a, caller="+15557652001", name="Ava Stream",
                                             transcript="User: how much does whitening cost?", summary="Price question"))
        for s in streams[:2]:
            event = s.next("hot_lead")
            lead = json.loads(event["data"])
            assert lead["call_id"] == call_a and event["id"] == lead["alert_id"]
            assert "Ava Stream" in lead["html"] and "(***) ***-2001" in lead["html"]
            assert "+15557652001" not in event["data"] and "765-2001" not in event["data"]

        # B's next lead event is its own: A's, notified earlier on the same channel, never reached it.
        call_b = f"stream-b-{uuid.uuid4()}"
        post_report(base, end_of_call_report(phone_b, call_b, caller="+15557652002", name="Ben Stream",
                                             transcript="User: do you take insurance?", summary="Insurance"))
        assert json.loads(streams[2].next("hot_lead")["data"])["call_id"] == call_b
        assert streams[2].events.empty()

        # The lead view and the number are scoped the same way.
        assert b.get("/dashboard/lead", params={"call_id": call_a}).status_code == 404
        assert b.get("/dashboard/phone", params={"call_id": call_a}).status_code == 404
        detail = a1.get("/dashboard/lead", params={"call_id": call_a})
        assert detail.status_code == 200 and "how much does whitening cost?" in detail.text
        assert a1.get("/dashboard/phone", params={"call_id": call_a}).json()["phone"] == "+15557652001"
    finally:
        for s in streams:
            s.close()


def test_listener_reconnects_and_browsers_resync(live_server, db):
    base = live_server.base_url
    org, phone = new_clinic(db, "Reconnect Dental")
    stream = SSEReader(login(base, dashboard_token(db, org)))
    try:
        stream.next("hello")
        wait_until(lambda: listeners(db) == 1, what="listener connected")
        db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                   [LISTENER_APPLICATION_NAME])
        stream.next("resync")   # sent once the listener is back: leads notified meanwhile were lost
        assert listeners(db) == 1
        call_id = f"reconnect-{uuid.uuid4()}"
        post_report(base, end_of_call_report(phone, call_id, caller="+15557653001", name="Rita Reconnect",
                                             transcript="User: what is the price?", summary="After reconnect"))
        assert json.loads(stream.next("hot_lead")["data"])["call_id"] == call_id
    finally:
        stream.close()


# -- calendar feed ---------------------------------------------------------------------------------


def _feed(client: httpx.Client, calendar: str, token: str) -> httpx.Response:
    return client.get(f"/calendars/{calendar}.ics", params={"token": token})


def test_calendar_feed_is_valid_icalendar(live_server, db):
    org, _ = new_clinic(db, "Feed Dental, Downtown")
    other, _ = new_clinic(db, "Feed Dental Elsewhere")
    day = tomorrow(db, org)
    long_name = 'O\'Brien, Mary; "Molly" ' + " ".join(["Élise-Ångström"] * 6)
    kept = book(db, org, "cal-a", f"{day} 09:00", long_name, "+15557654001", service="teeth-whitening")
    moved = book(db, org, "cal-a", f"{day} 10:00", "Mo Moved", "+15557654002")
    gone = book(db, org, "cal-a", f"{day} 11:00", "Cy Cancelled", "+15557654003")
    book(db, org, "cal-b", f"{day} 09:00", "Bea Baker", "+15557654004")
    book(db, other, "cal-a", f"{day} 09:00", "Otto Other", "+15557654005")
    db.execute("SELECT api.cancel_appointment(%s, %s)", [gone["appointment_id"], org])
    token = db.execute("SELECT api.issue_calendar_feed_token(%s, 'cal-a') AS r", [org]).fetchone()["r"]["token"]
    http = httpx.Client(base_url=live_server.base_url, timeout=10)

    resp = _feed(http, "cal-a", token)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/calendar")
    raw = resp.content
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    cal = icalendar.Calendar.from_ical(raw)
    assert cal["VERSION"] == "2.0" and cal["PRODID"]
    events = {str(ev["UID"]): ev for ev in cal.walk("VEVENT")}
    assert set(events) == {f"{kept['appointment_id']}@voxbook", f"{moved['appointment_id']}@voxbook"}
    first = events[f"{kept['appointment_id']}@voxbook"]
    for prop in ("DTSTAMP", "DTSTART", "DTEND"):
        assert first.decoded(prop).tzinfo is not None and first.decoded(prop).utcoffset().total_seconds() == 0
        assert first[prop].to_ical().endswith(b"Z")
    assert first.decoded("DTSTART") == datetime.fromisoformat(kept["starts_at"].replace("Z", "+00:00"))
    assert first.decoded("DTEND") - first.decoded("DTSTART") == (
        datetime.fromisoformat(kept["ends_at"]) - datetime.fromisoformat(kept["starts_at"]))
    assert str(first["SUMMARY"]) == f"Teeth Whitening: {long_name}"   # escaping and folding undone by the parser
    assert "Feed Dental, Downtown" in str(first["LOCATION"])
    assert b"Cy Cancelled" not in raw and b"Bea Baker" not in raw and b"Otto Other" not in raw
    assert b"+1555765" not in raw   # no phone numbers in third-party calendars

    # A reschedule keeps the UID (calendar apps move the event instead of duplicating it).
    new_time = db.execute("SELECT tests.at(%s, %s::timestamp) AS t", [org, f"{day} 15:00"]).fetchone()["t"]
    r = db.execute("SELECT api.reschedule_appointment(%s, %s, %s) AS r", [moved["appointment_id"], org, new_time]).fetchone()["r"]
    assert r["success"], r
    again = icalendar.Calendar.from_ical(_feed(http, "cal-a", token).content)
    moved_ev = next(ev for ev in again.walk("VEVENT") if str(ev["UID"]) == f"{moved['appointment_id']}@voxbook")
    assert moved_ev.decoded("DTSTART") == new_time.astimezone(UTC)

    # A token opens exactly one feed: not another calendar, not after revocation, not a guess.
    assert _feed(http, "cal-b", token).status_code == 404
    assert _feed(http, "cal-a", token[:-1] + ("0" if token[-1] != "0" else "1")).status_code == 404
    assert http.get("/calendars/cal-a.ics").status_code == 404
    assert http.get("/calendars/cal-a", params={"token": token}).status_code == 404
    other_token = db.execute("SELECT api.issue_calendar_feed_token(%s, 'cal-a') ->> 'token' AS t", [other]).fetchone()["t"]
    other_feed = _feed(http, "cal-a", other_token).content   # same calendar id, other clinic: its own data
    assert b"Otto Other" in other_feed and long_name.split(",")[0].encode() not in other_feed
    db.execute("SELECT api.revoke_calendar_feed_tokens(%s, 'cal-a')", [org])
    assert _feed(http, "cal-a", token).status_code == 404


def test_access_log_redacts_feed_tokens():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:1", "GET", "/calendars/cal-a.ics?token=vbf_secret&x=1", "1.1", 200), None)
    assert _RedactTokens().filter(record)
    line = record.getMessage()
    assert "vbf_secret" not in line and "token=[redacted]&x=1" in line

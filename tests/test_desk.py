"""The front desk over real HTTP (uvicorn on 127.0.0.1, the app as voxbook_app, staff signed in with a
password): the schedule (a day, a provider's week), booking, moving, cancelling, attendance, blocked time and
closures, hours and services, the queues, and the live updates over the event stream. Every action is checked
in the database: the row it changed, the text it queued in the SMS outbox, the audit with the staff name."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from clinic_helpers import new_clinic, unique_phone
from dashboard_helpers import SSEReader, book, tomorrow

SLOT = re.compile(r'name="slot" value="([^"|]+)\|([^"]+)"')


def morning_zone() -> str:
    """A fixed-offset IANA zone where it is now between 10:00 and 11:00: today still has bookable times, and
    attendance can be marked on the day, whatever the hour of the test run."""
    offset = ((10 - datetime.now(UTC).hour + 12) % 24) - 12
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"   # Etc/GMT-3 is UTC+3


def today(db, org: str) -> str:
    return str(db.execute("SELECT (now() AT TIME ZONE o.time_zone)::date::text AS d FROM voxbook.organizations AS o"
                          " WHERE o.id = %s", [org]).fetchone()["d"])


def slots_of(page: httpx.Response) -> list[tuple[str, str]]:
    assert page.status_code == 200, page.text
    return SLOT.findall(page.text)


def outbox(db, org: str, appointment_id: str) -> list[dict[str, Any]]:
    return db.execute("SELECT kind, status, recipient, body, resent_from FROM voxbook.sms_outbox"
                      " WHERE org_id = %s AND appointment_id = %s ORDER BY created_at, kind",
                      [org, appointment_id]).fetchall()


def audit(db, org: str, action: str) -> list[dict[str, Any]]:
    return db.execute("SELECT changed_by, entity_id, before, after FROM voxbook.audit_log"
                      " WHERE org_id = %s AND action = %s ORDER BY at", [org, action]).fetchall()


def who(client) -> str:
    """What the dashboard records as changed_by for a signed-in staff member (Staff.audit_name)."""
    return f"{client.staff.name} <{client.staff.email}>"


def redirected(resp: httpx.Response, done: str) -> None:
    assert resp.status_code == 303, resp.text
    assert f"done={done}" in resp.headers["location"], resp.headers["location"]


# -- the schedule ------------------------------------------------------------------------------------


def test_schedule_day_and_week_per_provider(live_server, db, staff_client):
    org, _ = new_clinic(db, "Week Dental")
    other, _ = new_clinic(db, "Elsewhere Dental")
    day = tomorrow(db, org)
    book(db, org, "cal-a", f"{day} 09:30", "Grace Hopper", unique_phone(), service="cleaning")
    book(db, org, "cal-b", f"{day} 10:00", "Alan Turing", unique_phone())
    hold = book(db, org, "cal-b", f"{day} 15:00", "Hedy Lamarr", unique_phone(), confirm=False)
    book(db, other, "cal-a", f"{day} 09:30", "Zed Otherclinic", unique_phone())
    db.execute("SELECT api.block_local_time(%s, 'cal-a', %s::date, '13:00', '17:00', 'training', changed_by => 'x')",
               [org, day])
    desk = staff_client(org, role="front_desk")

    page = desk.get("/dashboard/schedule", params={"date": day})
    assert page.status_code == 200, page.text
    text = page.text
    for name in ("Dr. Able", "Dr. Baker", "Grace Hopper", "Alan Turing", "Hedy Lamarr", "training"):
        assert name in text, name
    assert "Zed Otherclinic" not in text
    assert f'data-hold-id="{hold["hold_id"]}"' in text and 'class="countdown"' in text
    assert 'data-sms="confirmation"' in text

    week = desk.get("/dashboard/schedule", params={"date": day, "view": "week", "calendar": "cal-b"})
    assert week.status_code == 200
    assert week.text.count('class="panel day') == 7
    assert "Alan Turing" in week.text and "Grace Hopper" not in week.text   # Dr. Baker's week only
    nxt = re.search(r'data-nav="next" href="([^"]+)"', week.text).group(1).replace("&amp;", "&")
    assert "view=week" in nxt and "calendar=cal-b" in nxt

    frag = desk.get("/dashboard/schedule/fragment", params={"date": day, "view": "day"})
    assert frag.status_code == 200 and frag.text.lstrip().startswith('<div id="board"')
    # another clinic's provider is unknown here
    assert desk.get("/dashboard/schedule", params={"view": "week", "calendar": "cal-zz"}).status_code == 404


# -- booking, moving, cancelling, attendance -------------------------------------------------------------------


def test_book_move_cancel_each_texted_and_audited(live_server, db, staff_client):
    org, _ = new_clinic(db, "Book Dental")
    desk = staff_client(org, role="front_desk", name="Ana Desk")
    day = tomorrow(db, org)
    phone = unique_phone()

    times = slots_of(desk.get("/dashboard/book", params={"date": day, "calendar": "cal-a", "service": "cleaning"}))
    assert times and all(cal == "cal-a" for _, cal in times)
    first = times[0]
    resp = desk.act("/dashboard/appointments", {"slot": "|".join(first), "service": "cleaning",
                                                "patient_name": "Mia Lee", "patient_phone": phone,
                                                "back": f"/dashboard/schedule?date={day}"})
    redirected(resp, "booked")
    appt = db.execute("SELECT a.id::text, a.booked_by, a.patient_name, a.service_id, h.starts_at, h.calendar_id"
                      " FROM voxbook.appointments AS a JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id"
                      " WHERE a.org_id = %s", [org]).fetchone()
    assert (appt["booked_by"], appt["patient_name"], appt["service_id"], appt["calendar_id"]) == \
           (who(desk), "Mia Lee", "cleaning", "cal-a")
    assert appt["starts_at"] == datetime.fromisoformat(first[0].replace("Z", "+00:00"))
    texts = outbox(db, org, appt["id"])
    assert [(t["kind"], t["status"], t["recipient"]) for t in texts if t["kind"] == "confirmation"] == \
           [("confirmation", "queued", phone)]
    assert "Mia Lee" in desk.get("/dashboard/schedule", params={"date": day}).text

    # the time just taken is no longer offered
    assert first not in slots_of(desk.get("/dashboard/book", params={"date": day, "calendar": "cal-a",
                                                                      "service": "cleaning"}))
    # move it: to a free time of Dr. Baker's
    move_page = desk.get(f"/dashboard/appointments/{appt['id']}/move", params={"date": day, "calendar": "cal-b"})
    target = slots_of(move_page)[-1]
    resp = desk.act(f"/dashboard/appointments/{appt['id']}/move", {"slot": "|".join(target),
                                                                    "back": f"/dashboard/schedule?date={day}"})
    redirected(resp, "moved")
    moved = db.execute("SELECT h.starts_at, h.calendar_id FROM voxbook.appointments AS a JOIN voxbook.holds AS h"
                       " ON h.org_id = a.org_id AND h.id = a.hold_id WHERE a.org_id = %s AND a.id = %s",
                       [org, appt["id"]]).fetchone()
    assert (moved["starts_at"], moved["calendar_id"]) == (datetime.fromisoformat(target[0].replace("Z", "+00:00")), "cal-b")
    assert [t["status"] for t in outbox(db, org, appt["id"]) if t["kind"] == "reschedule"] == ["queued"]
    assert [a["changed_by"] for a in audit(db, org, "reschedule_appointment")] == [who(desk)]

    # cancel it with a reason: the patient is texted
    resp = desk.act(f"/dashboard/appointments/{appt['id']}/cancel", {"reason": "moving away",
                                                                      "back": f"/dashboard/schedule?date={day}"})
    redirected(resp, "cancelled")
    row = db.execute("SELECT status, cancelled_by, cancel_reason FROM voxbook.appointments WHERE org_id = %s AND id = %s",
                     [org, appt["id"]]).fetchone()
    assert (row["status"], row["cancelled_by"], row["cancel_reason"]) == ("cancelled", who(desk), "moving away")
    cancellation = [t for t in outbox(db, org, appt["id"]) if t["kind"] == "cancellation"]
    assert [(t["status"], t["recipient"]) for t in cancellation] == [("queued", phone)]
    assert [a["changed_by"] for a in audit(db, org, "cancel_appointment")] == [who(desk)]

    # a time taken meanwhile: a page saying so, nothing booked
    resp = desk.act("/dashboard/appointments", {"slot": "|".join(target), "service": "cleaning",
                                                "patient_name": "Late Comer", "patient_phone": unique_phone()})
    assert resp.status_code == 303   # target is free again after the cancel: booked
    resp = desk.act("/dashboard/appointments", {"slot": "|".join(target), "service": "cleaning",
                                                "patient_name": "Later Comer", "patient_phone": unique_phone()})
    assert resp.status_code == 409 and "id=\"problem-message\"" in resp.text
    assert db.execute("SELECT count(*) AS n FROM voxbook.appointments WHERE org_id = %s AND patient_name = 'Later Comer'",
                      [org]).fetchone()["n"] == 0
    # bad input: a clear page, nothing booked
    resp = desk.act("/dashboard/appointments", {"slot": "|".join(first), "patient_name": "", "patient_phone": phone})
    assert resp.status_code == 400
    assert db.execute("SELECT count(*) AS n FROM voxbook.appointments WHERE org_id = %s", [org]).fetchone()["n"] == 2


def test_attendance_on_the_day(live_server, db, staff_client):
    org, _ = new_clinic(db, "Arrival Dental", time_zone=morning_zone())
    desk = staff_client(org, role="front_desk")
    day = today(db, org)
    appt = book(db, org, "cal-a", f"{day} 11:00", "Ann Early", unique_phone())
    later = book(db, org, "cal-a", f"{tomorrow(db, org)} 11:00", "Bo Tomorrow", unique_phone())

    resp = desk.act(f"/dashboard/appointments/{appt['appointment_id']}/attendance",
                    {"attendance": "arrived", "back": f"/dashboard/schedule?date={day}"})
    redirected(resp, "marked")
    row = db.execute("SELECT attendance, attendance_by FROM voxbook.appointments WHERE org_id = %s AND id = %s",
                     [org, appt["appointment_id"]]).fetchone()
    assert (row["attendance"], row["attendance_by"]) == ("arrived", who(desk))
    assert 'data-attendance="arrived"' in desk.get("/dashboard/schedule", params={"date": day}).text
    # tomorrow's patient cannot have arrived: 409, nothing marked
    resp = desk.act(f"/dashboard/appointments/{later['appointment_id']}/attendance", {"attendance": "arrived"})
    assert resp.status_code == 409 and "later day" in resp.text
    # once the time has passed: a no-show (the appointment's time moved into the past as the owner)
    db.execute("UPDATE voxbook.holds SET starts_at = now() - interval '40 minutes', ends_at = now() - interval '10 minutes',"
               " occupies = NULL WHERE org_id = %s AND id = %s", [org, appt["hold_id"]])
    redirected(desk.act(f"/dashboard/appointments/{appt['appointment_id']}/attendance", {"attendance": "no_show"}),
               "marked")
    redirected(desk.act(f"/dashboard/appointments/{appt['appointment_id']}/attendance", {"attendance": ""}), "marked")
    marks = [(a["changed_by"], (a["after"] or {}).get("attendance")) for a in audit(db, org, "mark_attendance")]
    assert marks == [(who(desk), "arrived"), (who(desk), "no_show"), (who(desk), None)]


# -- blocked time, closures, hours and services ----------------------------------------------------------------


def test_block_an_afternoon_close_a_day_and_unblock(live_server, db, staff_client):
    org, _ = new_clinic(db, "Block Dental", time_zone="America/Chicago")
    desk = staff_client(org, role="front_desk")
    day = tomorrow(db, org)
    appt = book(db, org, "cal-b", f"{day} 10:00", "Cy Booked", unique_phone())

    redirected(desk.act("/dashboard/blocks", {"calendar_id": "cal-a", "date": day, "from_time": "13:00",
                                              "to_time": "17:00", "reason": "afternoon off",
                                              "back": f"/dashboard/schedule?date={day}"}), "blocked")
    b = db.execute("SELECT id, calendar_id, lower(during) AT TIME ZONE 'America/Chicago' AS lo,"
                   " upper(during) AT TIME ZONE 'America/Chicago' AS hi, created_by FROM voxbook.blocked_periods"
                   " WHERE org_id = %s", [org]).fetchone()
    assert (b["calendar_id"], str(b["lo"]), str(b["hi"]), b["created_by"]) == \
           ("cal-a", f"{day} 13:00:00", f"{day} 17:00:00", who(desk))
    free = db.execute("SELECT api.check_availability(%s, %s::date, 'cal-a') AS r", [org, day]).fetchone()["r"]
    assert free["slots"] and all(s["local_time"].split(" at ")[-1].endswith("AM") or s["local_time"].endswith("12:00 PM")
                                 for s in free["slots"]), free["slots"]
    page = desk.get("/dashboard/schedule", params={"date": day, "calendar": "cal-a"}).text
    assert "afternoon off" in page and "1:00 PM–5:00 PM" in page

    # the whole clinic over a booked appointment: refused, nothing blocked
    resp = desk.act("/dashboard/blocks", {"calendar_id": "", "date": day, "reason": "flood"})
    assert resp.status_code == 409 and "bookings" in resp.text
    assert db.execute("SELECT count(*) AS n FROM voxbook.blocked_periods WHERE org_id = %s", [org]).fetchone()["n"] == 1
    # the next day: closed, midnight to midnight
    closed_day = db.execute("SELECT (%s::date + 1)::text AS d", [day]).fetchone()["d"]
    redirected(desk.act("/dashboard/blocks", {"calendar_id": "", "date": closed_day, "reason": "holiday"}), "blocked")
    closure = db.execute("SELECT calendar_id, upper(during) - lower(during) AS span FROM voxbook.blocked_periods"
                         " WHERE org_id = %s AND reason = 'holiday'", [org]).fetchone()
    assert closure["calendar_id"] is None and closure["span"].total_seconds() in (23 * 3600, 24 * 3600, 25 * 3600)
    assert "clinic closed" in desk.get("/dashboard/schedule", params={"date": closed_day}).text
    # bad input: a clear page, nothing made
    assert desk.act("/dashboard/blocks", {"calendar_id": "cal-a", "date": day, "from_time": "15:00",
                                          "to_time": "14:00"}).status_code == 400
    assert desk.act("/dashboard/blocks", {"calendar_id": "cal-a", "date": "someday"}).status_code == 400
    redirected(desk.act(f"/dashboard/blocks/{b['id']}/delete", {}), "unblocked")
    assert db.execute("SELECT count(*) AS n FROM voxbook.blocked_periods WHERE org_id = %s", [org]).fetchone()["n"] == 1
    assert [a["changed_by"] for a in audit(db, org, "unblock_time")] == [who(desk)]
    assert appt["appointment_id"]


def test_hours_and_services_owner_edits_front_desk_reads(live_server, db, staff_client):
    org, _ = new_clinic(db, "Hours Dental")
    owner = staff_client(org, role="owner")
    desk = staff_client(org, role="front_desk")
    page = desk.get("/dashboard/clinic")
    assert page.status_code == 200 and "Teeth Whitening" in page.text and "09:00–12:00" in page.text
    assert 'action="/dashboard/clinic/hours"' not in page.text
    assert desk.act("/dashboard/clinic/hours", {"calendar_id": "cal-a", "mon": "08:00-12:00"}).status_code == 403
    assert desk.act("/dashboard/clinic/services", {"service_id": "cleaning", "duration_minutes": "45"}).status_code == 403

    redirected(owner.act("/dashboard/clinic/hours", {"calendar_id": "cal-a", "mon": "08:00-12:00, 13:00-16:00",
                                                     "tue": "09:00-17:00"}), "hours")
    hours = db.execute("SELECT iso_dow, starts::text, ends::text FROM voxbook.working_hours WHERE org_id = %s"
                       " AND calendar_id = 'cal-a' ORDER BY iso_dow, starts", [org]).fetchall()
    assert [(h["iso_dow"], h["starts"], h["ends"]) for h in hours] == \
           [(1, "08:00:00", "12:00:00"), (1, "13:00:00", "16:00:00"), (2, "09:00:00", "17:00:00")]
    redirected(owner.act("/dashboard/clinic/services", {"service_id": "cleaning", "duration_minutes": "45",
                                                        "price": "99.50", "active": "yes"}), "service")
    svc = db.execute("SELECT duration_minutes, price_cents FROM voxbook.services WHERE org_id = %s AND id = 'cleaning'",
                     [org]).fetchone()
    assert (svc["duration_minutes"], svc["price_cents"]) == (45, 9950)
    assert [a["changed_by"] for a in audit(db, org, "upsert_service")] == [who(owner)]
    # bad input: a clear page, nothing changed
    for bad in ({"duration_minutes": "forty"}, {"duration_minutes": "99999999999"}, {"price": "1e400"},
                {"price": "nan"}, {"duration_minutes": "0"}):
        resp = owner.act("/dashboard/clinic/services", {"service_id": "cleaning", **bad})
        assert resp.status_code == 400, (bad, resp.status_code)
    assert db.execute("SELECT duration_minutes FROM voxbook.services WHERE org_id = %s AND id = 'cleaning'",
                      [org]).fetchone()["duration_minutes"] == 45
    resp = owner.act("/dashboard/clinic/hours", {"calendar_id": "cal-a", "mon": "12:00-08:00"})
    assert resp.status_code == 400
    assert len(db.execute("SELECT 1 FROM voxbook.working_hours WHERE org_id = %s AND calendar_id = 'cal-a'",
                          [org]).fetchall()) == 3


# -- the queues ------------------------------------------------------------------------------------------------


def test_queues_callbacks_replies_failed_texts_waitlist(live_server, db, staff_client):
    org, clinic_phone = new_clinic(db, "Queue Dental")
    other, _ = new_clinic(db, "Not Mine Dental")
    desk = staff_client(org, role="front_desk")
    caller = unique_phone()
    cb = db.execute("SELECT api.record_transfer_failure(%s, %s, %s, 'call.in-progress.error-transfer-failed') AS r",
                    [org, f"call-{uuid.uuid4()}", caller]).fetchone()["r"]["callback_request"]
    patient = unique_phone()
    appt = book(db, org, "cal-a", f"{tomorrow(db, org)} 10:00", "Pia Reply", patient)
    reply = db.execute("SELECT api.record_inbound_sms(%s, %s, 'Can I bring my son too?', %s) AS r",
                       [clinic_phone, patient, "SM" + uuid.uuid4().hex]).fetchone()["r"]
    assert reply["reply_to"] == "inbox", reply
    inbox_id = db.execute("SELECT id::text FROM voxbook.sms_inbox WHERE org_id = %s", [org]).fetchone()["id"]
    db.execute("UPDATE voxbook.sms_outbox SET status = 'failed', error_code = '30003' WHERE org_id = %s"
               " AND appointment_id = %s AND kind = 'confirmation'", [org, appt["appointment_id"]])
    failed_id = db.execute("SELECT id::text FROM voxbook.sms_outbox WHERE org_id = %s AND appointment_id = %s"
                           " AND kind = 'confirmation'", [org, appt["appointment_id"]]).fetchone()["id"]
    wait = db.execute("SELECT api.join_waitlist(%s, %s, current_date + 3, current_date + 4, '09:00', '12:00',"
                      " patient_name => 'Wes Waiting') AS r", [org, unique_phone()]).fetchone()["r"]
    db.execute("SELECT api.record_transfer_failure(%s, %s, %s, 'call.in-progress.error-transfer-failed')",
               [other, f"call-{uuid.uuid4()}", unique_phone()])

    page = desk.get("/dashboard/queues")
    assert page.status_code == 200
    text = page.text
    assert f'data-callback-id="{cb["id"]}"' in text and "Can I bring my son too?" in text
    assert "the phone is off or out of reach" in text and "(error 30003)" in text
    assert "Wes Waiting" in text
    assert text.count('data-callback-id="') == 1   # the other clinic's request is not here
    assert re.search(r'data-count="callbacks">1<', text) and re.search(r'data-count="failed_sms">1<', text)

    redirected(desk.act(f"/dashboard/callbacks/{cb['id']}/resolve", {"note": "called, booked Friday"}), "callback")
    row = db.execute("SELECT status, done_by, note FROM voxbook.callback_requests WHERE org_id = %s AND id = %s",
                     [org, cb["id"]]).fetchone()
    assert (row["status"], row["done_by"], row["note"]) == ("done", who(desk), "called, booked Friday")

    redirected(desk.act(f"/dashboard/inbox/{inbox_id}/resolve", {}), "reply")
    assert db.execute("SELECT status, done_by FROM voxbook.sms_inbox WHERE org_id = %s AND id = %s",
                      [org, inbox_id]).fetchone() == {"status": "done", "done_by": who(desk)}

    redirected(desk.act(f"/dashboard/sms/{failed_id}/resend", {}), "resent")
    redirected(desk.act(f"/dashboard/sms/{failed_id}/resend", {}), "resent")   # a double click
    resent = db.execute("SELECT kind, status, recipient FROM voxbook.sms_outbox WHERE org_id = %s AND resent_from = %s",
                        [org, failed_id]).fetchall()
    assert resent == [{"kind": "confirmation", "status": "queued", "recipient": patient}]
    assert [a["changed_by"] for a in audit(db, org, "resend_sms")] == [who(desk)]
    assert "Resent:" in desk.get("/dashboard/queues").text

    redirected(desk.act(f"/dashboard/waitlist/{wait['waitlist_id']}/remove", {}), "waitlist")
    assert db.execute("SELECT status FROM voxbook.waitlist WHERE org_id = %s AND id = %s",
                      [org, wait["waitlist_id"]]).fetchone()["status"] == "removed"
    assert [a["changed_by"] for a in audit(db, org, "remove_from_waitlist")] == [who(desk)]
    counts = desk.get("/dashboard/changes").json()["counts"]
    assert counts == {"callbacks": 0, "sms_inbox": 0, "waitlist": 0, "failed_sms": 0}


# -- live updates ----------------------------------------------------------------------------------------------


def test_live_schedule_holds_and_queues_over_the_stream(live_server, db, staff_client):
    org, _ = new_clinic(db, "Live Dental")
    other, _ = new_clinic(db, "Quiet Dental")
    day = tomorrow(db, org)
    mine, theirs = SSEReader(staff_client(org)), SSEReader(staff_client(other))
    try:
        mine.next("hello")
        theirs.next("hello")
        time.sleep(2.5)   # the hub's first poll of each clinic notes its markers
        # a caller holds a time on the booking path: no NOTIFY, the hub's poll sees it
        hold = book(db, org, "cal-a", f"{day} 10:00", "Lou Live", unique_phone(), confirm=False)
        mine.next("holds")
        # staff confirm it: an appointment (the schedule), and the hold is gone
        db.execute("SELECT api.confirm_held_slot(%s, %s, staff_user => 'desk')", [hold["hold_id"], org])
        mine.next("schedule")
        db.execute("SELECT api.record_transfer_failure(%s, %s, %s, 'call.in-progress.error-transfer-failed')",
                   [org, f"call-{uuid.uuid4()}", unique_phone()])
        queues = mine.next("queues")
        assert json.loads(queues["data"])["counts"]["callbacks"] == 1
        # the other clinic's stream heard none of it
        assert [k for k in theirs.kinds_within(1.0) if k in ("schedule", "holds", "queues")] == []
    finally:
        mine.close()
        theirs.close()
    hub = live_server.app.state.dashboard_hub
    assert hub.change_polls > 0


def test_the_hub_asks_once_per_interval_for_all_open_clinics(live_server, db, staff_client):
    """Three clinics with open streams cost one api.dashboard_hub_changes call per interval, not one per clinic,
    and each stream still gets only its own clinic's changes."""
    hub = live_server.app.state.dashboard_hub
    orgs = [new_clinic(db, f"Hub Dental {n}")[0] for n in range(3)]
    readers = [SSEReader(staff_client(org)) for org in orgs]
    try:
        for reader in readers:
            reader.next("hello")
        time.sleep(2.5)   # the baselines (one call per new clinic, at its first subscriber) are behind us
        polls, started = hub.change_polls, time.monotonic()
        time.sleep(6.5)
        intervals = (time.monotonic() - started) / hub._change_seconds
        # per clinic it would be 3 per interval; all at once it is one (plus one whose sleep straddled the edges)
        assert hub.change_polls - polls <= int(intervals) + 1, (hub.change_polls - polls, intervals)
        assert hub.change_polls - polls >= 1
        day = tomorrow(db, orgs[1])
        book(db, orgs[1], "cal-a", f"{day} 10:00", "Hal Hub", unique_phone(), confirm=False)
        readers[1].next("holds")
        for other in (readers[0], readers[2]):
            assert [k for k in other.kinds_within(1.0) if k in ("schedule", "holds", "queues")] == []
    finally:
        for reader in readers:
            reader.close()


# -- masked numbers on the queues page ---------------------------------------------------------------------------


def test_queue_numbers_are_masked_and_revealed_for_the_clinic_only(live_server, db, staff_client):
    org, clinic_phone = new_clinic(db, "Masked Dental")
    other, _ = new_clinic(db, "Peeking Dental")
    caller, patient, waiting = unique_phone(), unique_phone(), unique_phone()
    cb = db.execute("SELECT api.record_transfer_failure(%s, %s, %s, 'call.in-progress.error-transfer-failed') AS r",
                    [org, f"call-{uuid.uuid4()}", caller]).fetchone()["r"]["callback_request"]
    book(db, org, "cal-a", f"{tomorrow(db, org)} 10:00", "Pia Masked", patient)
    db.execute("SELECT api.record_inbound_sms(%s, %s, 'Is there parking?', %s)", [clinic_phone, patient, "SM" + uuid.uuid4().hex])
    inbox_id = db.execute("SELECT id::text FROM voxbook.sms_inbox WHERE org_id = %s", [org]).fetchone()["id"]
    wait = db.execute("SELECT api.join_waitlist(%s, %s, current_date + 3, current_date + 4, '09:00', '12:00',"
                      " patient_name => 'Wes Masked') AS r", [org, waiting]).fetchone()["r"]
    desk = staff_client(org, role="front_desk")

    page = desk.get("/dashboard/queues")
    assert page.status_code == 200
    for number in (caller, patient, waiting):
        digits = number[2:]                                  # +1 and ten digits: no run of them on the page
        assert digits not in re.sub(r"\D", "", page.text), number
        assert f"***-{number[-4:]}" in page.text               # the masked form, with its last four digits
    for kind, ident in (("callback-request-id", cb["id"]), ("inbox-id", inbox_id), ("waitlist-id", wait["waitlist_id"])):
        assert f'class="link reveal" data-{kind}="{ident}"' in page.text, kind

    reveals = {"callback_request_id": (cb["id"], caller), "inbox_id": (inbox_id, patient),
               "waitlist_id": (wait["waitlist_id"], waiting)}
    intruder = staff_client(other, role="owner")
    for param, (ident, number) in reveals.items():
        resp = desk.get("/dashboard/queues/phone", params={param: ident})
        assert resp.status_code == 200 and resp.json()["phone"] == number, (param, resp.text)
        assert resp.headers["cache-control"] == "no-store"
        # another clinic's staff: 404, the number nowhere in the answer
        refused = intruder.get("/dashboard/queues/phone", params={param: ident})
        assert refused.status_code == 404 and number[2:] not in refused.text, (param, refused.status_code)
    assert desk.get("/dashboard/queues/phone", params={"inbox_id": inbox_id,
                                                       "waitlist_id": wait["waitlist_id"]}).status_code == 400
    assert desk.get("/dashboard/queues/phone", params={"inbox_id": "not-a-uuid"}).status_code == 400

"""The waitlist end to end (issue 15, db/functions/48_waitlist.sql): real HTTP into `voxbook serve` (a process, as
voxbook_app), signed inbound texts as Twilio sends them, the SMS worker against the fake Twilio.

* The race: a freed time offered to 20 waitlisted patients at once, 20 BOOK replies at the same moment -> exactly
  one appointment, each of the 19 others told once that it is gone. Three rounds.
* The whole path: a caller joins by the join_waitlist tool in Vapi's wire format (the number is Vapi's
  call.customer.number), a cancellation frees a time, the worker offers it by SMS, the BOOK reply books it and the
  confirmation is sent."""

from __future__ import annotations

import secrets
import threading
from datetime import date, timedelta
from urllib.parse import urlencode
from xml.etree import ElementTree

import httpx
import pytest
from twilio.request_validator import RequestValidator

from clinic_helpers import new_clinic
from fake_twilio import FakeTwilio
from sms_helpers import PUBLIC_BASE_URL, WorkerThread, book, new_phone, run_once, settings_for, wait_until
from vapi_helpers import AUTH, result_of, serve_process, spoken, tc, tool_calls

GONE = "was just taken"


@pytest.fixture(scope="module")
def fake():
    with FakeTwilio() as f:
        yield f


@pytest.fixture(scope="module")
def server(fake, app_database_url):
    with serve_process(app_database_url, " for the waitlist tests", PUBLIC_BASE_URL=PUBLIC_BASE_URL,
                       TWILIO_ACCOUNT_SID=fake.account_sid, TWILIO_AUTH_TOKEN=fake.auth_token) as base:
        yield base


def text(fake, base: str, to: str, sender: str, body: str, http: httpx.Client | None = None) -> str | None:
    """An inbound SMS as Twilio posts it (form-encoded, signed with the account's token); the TwiML answer's text."""
    sid = "SM" + secrets.token_hex(16)
    form = {"MessageSid": sid, "SmsSid": sid, "AccountSid": fake.account_sid, "From": sender, "To": to,
            "Body": body, "NumMedia": "0", "NumSegments": "1"}
    signature = RequestValidator(fake.auth_token).compute_signature(PUBLIC_BASE_URL + "/twilio/inbound", form)
    r = (http or httpx).post(base + "/twilio/inbound", content=urlencode(form), timeout=30,
                             headers={"Content-Type": "application/x-www-form-urlencoded",
                                      "X-Twilio-Signature": signature})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml"), r.text
    message = ElementTree.fromstring(r.text).find("Message")
    return message.text if message is not None else None


def bodies(fake, phone: str) -> list[str]:
    return [p["params"]["Body"] for p in fake.posts_for(phone)]


def waitlist_appointments(db, org: str) -> list[dict]:
    return db.execute("SELECT a.id, a.status, a.confirmed_via, a.confirmed_by, h.patient_phone::text AS phone "
                      "FROM voxbook.appointments a JOIN voxbook.holds h ON h.org_id = a.org_id AND h.id = a.hold_id "
                      "WHERE a.org_id = %s AND a.confirmed_via = 'waitlist'", (org,)).fetchall()


@pytest.mark.parametrize("round_", [1, 2, 3])
def test_twenty_book_replies_at_once_make_one_appointment(db, fake, server, app_database_url, round_):
    sender = new_phone()
    org, _ = new_clinic(db, "Waitlist Race", sms_from=sender)
    taken = book(db, org, new_phone(), days_ahead=8, hour=10)
    day = (date.today() + timedelta(days=8)).isoformat()
    patients = list(dict.fromkeys(new_phone() for _ in range(40)))[:20]
    for n, p in enumerate(patients):
        joined = db.execute("SELECT api.join_waitlist(%s, %s, %s, %s, '10:00', '10:00:01', NULL, 'cal-a', %s) AS r",
                            (org, p, day, day, f"Patient {n}")).fetchone()["r"]
        assert joined["success"] and joined["status"] == "waiting", joined
    assert db.execute("SELECT api.offer_waitlist_openings(%s, max_offers => 20) AS r", (org,)).fetchone()["r"]["offers"] == 0

    cancelled = db.execute("SELECT api.cancel_appointment(%s, %s, 'moved away', staff_user => 'Rita') AS r",
                           (taken["appointment_id"], org)).fetchone()["r"]
    assert cancelled["status"] == "cancelled", cancelled
    offered = db.execute("SELECT api.offer_waitlist_openings(%s, max_offers => 20) AS r", (org,)).fetchone()["r"]
    assert offered["offers"] == 20
    assert run_once(settings_for(fake, app_database_url)) == 0     # the worker texts the 20 offers
    for p in patients:
        posts = fake.posts_for(p)   # every POST the fake received for this number, with its outcome: if ever two,
        assert len(posts) == 1, [(x["outcome"], x["params"].get("Body")) for x in posts]   # say what they were
        [offer] = bodies(fake, p)
        assert "Reply BOOK or 1 within 15 minutes" in offer and offer.startswith("Waitlist Race: a time opened up")

    # 20 BOOK replies released at the same moment, each on its own HTTP connection.
    start = threading.Barrier(len(patients))
    replies: dict[str, str | None] = {}

    def reply(p: str) -> None:
        with httpx.Client() as http:
            start.wait()
            replies[p] = text(fake, server, sender, p, "BOOK", http)

    threads = [threading.Thread(target=reply, args=(p,)) for p in patients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(replies) == 20

    [won] = waitlist_appointments(db, org)
    assert won["status"] == "confirmed" and won["confirmed_by"].startswith("sms reply SM")
    winner = won["phone"]
    assert winner in patients and replies[winner] is None      # the confirmation SMS says it
    entries = db.execute("SELECT phone::text, status FROM voxbook.waitlist WHERE org_id = %s", (org,)).fetchall()
    assert sorted(e["status"] for e in entries) == ["booked"] + ["waiting"] * 19   # the others stay on the list

    assert run_once(settings_for(fake, app_database_url)) == 0     # the queued "gone" texts and the confirmation
    told = {p: sum(GONE in b for b in bodies(fake, p)) + (GONE in (replies[p] or "")) for p in patients}
    assert {p: n for p, n in told.items() if p != winner} == {p: 1 for p in patients if p != winner}, told
    assert told[winner] == 0
    assert any(b.startswith("Your appointment is confirmed:") for b in bodies(fake, winner))


def test_a_caller_joins_by_voice_and_books_a_freed_time_by_text(db, fake, server, app_database_url):
    sender = new_phone()
    org, clinic_phone = new_clinic(db, "Waitlist Clinic", sms_from=sender)
    caller = new_phone()
    taken = book(db, org, new_phone(), days_ahead=9, hour=11)
    day = (date.today() + timedelta(days=9)).isoformat()

    # The caller asks for that hour with Dr. Able; nothing fits, the assistant puts them on the waitlist.
    payload = tool_calls(clinic_phone, [tc("tool-wait-1", "join_waitlist", {
        "firstDay": day, "lastDay": day, "fromTime": "11:00", "toTime": "11:30", "calendarId": "cal-a",
        "patientName": "Wendy Wait", "callerNumber": "+15550000000"})], vapi_call="vapi-wait-1", caller=caller)
    r = httpx.post(server + "/vapi/webhook", json=payload, headers=AUTH, timeout=30)
    assert r.status_code == 200, r.text
    [item] = r.json()["results"]
    joined = result_of(item)
    assert joined["success"] is True and joined["status"] == "waiting"
    assert spoken(item) == "You're on the waitlist. If a time opens up, we'll text you, and you can reply BOOK to take it."
    entry = db.execute("SELECT phone::text, vapi_call_id FROM voxbook.waitlist WHERE org_id = %s", (org,)).fetchone()
    assert entry == {"phone": caller, "vapi_call_id": "vapi-wait-1"}   # Vapi's number, not the model's argument

    # A withheld number: nothing stored, the assistant says why.
    withheld = tool_calls(clinic_phone, [tc("tool-wait-2", "join_waitlist", {"firstDay": day})],
                          vapi_call="vapi-wait-2", caller=None)
    [item] = httpx.post(server + "/vapi/webhook", json=withheld, headers=AUTH, timeout=30).json()["results"]
    assert result_of(item)["code"] == "phone_needed" and "can't see the number" in spoken(item)

    with WorkerThread(settings_for(fake, app_database_url)):
        # Nothing free yet: the worker's rounds offer nothing.
        run_before = len(fake.posts_for(caller))
        assert run_before == 0
        cancelled = db.execute("SELECT api.cancel_appointment(%s, %s, 'sick', staff_user => 'Rita') AS r",
                               (taken["appointment_id"], org)).fetchone()["r"]
        assert cancelled["status"] == "cancelled"
        wait_until(lambda: any("a time opened up" in b for b in bodies(fake, caller)), what="the offer SMS")
        [offer] = bodies(fake, caller)
        assert "11:00 AM with Dr. Able" in offer and "Reply BOOK or 1" in offer

        assert text(fake, server, sender, caller, "book") is None
        [won] = waitlist_appointments(db, org)
        assert (won["status"], won["phone"]) == ("confirmed", caller)
        wait_until(lambda: any(b.startswith("Your appointment is confirmed:") for b in bodies(fake, caller)),
                   what="the confirmation SMS")
    listed = db.execute("SELECT api.list_waitlist(%s, 'booked') AS r", (org,)).fetchone()["r"]["entries"]
    assert [(e["patient_name"], e["appointment_id"]) for e in listed] == [("Wendy Wait", str(won["id"]))]

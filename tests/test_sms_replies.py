"""Replies by SMS through POST /twilio/inbound, signed like Twilio's (db/functions/46_sms_replies.sql): C confirms
the patient's next appointment, R asks the front desk to call back, anything else reaches the clinic's inbox and
the front desk, CANCEL (a carrier opt-out) tells staff the patient may not come. Redelivered and out-of-order
webhooks do nothing twice."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from litestar.testing import TestClient
from twilio.request_validator import RequestValidator

from clinic_helpers import new_clinic
from sms_helpers import PUBLIC_BASE_URL, book, new_phone
from voxbook.api.app import create_app
from voxbook.settings import Settings

AUTH_TOKEN = "sms-replies-test-token"
ACCOUNT = "AC" + "b" * 32


@pytest.fixture(scope="module")
def client(app_database_url):
    settings = Settings(database_url=app_database_url, public_base_url=PUBLIC_BASE_URL,
                        twilio_account_sid=ACCOUNT, twilio_auth_token=AUTH_TOKEN)
    with TestClient(create_app(settings)) as c:
        yield c


def text(client, to: str, sender: str, body: str, sid: str | None = None) -> tuple[str | None, str]:
    """Posts an inbound SMS as Twilio does (form-encoded, signed); returns the TwiML answer's text and the sid."""
    sid = sid or "SM" + secrets.token_hex(16)
    form = {"MessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT, "From": sender, "To": to, "Body": body,
            "NumMedia": "0", "NumSegments": "1"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + "/twilio/inbound", form)
    r = client.post("/twilio/inbound", content=urlencode(form),
                    headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml"), r.text
    message = ElementTree.fromstring(r.text).find("Message")
    return (message.text if message is not None else None), sid


def appointment(db, appointment_id: str) -> dict:
    return db.execute("SELECT * FROM voxbook.appointments WHERE id = %s", (appointment_id,)).fetchone()


def desk_texts(db, org: str) -> list[str]:
    return [r["body"] for r in db.execute(
        "SELECT body FROM voxbook.sms_outbox WHERE org_id = %s AND recipient = '+15559990000' AND kind = 'other' "
        "ORDER BY created_at, id", (org,)).fetchall()]


@pytest.fixture
def clinic(db):
    sender = new_phone()
    org, _ = new_clinic(db, "Replies Clinic", sms_from=sender)
    return org, sender


def test_confirmation_text_invites_c_or_r(db, clinic):
    org, _ = clinic
    booked = book(db, org, new_phone(), days_ahead=8)
    body = db.execute("SELECT body, segments, encoding FROM voxbook.sms_outbox WHERE id = %s",
                      (booked["confirmation_message_id"],)).fetchone()
    assert "Reply C to confirm or R to reschedule. Call to cancel. Reply STOP to unsubscribe." in body["body"]
    assert (body["encoding"], body["segments"]) == ("GSM-7", 2)


def test_c_confirms_the_next_appointment_once(db, client, clinic):
    org, number = clinic
    patient = new_phone()
    first = book(db, org, patient, days_ahead=5)
    later = book(db, org, patient, days_ahead=9)
    reply, sid = text(client, number, patient, " c. ")
    assert reply.startswith("Thank you! See you ") and reply.endswith(" with Dr. Able. Replies Clinic")
    confirmed_at = appointment(db, first["appointment_id"])["patient_confirmed_at"]
    assert confirmed_at is not None
    assert appointment(db, later["appointment_id"])["patient_confirmed_at"] is None
    # Twilio redelivers: the same answer, nothing done twice.
    again, _ = text(client, number, patient, " c. ", sid)
    assert again == reply
    assert appointment(db, first["appointment_id"])["patient_confirmed_at"] == confirmed_at
    # The staff's schedule shows it.
    day = db.execute("SELECT api.dashboard_schedule(%s, current_date + 5, 1) AS s", (org,)).fetchone()["s"]
    entries = [e for p in day["days"][0]["providers"] for e in p["entries"]
               if e.get("appointment_id") == first["appointment_id"]]
    assert entries and entries[0]["patient_confirmed_at"]


def test_r_asks_for_a_call_once_even_redelivered_at_once(db, client, clinic):
    org, number = clinic
    patient = new_phone()
    booked = book(db, org, patient, days_ahead=6)
    sid = "SM" + secrets.token_hex(16)
    # Twilio retries a slow webhook: the same MessageSid arrives several times at once.
    with ThreadPoolExecutor(max_workers=4) as pool:
        replies = list(pool.map(lambda _: text(client, number, patient, "R", sid)[0], range(4)))
    assert len(set(replies)) == 1
    assert replies[0].startswith("Replies Clinic will call you within 1 business day to find a new time")
    text(client, number, patient, "reschedule")   # a second R, another message
    rows = db.execute("SELECT kind, status, appointment_id::text, phone FROM voxbook.callback_requests WHERE org_id = %s",
                      (org,)).fetchall()
    assert rows == [{"kind": "reschedule_request", "status": "open", "appointment_id": str(booked["appointment_id"]),
                     "phone": patient}]
    assert len(desk_texts(db, org)) == 1 and "asked to reschedule" in desk_texts(db, org)[0]


def test_anything_else_reaches_the_inbox_and_the_front_desk(db, client, clinic):
    org, number = clinic
    patient = new_phone()
    book(db, org, patient, days_ahead=7)
    reply, sid = text(client, number, patient, "Is there parking nearby?")
    assert reply.startswith("Thank you, Replies Clinic got your message")
    assert text(client, number, patient, "Is there parking nearby?", sid)[0] == reply   # redelivered
    assert desk_texts(db, org) == [f'Replies Clinic TEXT from Pat Doe ({patient[2:5]}) {patient[5:8]}-{patient[8:]}: '
                                   '"Is there parking nearby?" (dashboard inbox)']
    items = db.execute("SELECT api.list_sms_inbox(%s) AS r", (org,)).fetchone()["r"]["items"]
    assert [(i["body"], i["status"], i["phone"]) for i in items] == [("Is there parking nearby?", "open", patient)]
    done = db.execute("SELECT api.resolve_sms_inbox_item(%s, %s, 'Ana') AS r", (org, items[0]["inbox_id"])).fetchone()["r"]
    assert done["status"] == "done" and done["changed"]
    assert db.execute("SELECT api.list_sms_inbox(%s) AS r", (org,)).fetchone()["r"]["items"] == []


def test_cancel_opts_out_and_flags_the_appointment_out_of_order_safe(db, client, clinic):
    org, number = clinic
    patient = new_phone()
    booked = book(db, org, patient, days_ahead=4)
    # The patient sent C, then CANCEL; Twilio delivers CANCEL first.
    c_sid, cancel_sid = "SM" + secrets.token_hex(16), "SM" + secrets.token_hex(16)
    reply, _ = text(client, number, patient, "CANCEL", cancel_sid)
    assert reply is None   # Twilio confirms the opt-out itself
    row = appointment(db, booked["appointment_id"])
    assert row["may_not_come_at"] is not None and row["status"] == "confirmed"
    assert db.execute("SELECT sms_opted_out FROM voxbook.contacts WHERE org_id = %s AND phone = %s",
                      (org, patient)).fetchone()["sms_opted_out"]
    reply, _ = text(client, number, patient, "C", c_sid)
    assert reply is None   # opted out: no text Twilio would refuse
    row = appointment(db, booked["appointment_id"])
    assert row["patient_confirmed_at"] is not None and row["may_not_come_at"] is not None   # staff see both
    # Redelivered CANCEL: one consent event, the flag's time unchanged.
    text(client, number, patient, "CANCEL", cancel_sid)
    assert appointment(db, booked["appointment_id"])["may_not_come_at"] == row["may_not_come_at"]
    assert db.execute("SELECT count(*) AS n FROM voxbook.sms_consent_events WHERE org_id = %s AND phone = %s",
                      (org, patient)).fetchone()["n"] == 1


def test_keywords_stay_keywords(db, client, clinic):
    org, number = clinic
    patient = new_phone()
    book(db, org, patient, days_ahead=3)
    assert text(client, number, patient, "STOP")[0] is None
    assert text(client, number, patient, "YES")[0] is None   # START/YES/UNSTOP: back in, Twilio answers
    assert text(client, number, patient, "help")[0].startswith("Replies Clinic: appointment texts.")
    assert db.execute("SELECT count(*) AS n FROM voxbook.sms_inbox WHERE org_id = %s", (org,)).fetchone()["n"] == 0

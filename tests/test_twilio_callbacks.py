"""POST /twilio/status and /twilio/inbound: signatures, monotonic statuses, STOP/START/HELP."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import pytest
from litestar.testing import TestClient
from twilio.request_validator import RequestValidator

from voxbook.api.app import create_app
from clinic_helpers import new_clinic
from sms_helpers import PUBLIC_BASE_URL, book, new_phone, outbox, queue
from voxbook.settings import Settings

AUTH_TOKEN = "callback-test-token"


@pytest.fixture(scope="module")
def client(app_database_url):
    settings = Settings(database_url=app_database_url, public_base_url=PUBLIC_BASE_URL,
                        twilio_account_sid="AC" + "a" * 32, twilio_auth_token=AUTH_TOKEN)
    with TestClient(create_app(settings)) as c:
        yield c


def signed_post(client, path: str, form: dict[str, str], *, token: str = AUTH_TOKEN, url: str | None = None,
                signature: str | None = None):
    """POSTs like Twilio: form-encoded, signed over the public URL (query included) and every field."""
    public = url or PUBLIC_BASE_URL + path
    sig = signature if signature is not None else RequestValidator(token).compute_signature(public, form)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sig:
        headers["X-Twilio-Signature"] = sig
    return client.post(path, content=urlencode(form), headers=headers)


def sent_message(db, org: str, sid: str, kind: str = "other") -> str:
    mid = queue(db, org, new_phone(), "Status test", kind=kind)
    db.execute("UPDATE voxbook.sms_outbox SET status = 'sent', provider_message_id = %s, sent_at = now() WHERE id = %s",
               (sid, mid))
    return mid


def status_form(sid: str, status: str, **extra: str) -> dict[str, str]:
    return {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
            "AccountSid": "AC" + "a" * 32, "From": "+15550000000", "To": "+15551112222", "ApiVersion": "2010-04-01",
            **extra}


def test_status_callback_with_bad_signature_is_refused_and_changes_nothing(db, client):
    org, _ = new_clinic(db)
    sid = "SM" + "1" * 32
    mid = sent_message(db, org, sid)
    form = status_form(sid, "delivered")
    for response in (
        signed_post(client, "/twilio/status", form, token="not-the-token"),          # wrong key
        signed_post(client, "/twilio/status", form, signature=""),                   # no header
        signed_post(client, "/twilio/status", form, url="http://internal:8000/twilio/status"),  # not the public URL
        signed_post(client, "/twilio/status", {**form, "MessageStatus": "failed"},   # a field changed after signing
                    signature=RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + "/twilio/status", form)),
    ):
        assert response.status_code == 403
    row = outbox(db, mid)
    assert (row["status"], row["delivered_at"], row["status_updated_at"]) == ("sent", None, None)


def test_statuses_only_move_forward(db, client):
    org, _ = new_clinic(db)
    sid = "SM" + "2" * 32
    mid = sent_message(db, org, sid)
    assert signed_post(client, "/twilio/status", status_form(sid, "delivered")).status_code == 204
    assert outbox(db, mid)["status"] == "delivered"
    # Late and duplicate callbacks: nothing moves back.
    for late in ("sent", "queued", "delivered", "sending"):
        assert signed_post(client, "/twilio/status", status_form(sid, late)).status_code == 204
    row = outbox(db, mid)
    assert (row["status"], row["provider_status"]) == ("delivered", "delivered") and row["delivered_at"]
    # A terminal status is never replaced by another terminal one either.
    signed_post(client, "/twilio/status", status_form(sid, "undelivered", ErrorCode="30003"))
    assert (outbox(db, mid)["status"], outbox(db, mid)["error_code"]) == ("delivered", None)


def test_unknown_sid_is_acknowledged(client):
    assert signed_post(client, "/twilio/status", status_form("SM" + "9" * 32, "delivered")).status_code == 204


def test_undelivered_confirmation_is_visible(db, client):
    org, _ = new_clinic(db)
    b = book(db, org, new_phone())
    sid = "SM" + "3" * 32
    db.execute("UPDATE voxbook.sms_outbox SET status = 'sent', provider_message_id = %s WHERE id = %s",
               (sid, b["confirmation_message_id"]))
    signed_post(client, "/twilio/status", status_form(sid, "sent"))
    signed_post(client, "/twilio/status", status_form(sid, "undelivered", ErrorCode="30003"))
    signed_post(client, "/twilio/status", status_form(sid, "sent"))   # out of order

    row = outbox(db, b["confirmation_message_id"])
    assert (row["status"], row["error_code"]) == ("undelivered", "30003")
    appt = db.execute("SELECT api.get_appointment(%s, %s) AS r", (b["appointment_id"], org)).fetchone()["r"]
    assert appt["confirmation_sms"]["status"] == "undelivered"
    tool = db.execute("SELECT api.send_confirmation_sms(%s, %s) AS r", (b["appointment_id"], org)).fetchone()["r"]
    assert (tool["success"], tool["code"]) == (False, "undelivered")


def test_callback_names_a_message_whose_send_outcome_was_unknown(db, client):
    """The worker timed out after Twilio accepted: the callback URL's ids link the sid, so no resend."""
    org, _ = new_clinic(db)
    mid = queue(db, org, new_phone(), "Timed out")
    db.execute("UPDATE voxbook.sms_outbox SET status = 'unknown', first_attempt_at = now(), attempts = 1 WHERE id = %s",
               (mid,))
    sid = "SM" + "4" * 32
    path = f"/twilio/status?{urlencode({'org_id': org, 'message_id': mid})}"
    assert signed_post(client, path, status_form(sid, "sent"), url=PUBLIC_BASE_URL + path).status_code == 204
    row = outbox(db, mid)
    assert (row["status"], row["provider_message_id"]) == ("sent", sid)
    # The query is part of what Twilio signs: the same ids with a signature for another query are refused.
    other = f"/twilio/status?{urlencode({'org_id': org, 'message_id': mid, 'x': '1'})}"
    assert signed_post(client, other, status_form("SM" + "5" * 32, "sent"), url=PUBLIC_BASE_URL + path).status_code == 403


def inbound_form(to: str, sender: str, body: str, sid: str, **extra: str) -> dict[str, str]:
    return {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "a" * 32, "From": sender, "To": to,
            "Body": body, "NumMedia": "0", "NumSegments": "1", "MessagingServiceSid": "", **extra}


def test_inbound_with_bad_signature_is_refused_and_changes_nothing(db, client):
    sender = new_phone()
    org, _ = new_clinic(db, sms_from=sender)
    patient = new_phone()
    mid = queue(db, org, patient, "Still wanted")
    r = signed_post(client, "/twilio/inbound", inbound_form(sender, patient, "STOP", "SMbad" + "0" * 29),
                    token="forged")
    assert r.status_code == 403
    assert db.execute("SELECT count(*) AS n FROM voxbook.contacts WHERE org_id = %s AND phone = %s",
                      (org, patient)).fetchone()["n"] == 0
    assert outbox(db, mid)["status"] == "queued"


def test_inbound_stop_start_help(db, client):
    sender = new_phone()
    org, _ = new_clinic(db, sms_from=sender)
    patient = new_phone()
    pending = queue(db, org, patient, "Pending when STOP arrives")

    r = signed_post(client, "/twilio/inbound", inbound_form(sender, patient, "  Stop ", "SMin" + "1" * 30))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    assert r.text.endswith("<Response />")   # Twilio confirms opt-outs itself
    contact = db.execute("SELECT * FROM voxbook.contacts WHERE org_id = %s AND phone = %s", (org, patient)).fetchone()
    assert contact["sms_opted_out"] and contact["sms_opt_out_source"] == "sms:STOP"
    assert outbox(db, pending)["status"] == "skipped"
    # Twilio redelivers webhooks: one event only.
    signed_post(client, "/twilio/inbound", inbound_form(sender, patient, "  Stop ", "SMin" + "1" * 30))
    events = db.execute("SELECT opted_out, source FROM voxbook.sms_consent_events WHERE org_id = %s AND phone = %s",
                        (org, patient)).fetchall()
    assert events == [{"opted_out": True, "source": "sms:STOP"}]
    later = queue(db, org, patient, "After STOP")
    assert outbox(db, later)["status"] == "skipped"

    r = signed_post(client, "/twilio/inbound", inbound_form(sender, patient, "help", "SMin" + "2" * 30))
    assert "<Message>Test Clinic: appointment texts. Call (" in r.text

    db.execute("UPDATE voxbook.organizations SET help_text = 'Smile & co: call us.' WHERE id = %s", (org,))
    r = signed_post(client, "/twilio/inbound", inbound_form(sender, patient, "HELP", "SMin" + "3" * 30))
    assert "<Message>Smile &amp; co: call us.</Message>" in r.text

    signed_post(client, "/twilio/inbound", inbound_form(sender, patient, "unstop", "SMin" + "4" * 30))
    contact = db.execute("SELECT * FROM voxbook.contacts WHERE org_id = %s AND phone = %s", (org, patient)).fetchone()
    assert not contact["sms_opted_out"]
    assert outbox(db, queue(db, org, patient, "After START"))["status"] == "queued"

    # Anything else is a message for the clinic's inbox (tests/test_sms_replies.py): no opt-out, acknowledged.
    r = signed_post(client, "/twilio/inbound", inbound_form(sender, patient, "stop texting me at night please",
                                                            "SMin" + "5" * 30))
    assert "<Message>Thank you, Test Clinic got your message" in r.text
    assert not db.execute("SELECT sms_opted_out FROM voxbook.contacts WHERE org_id = %s AND phone = %s",
                          (org, patient)).fetchone()["sms_opted_out"]


def test_redelivered_start_after_stop_does_not_opt_back_in(db, client):
    """START, STOP, then Twilio redelivers the first START (same MessageSid): the number stays opted out,
    and the redelivery is answered as the first delivery was."""
    sender = new_phone()
    org, _ = new_clinic(db, sms_from=sender)
    patient = new_phone()
    start_sid, stop_sid = "SM" + uuid.uuid4().hex, "SM" + uuid.uuid4().hex
    first = signed_post(client, "/twilio/inbound", inbound_form(sender, patient, "START", start_sid))
    assert signed_post(client, "/twilio/inbound", inbound_form(sender, patient, "STOP", stop_sid)).status_code == 200
    again = signed_post(client, "/twilio/inbound", inbound_form(sender, patient, "START", start_sid))
    assert (again.status_code, again.text) == (first.status_code, first.text)
    contact = db.execute("SELECT * FROM voxbook.contacts WHERE org_id = %s AND phone = %s", (org, patient)).fetchone()
    assert contact["sms_opted_out"] and contact["sms_opt_out_source"] == "sms:STOP"
    later = queue(db, org, patient, "After the redelivery")
    assert outbox(db, later)["status"] == "skipped"

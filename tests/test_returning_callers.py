"""Returning callers end to end (issue 15): real HTTP into the app, the real database as voxbook_app, Vapi's wire
format. A first call books; a second call from the same number finds, moves and cancels that appointment; a call
from another number cannot without the code texted to the number on file, and can with it."""

from __future__ import annotations

from clinic_helpers import new_clinic
from vapi_helpers import AUTH, day, first_slot, result_of, results, spoken, tc, tool_calls

ANN = "+15557650101"
OTHER = "+15557650199"


def hook(client, payload):
    return client.post("/vapi/webhook", json=payload, headers=AUTH)


def one(client, phone, name, args, *, vapi_call, caller, tool_call_id):
    [item] = results(hook(client, tool_calls(phone, [tc(tool_call_id, name, args)], vapi_call=vapi_call, caller=caller)))
    return item


def book_first_call(client, db, phone) -> str:
    """The first call: availability, hold, code, verify -- the appointment id."""
    call = "vapi-first-call"
    slot = first_slot(client, phone, day(20), service="consultation")
    held = result_of(one(client, phone, "reserve_atomic", {"slotId": slot["time"], "calendarId": slot["calendarId"],
                                                           "patientName": "Ann Lee", "service": "consultation"},
                         vapi_call=call, caller=ANN, tool_call_id="t1-hold"))
    result_of(one(client, phone, "send_otp_code", {"holdId": held["holdId"]}, vapi_call=call, caller=ANN,
                  tool_call_id="t1-code"))
    code = db.execute("SELECT tests.code_of(%s) AS c", [held["holdId"]]).fetchone()["c"]
    done = result_of(one(client, phone, "verify_otp", {"holdId": held["holdId"], "providedOTP": code},
                         vapi_call=call, caller=ANN, tool_call_id="t1-verify"))
    assert done["success"] is True
    return done["appointmentId"]


def status_of(db, appointment_id):
    return db.execute("SELECT a.status, h.starts_at FROM voxbook.appointments a JOIN voxbook.holds h "
                      "ON h.org_id = a.org_id AND h.id = a.hold_id WHERE a.id = %s", [appointment_id]).fetchone()


def test_second_call_from_the_same_number_finds_moves_and_cancels(client, db):
    org, phone = new_clinic(db)
    appointment = book_first_call(client, db, phone)
    call = "vapi-second-call"

    # The assistant-request of the second call knows who is calling back: first name and next appointment only.
    r = hook(client, {"message": {"type": "assistant-request", "call": {"id": call, "customer": {"number": ANN}},
                                  "phoneNumber": {"number": phone}, "customer": {"number": ANN}}})
    assistant = r.json()["assistant"]
    assert assistant["firstMessage"].startswith("Hi Ann, ")
    prompt = assistant["model"]["messages"][0]["content"]
    assert "probably Ann" in prompt and "Lee" not in prompt and ANN not in prompt
    assert {"find_my_appointments", "cancel_my_appointment", "reschedule_my_appointment"} <= {
        t["function"]["name"] for t in assistant["model"]["tools"] if "function" in t}

    found = one(client, phone, "find_my_appointments", {}, vapi_call=call, caller=ANN, tool_call_id="t2-find")
    listed = result_of(found)
    assert listed["verifiedBy"] == "caller_id"
    assert [a["appointmentId"] for a in listed["appointments"]] == [appointment]
    assert spoken(found).startswith("You have one upcoming appointment: ")

    # "Move my <weekday> one to later that day": by the weekday the caller said, to a free time.
    old = status_of(db, appointment)
    weekday = old["starts_at"].astimezone(__import__("zoneinfo").ZoneInfo("America/New_York")).strftime("%A")
    new = first_slot(client, phone, day(21), service="consultation")
    moved_item = one(client, phone, "reschedule_my_appointment", {"when": weekday, "slotId": new["time"],
                                                                  "calendarId": new["calendarId"]},
                     vapi_call=call, caller=ANN, tool_call_id="t2-move")
    moved = result_of(moved_item)
    assert moved["success"] is True and moved["appointmentId"] == appointment
    assert spoken(moved_item).startswith("Done: your appointment is now ")
    assert status_of(db, appointment)["starts_at"] != old["starts_at"]

    # Redelivered by Vapi: the same answer, nothing moved twice.
    again = one(client, phone, "reschedule_my_appointment", {"when": weekday, "slotId": new["time"],
                                                             "calendarId": new["calendarId"]},
                vapi_call=call, caller=ANN, tool_call_id="t2-move")
    assert again == moved_item

    cancelled = one(client, phone, "cancel_my_appointment", {"which": 1}, vapi_call=call, caller=ANN,
                    tool_call_id="t2-cancel")
    assert result_of(cancelled)["status"] == "cancelled"
    assert status_of(db, appointment)["status"] == "cancelled"
    kinds = {r["kind"] for r in db.execute("SELECT kind FROM voxbook.sms_outbox WHERE appointment_id = %s",
                                           [appointment]).fetchall()}
    assert {"confirmation", "reschedule", "cancellation"} <= kinds


def test_another_number_needs_the_code_to_the_number_on_file(client, db):
    org, phone = new_clinic(db)
    appointment = book_first_call(client, db, phone)
    call = "vapi-other-number"

    # The model cannot make another number "the caller": callerNumber/patientPhone arguments are not trusted.
    sneaky = result_of(one(client, phone, "find_my_appointments", {"callerNumber": ANN, "patientPhone": ANN},
                           vapi_call=call, caller=OTHER, tool_call_id="t3-sneaky"))
    assert sneaky["appointments"] == []
    refused = result_of(one(client, phone, "cancel_my_appointment", {"phoneOnFile": ANN, "which": 1},
                            vapi_call=call, caller=OTHER, tool_call_id="t3-cancel-early"))
    assert refused["code"] == "verification_required"
    assert status_of(db, appointment)["status"] == "confirmed"

    asked_item = one(client, phone, "find_my_appointments", {"phoneOnFile": "(555) 765-0101"},
                     vapi_call=call, caller=OTHER, tool_call_id="t3-ask")
    asked = result_of(asked_item)
    assert asked["code"] == "verification_required" and "appointments" not in asked
    assert "texted a 6-digit code" in spoken(asked_item)
    sms = db.execute("SELECT recipient::text AS to, body FROM voxbook.sms_outbox WHERE org_id = %s AND kind = 'otp' "
                     "AND hold_id IS NULL AND status = 'queued'", [org]).fetchone()
    assert sms["to"] == ANN
    code = sms["body"].split()[0]

    wrong = "000000" if code != "000000" else "111111"
    bad = result_of(one(client, phone, "find_my_appointments", {"phoneOnFile": ANN, "code": wrong},
                        vapi_call=call, caller=OTHER, tool_call_id="t3-wrong"))
    assert bad["code"] == "wrong_code" and bad["retriesLeft"] == 2
    assert status_of(db, appointment)["status"] == "confirmed"

    ok = result_of(one(client, phone, "find_my_appointments", {"phoneOnFile": ANN, "code": code},
                       vapi_call=call, caller=OTHER, tool_call_id="t3-right"))
    assert ok["verifiedBy"] == "code" and [a["appointmentId"] for a in ok["appointments"]] == [appointment]

    # Another call does not inherit the proof.
    elsewhere = result_of(one(client, phone, "cancel_my_appointment", {"phoneOnFile": ANN, "which": 1},
                              vapi_call="vapi-yet-another", caller=OTHER, tool_call_id="t4-cancel"))
    assert elsewhere["code"] == "verification_required"

    done = result_of(one(client, phone, "cancel_my_appointment", {"phoneOnFile": ANN, "which": 1},
                         vapi_call=call, caller=OTHER, tool_call_id="t3-cancel"))
    assert done["status"] == "cancelled" and status_of(db, appointment)["status"] == "cancelled"


def test_withheld_caller_is_asked_for_the_number(client, db):
    org, phone = new_clinic(db)
    item = one(client, phone, "find_my_appointments", {}, vapi_call="vapi-withheld", caller="anonymous",
               tool_call_id="t5-find")
    assert result_of(item)["code"] == "phone_needed"
    assert "Which phone number" in spoken(item)

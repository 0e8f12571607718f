"""The Vapi adapter end to end: real HTTP into the app, real database (as voxbook_app), Vapi's payloads."""

from __future__ import annotations

import json

from clinic_helpers import new_clinic
from vapi_helpers import AUTH, day, first_slot, result_of, results, single_line, spoken, tc, tool_calls, written


def hook(client, payload):
    return client.post("/vapi/webhook", json=payload, headers=AUTH)


def test_full_call_in_vapi_format(client, db):
    org, phone = new_clinic(db)
    caller, vapi_call = "+15557654321", "vapi-call-full"

    # 1. availability: arguments as a JSON string, as Vapi's spec has it
    r = hook(client, tool_calls(phone, [tc("tc-avail", "check_availability",
                                           {"date": day(), "service": "teeth whitening"}, form="string")],
                                vapi_call=vapi_call, caller=caller))
    [item] = results(r)
    assert item["toolCallId"] == "tc-avail" and item["name"] == "check_availability"
    avail = result_of(item)
    assert avail["success"] is True and avail["slots"]
    slot = avail["slots"][0]
    assert {"time", "calendarId", "provider", "spokenTime"} <= slot.keys()
    assert spoken(item).startswith("On ") and slot["spokenTime"] in spoken(item)
    assert single_line(item)

    # 2. reserve: toolWithToolCallList only (the third shape Vapi sends)
    r = hook(client, tool_calls(phone, [tc("tc-reserve", "reserve_atomic",
                                           {"slotId": slot["time"], "calendarId": slot["calendarId"],
                                            "patientName": "Ann Lee", "service": "teeth-whitening"})],
                                vapi_call=vapi_call, caller=caller, list_key="toolWithToolCallList"))
    [item] = results(r)
    held = result_of(item)
    assert held["success"] is True and held["holdId"]
    assert "held" in spoken(item) and held["provider"] in spoken(item)
    hold = db.execute("SELECT vapi_call_id, patient_phone::text AS phone, status FROM voxbook.holds WHERE id = %s",
                      [held["holdId"]]).fetchone()
    # trusted context: the call id from call.id and, with no patientPhone from the model, the caller's number
    assert hold == {"vapi_call_id": vapi_call, "phone": caller, "status": "held"}

    # 3. code: the flat {"id", "name", "parameters"} form
    r = hook(client, tool_calls(phone, [tc("tc-code", "send_otp_code", {"holdId": held["holdId"]}, form="flat")],
                                vapi_call=vapi_call, caller=caller))
    [item] = results(r)
    sent = result_of(item)
    assert sent["success"] is True and sent["codeSent"] is True and sent["messageId"]
    digits = db.execute("SELECT code_length AS n FROM voxbook.organizations WHERE id = %s", [org]).fetchone()["n"]
    assert f"{digits}-digit code" in spoken(item)
    code = db.execute("SELECT tests.code_of(%s) AS c", [held["holdId"]]).fetchone()["c"]
    assert code and len(code) == digits

    # 4. a wrong code, then the right one (seed's argument name providedOTP)
    wrong = "0" * digits if code != "0" * digits else "1" * digits
    r = hook(client, tool_calls(phone, [tc("tc-verify-1", "verify_otp", {"holdId": held["holdId"], "providedOTP": wrong})],
                                vapi_call=vapi_call, caller=caller))
    [item] = results(r)
    refused = result_of(item)
    assert (refused["success"], refused["retriesLeft"], refused["code"]) == (False, 2, "wrong_code")
    assert spoken(item) == "That's not quite right. You have 2 more tries."
    r = hook(client, tool_calls(phone, [tc("tc-verify-2", "verify_otp", {"holdId": held["holdId"], "providedOTP": code})],
                                vapi_call=vapi_call, caller=caller))
    [item] = results(r)
    booked = result_of(item)
    assert booked["success"] is True and booked["appointmentId"] and booked["otpVerified"] is True
    assert "booked" in spoken(item)

    # 5. confirmation
    r = hook(client, tool_calls(phone, [tc("tc-confirm", "send_confirmation_sms",
                                           {"appointmentId": booked["appointmentId"]})],
                                vapi_call=vapi_call, caller=caller))
    [item] = results(r)
    conf = result_of(item)
    assert conf["success"] is True and conf["messageId"] == booked["confirmationSms"]["messageId"]
    assert spoken(item) == "Perfect! Check your text for the details."

    # 6. end of call: stored, scored (the seed's 8-minute, booked, high-value call: 85) and a hot lead
    report = {"message": {
        "type": "end-of-call-report", "endedReason": "customer-ended-call",
        "startedAt": "2026-01-15T15:00:00.000Z", "endedAt": "2026-01-15T15:08:00.000Z", "durationSeconds": 3,
        "call": {"id": vapi_call, "customer": {"number": caller}, "phoneCallProviderId": "CA123"},
        "customer": {"number": caller}, "phoneNumber": {"number": phone},
        "artifact": {"transcript": "AI: Hi!\nUser: I'd like teeth whitening.", "messages": []},
        "analysis": {"summary": "Booked teeth whitening.", "structuredData": {"sentiment": "neutral"},
                     "successEvaluation": True},
        "transcript": "ignored when artifact.transcript is there", "summary": "also ignored",
    }}
    r = hook(client, report)
    assert r.status_code == 200, r.text
    rec = r.json()
    assert rec["score"] == 85 and rec["hot"] is True and rec["booked"] is True and rec["duplicate"] is False
    assert rec["appointmentId"] == booked["appointmentId"] and rec["durationSeconds"] == 480
    stored = db.execute("SELECT transcript, summary, success_evaluation, provider_call_sid FROM voxbook.calls "
                        "WHERE org_id = %s AND vapi_call_id = %s", [org, vapi_call]).fetchone()
    assert stored == {"transcript": "AI: Hi!\nUser: I'd like teeth whitening.", "summary": "Booked teeth whitening.",
                      "success_evaluation": "true", "provider_call_sid": "CA123"}
    alerts = db.execute("SELECT m.recipient::text AS r, m.body FROM voxbook.hot_lead_alerts AS a "
                        "JOIN voxbook.sms_outbox AS m ON m.org_id = a.org_id AND m.id = a.sms_id "
                        "WHERE a.org_id = %s", [org]).fetchall()
    assert len(alerts) == 1 and alerts[0]["r"] == "+15559990000" and "HOT LEAD (score 85)" in alerts[0]["body"]

    # a redelivered report changes nothing
    r = hook(client, report)
    assert r.status_code == 200 and r.json()["duplicate"] is True
    counts = written(db, org)
    assert (counts["calls"], counts["hot_lead_alerts"], counts["appointments"], counts["holds"]) == (1, 1, 1, 1)
    kinds = [r["kind"] for r in db.execute("SELECT kind FROM voxbook.sms_outbox WHERE org_id = %s ORDER BY kind",
                                           [org])]
    assert kinds == ["confirmation", "hot_lead", "otp", "reminder"]


def test_redelivered_tool_calls_get_the_same_answer_and_do_nothing_twice(client, db):
    org, phone = new_clinic(db)
    slot = first_slot(client, phone)
    reserve = tool_calls(phone, [tc("tc-r", "reserve_atomic", {"slotId": slot["time"], "calendarId": slot["calendarId"],
                                                               "patientName": "Bo", "patientPhone": "555-201-0001"})])
    first = results(hook(client, reserve))
    again = results(hook(client, reserve))
    assert again == first
    hold_id = result_of(first[0])["holdId"]

    code = tool_calls(phone, [tc("tc-c", "send_otp_code", {"holdId": hold_id})])
    first = results(hook(client, code))
    before = written(db, org)
    again = results(hook(client, code))
    assert again == first and written(db, org) == before
    assert before["holds"] == 1
    otps = db.execute("SELECT count(*) AS n FROM voxbook.sms_outbox WHERE org_id = %s AND kind = 'otp'", [org]).fetchone()
    assert otps["n"] == 1

    # A wrong guess redelivered is one attempt, not two.
    real = db.execute("SELECT tests.code_of(%s) AS c", [hold_id]).fetchone()["c"]
    guess = tool_calls(phone, [tc("tc-v", "verify_otp", {"holdId": hold_id,
                                                         "providedOTP": "9999" if real != "9999" else "8888"})])
    first = results(hook(client, guess))
    assert results(hook(client, guess)) == first
    attempts = db.execute("SELECT otp_attempts FROM voxbook.holds WHERE id = %s", [hold_id]).fetchone()
    assert attempts["otp_attempts"] == 1 and result_of(first[0])["retriesLeft"] == 2

    # The same id for another tool is refused, not replayed.
    reuse = tool_calls(phone, [tc("tc-r", "send_otp_code", {"holdId": hold_id})])
    [item] = results(hook(client, reuse))
    assert "another tool" in item["error"]


def test_several_calls_in_one_message_answer_in_order(client, db):
    org, phone = new_clinic(db)
    r = hook(client, tool_calls(phone, [
        tc("a", "check_availability", {"date": day(), "calendarId": "cal-b"}),
        tc("b", "no_such_tool", {}),
        tc(None, "check_availability", {"date": day()}),
        tc("d", "check_availability", {"date": day(), "calendarId": "cal-zzz"}),
        tc("e", "check_availability", "{not json"),
        tc("f", "check_availability", {}),
    ], list_key="both"))
    items = results(r)
    assert [i["toolCallId"] for i in items] == ["a", "b", None, "d", "e", "f"]
    assert {s["calendarId"] for s in result_of(items[0])["slots"]} == {"cal-b"}
    assert "unknown tool" in items[1]["error"]
    assert "toolCallId is missing" in items[2]["error"]
    assert "unknown calendar" in items[3]["error"]
    assert "not valid JSON" in items[4]["error"]
    assert items[5]["error"] == "date is required"
    assert all(single_line(i) for i in items)
    assert written(db, org)["tool_calls"] == 1


def test_slot_taken_offers_other_times(client, db):
    org, phone = new_clinic(db)
    slot = first_slot(client, phone, calendarId="cal-a")
    args = {"slotId": slot["time"], "calendarId": "cal-a", "patientName": "First"}
    results(hook(client, tool_calls(phone, [tc("x1", "reserve_atomic", args)], vapi_call="c1")))
    [item] = results(hook(client, tool_calls(phone, [tc("x2", "reserve_atomic", args)], vapi_call="c2",
                                             caller="+15557654322")))
    lost = result_of(item)
    assert lost["success"] is False and lost["code"] == "slot_taken"
    assert spoken(item).startswith("That time was just taken; I can offer ")
    assert lost["alternatives"] and all(a["time"] for a in lost["alternatives"])
    assert not any(a["time"] == slot["time"] and a["calendarId"] == "cal-a" for a in lost["alternatives"])


def test_cancel_and_reschedule(client, db):
    org, phone = new_clinic(db)
    caller = "+15557650001"
    slots = result_of(results(hook(client, tool_calls(phone, [tc("s", "check_availability",
                                                                    {"date": day(40), "calendarId": "cal-a", "maxSlots": 8})])))[0])["slots"]
    held = result_of(results(hook(client, tool_calls(phone, [tc("r", "reserve_atomic", {
        "slotId": slots[0]["time"], "calendarId": "cal-a", "patientName": "Cy"})], caller=caller)))[0])
    results(hook(client, tool_calls(phone, [tc("o", "send_otp_code", {"holdId": held["holdId"]})], caller=caller)))
    code = db.execute("SELECT tests.code_of(%s) AS c", [held["holdId"]]).fetchone()["c"]
    appt = result_of(results(hook(client, tool_calls(phone, [tc("v", "verify_otp", {
        "holdId": held["holdId"], "code": code})], caller=caller)))[0])["appointmentId"]

    # Another caller can't move or cancel it: the caller's number is checked by the database.
    [item] = results(hook(client, tool_calls(phone, [tc("m0", "reschedule_appointment", {
        "appointmentId": appt, "slotId": slots[3]["time"]})], caller="+15557650002")))
    assert "unknown appointment" in item["error"]

    [item] = results(hook(client, tool_calls(phone, [tc("m1", "reschedule_appointment", {
        "appointmentId": appt, "slotId": slots[3]["time"]})], caller=caller)))
    moved = result_of(item)
    assert moved["success"] is True and moved["startsAt"] == slots[3]["time"]
    assert spoken(item).startswith("Done: your appointment is now")

    # Onto a time someone else holds: refused in the same one statement, with other times to offer.
    results(hook(client, tool_calls(phone, [tc("r2", "reserve_atomic", {
        "slotId": slots[5]["time"], "calendarId": "cal-a", "patientName": "Di"})], vapi_call="other")))
    [item] = results(hook(client, tool_calls(phone, [tc("m2", "reschedule_appointment", {
        "appointmentId": appt, "slotId": slots[5]["time"]})], caller=caller)))
    refused = result_of(item)
    assert refused["code"] == "slot_taken" and len(refused["alternatives"]) == 2
    assert spoken(item).startswith("That time was just taken, so your appointment stays as it was; I can offer ")

    [item] = results(hook(client, tool_calls(phone, [tc("c1", "cancel_appointment", {
        "appointmentId": appt, "reason": "feeling better"})], caller=caller)))
    assert result_of(item)["status"] == "cancelled" and "cancelled" in spoken(item)


def test_informational_messages_get_an_empty_200(client, db):
    org, phone = new_clinic(db)
    for kind in ("status-update", "conversation-update", "speech-update", "transcript", "hang",
                 "user-interrupted", 'transcript[transcriptType="final"]'):
        r = hook(client, {"message": {"type": kind, "status": "in-progress", "call": {"id": "i"},
                                      "phoneNumber": {"number": phone}}})
        assert (r.status_code, r.json()) == (200, {}), kind
    assert sum(written(db, org).values()) == 0


def test_assistant_request(client, db):
    org, phone = new_clinic(db)
    r = hook(client, {"message": {"type": "assistant-request", "call": {"id": "ar", "customer": {"number": "+15557650003"}},
                                  "phoneNumber": {"number": phone}}})
    assert r.status_code == 200
    assistant = r.json()["assistant"]
    assert "Test Clinic" in assistant["firstMessage"]
    assert assistant["metadata"] == {"tenantId": org}
    prompt = assistant["model"]["messages"][0]["content"]
    assert "America/New_York" in prompt and "reserve_atomic" in prompt
    names = [t["function"]["name"] if t["type"] == "function" else t["type"] for t in assistant["model"]["tools"]]
    assert names[:5] == ["check_availability", "reserve_atomic", "send_otp_code", "verify_otp", "send_confirmation_sms"]
    assert "transferCall" in names   # the front desk, Vapi's native transfer (tests/test_front_desk.py)

    r = hook(client, {"message": {"type": "assistant-request", "phoneNumber": {"number": "+15550000001"}}})
    assert r.status_code == 200 and "not set up" in r.json()["error"]


def test_tenant_from_assistant_metadata_when_no_phone_number(client, db):
    org, _ = new_clinic(db)
    payload = tool_calls(None, [tc("w1", "check_availability", {"date": day()})], caller=None)
    payload["message"]["assistant"] = {"metadata": {"tenantId": org}}
    [item] = results(hook(client, payload))
    assert result_of(item)["slots"]

    # A web call with no clinic at all: a clear per-call error
    [item] = results(hook(client, tool_calls(None, [tc("w2", "check_availability", {"date": day()})], caller=None)))
    assert item["error"].startswith("no clinic for this call")


def test_the_called_number_wins_over_a_tenant_id_from_the_model(client, db):
    org, phone = new_clinic(db)
    other, _ = new_clinic(db)
    slot = first_slot(client, phone)
    [item] = results(hook(client, tool_calls(phone, [tc("t1", "reserve_atomic", {
        "tenantId": other, "slotId": slot["time"], "calendarId": slot["calendarId"], "patientName": "Di"})])))
    assert result_of(item)["success"] is True
    assert written(db, org)["holds"] == 1 and written(db, other)["holds"] == 0


def test_seed_shape_endpoints(client, db):
    org, phone = new_clinic(db)
    seed = "/api/vapi/tools"

    r = client.post(f"{seed}/calendar/check", json={"toolCall": {"arguments": {"tenantId": org, "date": day()}}},
                    headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    slot = json.loads(body["toolResult"]["content"])["slots"][0]
    assert body["speech"].startswith("On ")

    r = client.post(f"{seed}/booking/reserve-atomic", json={"toolCall": {"arguments": {
        "tenantId": org, "slotId": slot["time"], "calendarId": slot["calendarId"], "patientName": "John Smith",
        "patientPhone": "+1-555-201-1234"}}}, headers=AUTH)
    held = json.loads(r.json()["toolResult"]["content"])
    assert held["success"] is True and held["holdId"]

    r = client.post(f"{seed}/booking/reserve-atomic", json={"toolCall": {"arguments": {
        "tenantId": org, "slotId": slot["time"], "calendarId": slot["calendarId"], "patientName": "Jane",
        "patientPhone": "+1-555-201-9999"}}}, headers=AUTH)
    assert r.status_code == 200
    assert json.loads(r.json()["toolResult"]["content"])["error"] == "Slot already held"
    assert "taken" in r.json()["speech"]

    r = client.post(f"{seed}/booking/send-otp", json={"toolCall": {"arguments": {
        "tenantId": org, "holdId": held["holdId"], "patientPhone": "+1-555-201-1234"}}}, headers=AUTH)
    assert json.loads(r.json()["toolResult"]["content"])["codeSent"] is True
    code = db.execute("SELECT tests.code_of(%s) AS c", [held["holdId"]]).fetchone()["c"]

    r = client.post(f"{seed}/booking/verify-otp", json={"toolCall": {"arguments": {
        "tenantId": org, "holdId": held["holdId"], "providedOTP": code}}}, headers=AUTH)
    appt = json.loads(r.json()["toolResult"]["content"])
    assert appt["success"] is True and r.json()["speech"].startswith("Perfect!")

    # Vapi's tool-calls shape on the same URL gets Vapi's answer shape
    r = client.post(f"{seed}/booking/send-confirmation", json=tool_calls(phone, [tc("sc", "send_confirmation_sms", {
        "appointmentId": appt["appointmentId"], "patientPhone": "+1-555-201-1234", "contactId": appt["contactId"]})]),
        headers=AUTH)
    [item] = results(r)
    assert result_of(item)["success"] is True

    # a tool this URL doesn't serve, and an unknown id: errors with a 4xx, not a 500
    [item] = results(client.post(f"{seed}/booking/send-otp", json=tool_calls(phone, [tc("z", "verify_otp", {})]),
                                 headers=AUTH))
    assert "serves send_otp_code" in item["error"]
    r = client.post(f"{seed}/booking/send-otp", json={"toolCall": {"arguments": {
        "tenantId": org, "holdId": "00000000-0000-0000-0000-000000000000"}}}, headers=AUTH)
    assert r.status_code == 404 and "unknown hold" in json.loads(r.json()["toolResult"]["content"])["error"]
    r = client.post(f"{seed}/booking/send-otp", json={"toolCall": {"arguments": {"holdId": held["holdId"]}}},
                    headers=AUTH)
    assert r.status_code == 400 and "no clinic" in r.json()["toolResult"]["content"]


def test_availability_result_is_what_the_assistant_will_speak(client, db):
    """The model reads (and Vapi bills) the whole result: a day was ~4.3 KB of 26 times while the assistant
    speaks three. The tool asks the database for a few and says there are more; the model may ask for more."""
    org, phone = new_clinic(db)
    whole_day = db.execute("SELECT jsonb_array_length(api.check_availability(%s, %s)->'slots') AS n",
                           [org, day()]).fetchone()["n"]
    assert whole_day >= 20
    [item] = results(hook(client, tool_calls(phone, [tc("size-1", "check_availability", {"date": day()})])))
    assert len(item["result"].encode()) < 1500, len(item["result"].encode())
    slots = result_of(item)["slots"]
    assert len(slots) == 3 and result_of(item)["more"] is True
    assert "other times" in spoken(item) and single_line(item)
    # spread over the day, not the earliest three: the first and the last free time of the day are offered
    every = db.execute("SELECT api.check_availability(%s, %s)->'slots' AS s", [org, day()]).fetchone()["s"]
    assert [s["time"] for s in slots][::2] == [every[0]["time"], every[-1]["time"]]
    [item] = results(hook(client, tool_calls(phone, [tc("size-2", "check_availability",
                                                        {"date": day(), "maxSlots": 40})])))
    assert len(result_of(item)["slots"]) == whole_day and "other times" not in spoken(item)


def test_code_guards_are_spoken_and_send_nothing(client, db):
    """A code for a number abroad (SMS pumping) and one more code past the per-number limit are refused by
    the database; the assistant gets a line it can say, and nothing is queued."""
    org, phone = new_clinic(db)
    slot = first_slot(client, phone)
    held = result_of(results(hook(client, tool_calls(phone, [tc("g-r", "reserve_atomic", {
        "slotId": slot["time"], "calendarId": slot["calendarId"], "patientName": "Guy Abroad"})],
        vapi_call="vapi-guards", caller="+15557659000")))[0])
    [item] = results(hook(client, tool_calls(phone, [tc("g-o1", "send_otp_code", {
        "holdId": held["holdId"], "patientPhone": "+447700900123"})], vapi_call="vapi-guards")))
    assert result_of(item)["code"] == "destination_not_allowed"
    assert "country" in spoken(item) and single_line(item)
    db.execute("UPDATE voxbook.organizations SET code_sends_per_phone_hour = 1 WHERE id = %s", [org])
    [item] = results(hook(client, tool_calls(phone, [tc("g-o2", "send_otp_code", {"holdId": held["holdId"]})],
                                             vapi_call="vapi-guards", caller="+15557659000")))
    assert result_of(item)["success"] is True
    [item] = results(hook(client, tool_calls(phone, [tc("g-o3", "send_otp_code", {"holdId": held["holdId"]})],
                                             vapi_call="vapi-guards", caller="+15557659000")))
    assert result_of(item)["code"] == "rate_limited" and "front desk" in spoken(item)
    assert db.execute("SELECT count(*) AS n FROM voxbook.sms_outbox WHERE org_id = %s AND kind = 'otp'",
                      [org]).fetchone()["n"] == 1

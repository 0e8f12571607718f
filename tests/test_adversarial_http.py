"""Adversarial review of the HTTP surface of issue 15 (returning callers, the front desk, SMS replies, the
waitlist), over real HTTP into the app and the real database as voxbook_app.

- Vapi's new message types (language-changed, transfer-destination-request, assistant-request with a caller,
  status-update for a failed transfer) and the new tools (find/cancel/reschedule_my_*, join_waitlist) with
  missing and odd fields: never a 5xx; a well-formed envelope always gets 200 and something to say.
- The trusted caller number: no argument the model can send (callerNumber, caller_phone, customerNumber, ...)
  reaches the caller's appointments or puts another number on the waitlist.
- Twilio: a replayed MessageSid with another body changes nothing; a form without AccountSid, or signed for
  another account, changes nothing.
- Logs of these paths: no phone number, name, code, SMS body or token.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from litestar.testing import TestClient
from twilio.request_validator import RequestValidator

from voxbook.api.app import create_app
from clinic_helpers import new_clinic, unique_phone
from test_returning_callers import book_first_call, status_of
from vapi_helpers import AUTH, day, first_slot, result_of, results, settings_for, tc, tool_calls

PUBLIC_BASE_URL = "https://voxbook.example.test"
TOKEN = "adv-twilio-token-" + secrets.token_hex(8)
ACCOUNT = "AC" + secrets.token_hex(16)
ANN = "+15557650101"          # book_first_call's patient
FUZZ = hsettings(max_examples=60, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
NEW_TOOLS = ("find_my_appointments", "cancel_my_appointment", "reschedule_my_appointment", "join_waitlist")
# Every spelling a model might try for "the caller's number".
CALLER_ALIASES = ("callerNumber", "caller_number", "callerPhone", "caller_phone", "customerNumber",
                  "customer_number", "customerPhone", "customer", "phone", "phoneNumber", "patientPhone",
                  "patient_phone", "number", "from", "From", "callerId", "caller")


@pytest.fixture(scope="module")
def client(app_database_url):
    s = settings_for(app_database_url, public_base_url=PUBLIC_BASE_URL, twilio_account_sid=ACCOUNT,
                     twilio_auth_token=TOKEN)
    with TestClient(create_app(s), raise_server_exceptions=False) as c:
        yield c


def hook(client, payload):
    return client.post("/vapi/webhook", json=payload, headers=AUTH)


def one(client, phone, name, args, *, caller, vapi_call="adv-call"):
    [item] = results(hook(client, tool_calls(phone, [tc("adv-" + secrets.token_hex(5), name, args)],
                                             vapi_call=vapi_call, caller=caller)))
    return item


# -- Vapi: new message types with odd fields ------------------------------------------------------------

odd = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1), st.text(max_size=30),
                st.just("x" * 5000), st.just("\x00+1555"), st.just("+1 555 NOT NUMBER"), st.just("anonymous"),
                st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


def odd_message(kind: str, phone: str, draw) -> dict[str, Any]:
    msg: dict[str, Any] = {"type": kind}
    if draw(st.booleans()):
        msg["phoneNumber"] = {"number": draw(st.one_of(st.just(phone), odd))}
    if draw(st.booleans()):
        msg["call"] = {"id": draw(odd), "customer": {"number": draw(odd)}}
    if draw(st.booleans()):
        msg["customer"] = {"number": draw(odd)}
    for field in ("language", "endedReason", "status"):
        if draw(st.booleans()):
            msg[field] = draw(st.one_of(odd, st.sampled_from(["es", "pt-BR", "assistant-forwarding-failed",
                                                              "call.in-progress.error-transfer-failed"])))
    return msg


@pytest.mark.parametrize("kind", ["language-changed", "language-change-detected", "transfer-destination-request",
                                  "assistant-request", "status-update", "end-of-call-report"])
def test_new_message_types_with_odd_fields_never_500(client, db, kind):
    _, phone = new_clinic(db)

    @FUZZ
    @given(data=st.data())
    def run(data):
        msg = odd_message(kind, phone, data.draw)
        r = hook(client, {"message": msg})
        assert r.status_code < 500, (r.status_code, r.text[:300])

    run()


@pytest.mark.parametrize("caller", [None, "anonymous", "+1 555 NOT NUMBER", "x" * 5000, "12", "\u202e+15551234567"])
@pytest.mark.parametrize("call_id", [None, "", "c" * 5000, 12345])
def test_transfer_and_assistant_requests_always_have_something_to_say(client, db, caller, call_id):
    _, phone = new_clinic(db)
    call: dict[str, Any] = {} if call_id is None else {"id": call_id}
    if caller is not None:
        call["customer"] = {"number": caller}
    for kind, wanted in (("transfer-destination-request", ("destination", "error")),
                         ("assistant-request", ("assistant",))):
        r = hook(client, {"message": {"type": kind, "call": call, "phoneNumber": {"number": phone}}})
        assert r.status_code == 200, (kind, r.status_code, r.text[:300])
        body = r.json()
        assert any(body.get(k) for k in wanted), (kind, body)
        r = hook(client, {"message": {"type": kind, "call": call}})   # no clinic: still something to say
        assert r.status_code == 200 and r.json().get("error"), (kind, r.text[:300])


@pytest.mark.parametrize("name", NEW_TOOLS)
def test_new_tools_with_odd_arguments_answer_200_with_a_line(client, db, name):
    _, phone = new_clinic(db)
    arg_names = ["appointmentId", "which", "when", "phoneOnFile", "code", "slotId", "calendarId", "firstDay",
                 "lastDay", "fromTime", "toTime", "patientName", "service", "reason", "language"]

    @FUZZ
    @given(args=st.dictionaries(st.sampled_from(arg_names), odd, max_size=5),
           caller=st.one_of(st.none(), st.just(unique_phone()), st.just("anonymous"), st.text(max_size=20)),
           form=st.sampled_from(["function", "string", "flat"]))
    def run(args, caller, form):
        r = hook(client, tool_calls(phone, [tc("adv-" + secrets.token_hex(6), name, args, form=form)],
                                    caller=caller))
        assert r.status_code == 200, (r.status_code, r.text[:300])
        [item] = r.json()["results"]
        assert ("error" in item) != ("result" in item)
        assert (item.get("error") or item.get("result")).strip()

    run()


# -- Vapi: the trusted caller number -----------------------------------------------------------------------


def test_the_model_cannot_name_another_callers_number(client, db):
    org, phone = new_clinic(db)
    appointment = book_first_call(client, db, phone)
    before = status_of(db, appointment)
    assert before["status"] == "confirmed"
    other = unique_phone()
    forged = {k: ANN for k in CALLER_ALIASES} | {"customer": {"number": ANN}}
    flat = {k: v for k, v in forged.items() if isinstance(v, str)}

    for caller in (other, None, "anonymous"):
        for args in ({k: ANN} for k in CALLER_ALIASES):
            found = one(client, phone, "find_my_appointments", args, caller=caller)
            text = json.dumps(found)
            assert appointment not in text and "Ann" not in text, (args, found)
        found = one(client, phone, "find_my_appointments", flat, caller=caller)
        assert appointment not in json.dumps(found)
        for args in ({"which": 1}, {"appointmentId": appointment}):
            one(client, phone, "cancel_my_appointment", {**args, **flat}, caller=caller)
            slot = first_slot(client, phone, day(22), service="consultation")
            one(client, phone, "reschedule_my_appointment",
                {**args, **flat, "slotId": slot["time"], "calendarId": slot["calendarId"]}, caller=caller)
        # A hypothesis-free variant with the number nested where an object would be.
        one(client, phone, "find_my_appointments", forged, caller=caller)
    assert status_of(db, appointment) == before

    # join_waitlist: the number is Vapi's, whatever the model says.
    item = one(client, phone, "join_waitlist", {"firstDay": day(25), **flat}, caller=other)
    assert "result" in item, item
    phones = {r["phone"] for r in db.execute("SELECT phone FROM voxbook.waitlist WHERE org_id = %s", [org])}
    assert phones == {other}
    # With no trusted number the model's number is not used either.
    for caller in (None, "anonymous"):
        one(client, phone, "join_waitlist", {"firstDay": day(25), **flat}, caller=caller)
    phones = {r["phone"] for r in db.execute("SELECT phone FROM voxbook.waitlist WHERE org_id = %s", [org])}
    assert phones == {other}


# -- Twilio ---------------------------------------------------------------------------------------------------


def post_inbound(client, form: dict[str, str], token: str = TOKEN):
    sig = RequestValidator(token).compute_signature(PUBLIC_BASE_URL + "/twilio/inbound", form)
    return client.post("/twilio/inbound", content=urlencode(form),
                       headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig})


def state(db, org: str, patient: str) -> dict[str, Any]:
    contact = db.execute("SELECT sms_opted_out FROM voxbook.contacts WHERE org_id = %s AND phone = %s",
                         [org, patient]).fetchone()
    outbox = db.execute("SELECT count(*) AS n FROM voxbook.sms_outbox WHERE org_id = %s", [org]).fetchone()["n"]
    return {"opted_out": bool(contact and contact["sms_opted_out"]), "outbox": outbox}


def test_a_replayed_message_sid_with_another_body_changes_nothing(client, db):
    sender = unique_phone()
    org, _ = new_clinic(db, sms_from=sender)
    patient = unique_phone()
    sid = "SM" + secrets.token_hex(16)
    base = {"MessageSid": sid, "AccountSid": ACCOUNT, "From": patient, "To": sender}
    r = post_inbound(client, {**base, "Body": "hello there"})
    assert r.status_code == 200
    first = r.text
    before = state(db, org, patient)
    for body in ("STOP", "HELP", "C", "R", "BOOK"):
        r = post_inbound(client, {**base, "Body": body, "OptOutType": "STOP" if body == "STOP" else ""})
        assert r.status_code == 200 and r.text == first, r.text   # the first answer again, nothing done
    assert state(db, org, patient) == before and not before["opted_out"]


def test_a_form_without_account_or_for_another_account_changes_nothing(client, db):
    sender = unique_phone()
    org, _ = new_clinic(db, sms_from=sender)
    patient = unique_phone()
    form = {"MessageSid": "SM" + secrets.token_hex(16), "From": patient, "To": sender, "Body": "STOP"}
    assert post_inbound(client, form).status_code == 403                                  # no AccountSid
    assert post_inbound(client, {**form, "AccountSid": "AC" + "0" * 32}).status_code == 403   # another account
    assert post_inbound(client, {**form, "AccountSid": ACCOUNT}, token="not-" + TOKEN).status_code == 403
    assert not state(db, org, patient)["opted_out"]
    assert post_inbound(client, {**form, "AccountSid": ACCOUNT}).status_code == 200        # the control
    assert state(db, org, patient)["opted_out"]


@pytest.mark.parametrize("raw", [b"Body=%FF%FE&From=%2B1555", b"\xff\xfe\xfd", b"Body=" + b"A" * 20000,
                                 b"To=%00&From=%00&Body=%00&AccountSid=%00", b"&&&===", b""])
def test_twilio_raw_bodies_never_500(client, raw):
    for path in ("/twilio/inbound", "/twilio/status"):
        r = client.post(path, content=raw, headers={"Content-Type": "application/x-www-form-urlencoded",
                                                    "X-Twilio-Signature": "bogus"})
        assert r.status_code < 500 and r.status_code in (400, 403, 413), (path, r.status_code)


def test_signed_nul_and_huge_fields_never_500(client, db):
    sender = unique_phone()
    new_clinic(db, sms_from=sender)
    for field, value in (("Body", "\x00STOP"), ("From", "\x00"), ("To", "\x00"), ("MessageSid", "SM\x00"),
                         ("Body", "x" * 200000), ("From", "+" + "9" * 5000), ("To", "+" + "9" * 5000),
                         ("OptOutType", "\x00"), ("MessageSid", "S" * 5000)):
        form = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": ACCOUNT, "From": unique_phone(),
                "To": sender, "Body": "hi", field: value}
        r = post_inbound(client, form)
        assert r.status_code < 500, (field, r.status_code, r.text[:200])


# -- logs -----------------------------------------------------------------------------------------------------


def test_no_numbers_names_codes_bodies_or_tokens_in_the_logs(client, db, caplog):
    caplog.set_level(logging.DEBUG)
    sender = unique_phone()
    org, phone = new_clinic(db, sms_from=sender)
    patient, other = unique_phone(), unique_phone()
    name = "Quill" + secrets.token_hex(4)
    code = str(secrets.randbelow(900000) + 100000)
    body = "secret-body-" + secrets.token_hex(6)
    call = "adv-log-" + secrets.token_hex(4)
    for kind in ("assistant-request", "transfer-destination-request", "language-changed"):
        hook(client, {"message": {"type": kind, "language": "es", "call": {"id": call, "customer": {"number": patient}},
                                  "phoneNumber": {"number": phone}}})
    hook(client, {"message": {"type": "status-update", "endedReason": "assistant-forwarding-failed",
                              "call": {"id": call, "customer": {"number": patient}}, "phoneNumber": {"number": phone}}})
    one(client, phone, "find_my_appointments", {"phoneOnFile": other}, caller=patient, vapi_call=call)
    one(client, phone, "find_my_appointments", {"phoneOnFile": other, "code": code}, caller=patient, vapi_call=call)
    one(client, phone, "join_waitlist", {"firstDay": day(25), "patientName": name}, caller=patient, vapi_call=call)
    one(client, phone, "cancel_my_appointment", {"when": name, "reason": body}, caller=patient, vapi_call=call)
    for text in (body, "R", "C", "HELP", "BOOK"):
        post_inbound(client, {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": ACCOUNT, "From": patient,
                              "To": sender, "Body": text})
    post_inbound(client, {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": ACCOUNT, "From": patient,
                          "To": sender, "Body": body}, token="wrong")
    logged = caplog.text
    assert "twilio inbound" in logged and "tool " in logged   # the paths did log
    for secret in (patient, patient[2:], other, other[2:], sender, phone, name, code, body, TOKEN, ACCOUNT):
        assert secret not in logged, secret


@pytest.mark.parametrize("junk", [{"call": []}, {"call": "c-1"}, {"call": {"customer": []}},
                                  {"call": {"customer": {"number": 15551234567}}}, {"customer": "x"},
                                  {"call": {"id": {"a": 1}}}, {"assistant": []}, {"endedReason": ["x"]},
                                  {"language": 5}, {"timestamp": []}])
def test_messages_that_need_an_answer_get_one_despite_ill_typed_fields(client, db, junk):
    """An array or number where Vapi's schema has an object or string: the field is ignored, not the message.
    A 400 would leave the assistant (assistant-request, transfer-destination-request) with nothing to say."""
    _, phone = new_clinic(db)
    for kind, wanted in (("assistant-request", "assistant"), ("transfer-destination-request", None),
                         ("language-changed", None), ("status-update", None)):
        r = hook(client, {"message": {"type": kind, "phoneNumber": {"number": phone}, **junk}})
        assert r.status_code == 200, (kind, junk, r.status_code, r.text[:200])
        if wanted:
            assert r.json().get(wanted), (kind, r.text[:200])
        if kind == "transfer-destination-request":
            assert r.json().get("destination") or r.json().get("error")
    # The tool calls of a message keep their 400 for a broken envelope (what Vapi sent is not a message).
    r = hook(client, {"message": {"type": "tool-calls", "toolCallList": "not a list"}})
    assert r.status_code == 400


def test_a_tool_call_id_reused_in_another_call_does_not_replay_the_first_callers_answer(client, db):
    """Some model providers number their tool calls (call_0, call_1, ...): the same id in another caller's call is
    not a redelivery, and must not answer with the first caller's appointments."""
    _, phone = new_clinic(db)
    appointment = book_first_call(client, db, phone)
    tool_id = "call_0"
    [first] = results(hook(client, tool_calls(phone, [tc(tool_id, "find_my_appointments", {})],
                                              vapi_call="adv-ann", caller=ANN)))
    assert appointment in first["result"]
    [again] = results(hook(client, tool_calls(phone, [tc(tool_id, "find_my_appointments", {})],
                                              vapi_call="adv-ann", caller=ANN)))
    assert again == first   # Vapi's redelivery in the same call: the same answer
    [other] = results(hook(client, tool_calls(phone, [tc(tool_id, "find_my_appointments", {})],
                                              vapi_call="adv-someone-else", caller=unique_phone())))
    assert appointment not in json.dumps(other) and "Ann" not in json.dumps(other), other
    assert "error" in other   # refused (VB409): nothing run, nothing answered from the other call's record

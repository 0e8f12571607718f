"""Fuzzing every endpoint that takes a body (hypothesis, bounded): authenticated requests in the right
shape with arbitrary values, and arbitrary bytes. Never a 5xx; a refused request writes nothing.

Refused = an HTTP status >= 400, or a tool-calls answer whose every result is an ``error``. Rows are
counted in the tables a request could add to (holds, sms_outbox, calls). Status codes and error codes
are asserted, never the wording of a body.
"""

from __future__ import annotations

import json
import secrets
import string
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from litestar.testing import TestClient
from psycopg.rows import dict_row
from twilio.request_validator import RequestValidator

from voxbook.api.app import create_app
from voxbook.api.vapi_tools import TOOLS
from clinic_helpers import new_clinic, unique_phone
from vapi_helpers import ADMIN, AUTH, day, settings_for, tc, tool_calls

PUBLIC_BASE_URL = "https://voxbook.example.test"
TWILIO_TOKEN = "fuzz-twilio-token-" + secrets.token_hex(8)
TWILIO_SID = "AC" + secrets.token_hex(16)   # Twilio names the account in every callback; without it: 403
FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
COUNTED = ("holds", "sms_outbox", "calls")


@pytest.fixture(scope="module")
def world(app_database_url, database_url) -> Iterator[dict[str, Any]]:
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as db:
        org, phone = new_clinic(db)
        s = settings_for(app_database_url, public_base_url=PUBLIC_BASE_URL, twilio_auth_token=TWILIO_TOKEN,
                         twilio_account_sid=TWILIO_SID)
        with TestClient(create_app(s), raise_server_exceptions=False) as client:
            yield {"db": db, "org": org, "phone": phone, "client": client}


def counts(db) -> dict[str, int]:
    return {t: db.execute(f"SELECT count(*) AS n FROM voxbook.{t}").fetchone()["n"] for t in COUNTED}


def check(world: dict[str, Any], send) -> Any:
    """Sends one request; asserts no 5xx and, when refused, no new row."""
    before = counts(world["db"])
    r = send(world["client"])
    assert r.status_code < 500, (r.status_code, r.text[:300])
    refused = r.status_code >= 400
    if r.status_code == 200 and r.headers.get("content-type", "").startswith("application/json"):
        body = r.json()
        items = body.get("results") if isinstance(body, dict) else None
        if items:
            assert all(("error" in i) != ("result" in i) for i in items)
            refused = all("error" in i for i in items)
    if refused:
        assert counts(world["db"]) == before
    return r


# -- values ------------------------------------------------------------------------------------------

plausible = st.sampled_from([
    day(), day(2), "infinity", "-infinity", "0001-01-01", "9999-12-31", "2030-01-01T10:00:00Z", "0000-01-01",
    "2030-02-30", "cal-a", "cal-b", "", " ", "cleaning", "consultation", "+15551234567", "555-123-4567",
    "anonymous", "1234", "000000", "2147483648", "-1", "1e400", "\u202e", "😀" * 3, "x" * 300, "'; DROP TABLE x; --",
])
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=40), plausible, st.uuids().map(str))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)


@st.composite
def tool_args(draw, tool_name: str) -> dict[str, Any]:
    tool = TOOLS.get(tool_name)
    names = sorted({a.name for a in tool.args} | {n for a in tool.args for n in a.aliases}) if tool else []
    names += ["tenantId", "callId", "callerNumber", "unknownArg"]
    keys = draw(st.lists(st.sampled_from(names), max_size=len(names), unique=True))
    return {k: draw(st.one_of(scalars, json_values)) for k in keys}


@st.composite
def a_tool_call(draw) -> dict[str, Any]:
    name = draw(st.one_of(st.sampled_from(sorted(TOOLS)), st.text(max_size=20)))
    args = draw(tool_args(name))
    form = draw(st.sampled_from(["function", "string", "flat"]))
    call_id = draw(st.one_of(st.none(), st.just("fz-" + secrets.token_hex(6)), st.text(max_size=250)))
    return tc(call_id, name, args, form=form)


def phone_of(world: dict[str, Any]):
    return st.one_of(st.just(world["phone"]), st.none(), st.text(max_size=20))


# -- Vapi -----------------------------------------------------------------------------------------------


def test_fuzz_tool_calls(world):
    @FUZZ
    @given(calls=st.lists(a_tool_call(), min_size=0, max_size=4), phone=phone_of(world),
           caller=st.one_of(st.none(), st.just(unique_phone()), st.text(max_size=20)),
           vapi_call=st.one_of(st.just("fz-call"), st.text(max_size=300)),
           list_key=st.sampled_from(["toolCallList", "toolCalls", "toolWithToolCallList", "both"]))
    def run(calls, phone, caller, vapi_call, list_key):
        payload = tool_calls(phone, calls, vapi_call=vapi_call, caller=caller, list_key=list_key)
        check(world, lambda c: c.post("/vapi/webhook", json=payload, headers=AUTH))

    run()


def test_fuzz_end_of_call_reports(world):
    @FUZZ
    @given(fields=st.fixed_dictionaries({}, optional={
        "startedAt": st.one_of(scalars, st.just("2030-01-01T10:00:00Z")),
        "endedAt": st.one_of(scalars, st.just("2030-01-01T10:08:00Z")),
        "endedReason": scalars, "durationSeconds": scalars, "transcript": st.text(max_size=2000),
        "summary": scalars,
        "artifact": st.fixed_dictionaries({}, optional={"transcript": st.text(), "messages": st.lists(json_values)}),
        "analysis": st.fixed_dictionaries({}, optional={"summary": st.text(), "successEvaluation": scalars,
                                                        "structuredData": json_values}),
    }), call_id=st.one_of(st.uuids().map(str), st.text(max_size=400), st.integers()),
       phone=phone_of(world), caller=st.one_of(st.none(), st.just(unique_phone()), st.text(max_size=30)))
    def run(fields, call_id, phone, caller):
        msg: dict[str, Any] = {"type": "end-of-call-report", "call": {"id": call_id, "customer": {"number": caller}},
                               **fields}
        if phone is not None:
            msg["phoneNumber"] = {"number": phone}
        r = check(world, lambda c: c.post("/vapi/webhook", json={"message": msg}, headers=AUTH))
        assert r.status_code in (200, 400, 404, 422), r.status_code

    run()


def test_fuzz_other_message_types(world):
    @FUZZ
    @given(kind=st.one_of(st.sampled_from(["assistant-request", "status-update", "conversation-update",
                                           "transcript[transcriptType=\"final\"]", "hang", "tool-calls"]),
                          st.text(max_size=30)),
           extra=st.dictionaries(st.sampled_from(["call", "phoneNumber", "customer", "assistant", "toolCallList",
                                                  "timestamp", "status"]), json_values, max_size=4))
    def run(kind, extra):
        check(world, lambda c: c.post("/vapi/webhook", json={"message": {"type": kind, **extra}}, headers=AUTH))

    run()


def test_fuzz_raw_bodies(world):
    @FUZZ
    @given(body=st.one_of(st.binary(max_size=300),
                          st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
                          st.sampled_from([b'{"message": {"type": "tool-calls", "x": "\\ud800"}}',
                                           b'{"message": {"type": "status-update", "n": ' + b"9" * 5000 + b"}}",
                                           b'{"message": {"type": "status-update", "n": NaN}}',
                                           b'{"message": {"type": "status-update", "n": 1e999}}',
                                           b'{"message": {"type": "status-update"}}' + b" " * 10,
                                           b"[" * 5000 + b"]" * 5000, b"\xef\xbb\xbf{}", b"null"])),
           path=st.sampled_from(["/vapi/webhook", "/api/vapi/tools/calendar/check",
                                 "/api/vapi/tools/booking/reserve-atomic", "/rpc/check_availability"]))
    def run(body, path):
        headers = {"content-type": "application/json",
                   **(AUTH if path.startswith(("/vapi", "/api")) else {"Authorization": f"Bearer {ADMIN}"})}
        check(world, lambda c: c.post(path, content=body, headers=headers))

    run()


def test_fuzz_seed_tool_endpoints(world):
    paths = {t.name: "/api/vapi/tools" + t.seed_path for t in TOOLS.values() if t.seed_path}

    @FUZZ
    @given(tool=st.sampled_from(sorted(paths)), data=st.data())
    def run(tool, data):
        args = data.draw(tool_args(tool))
        body: dict[str, Any] = {"toolCall": {"arguments": data.draw(st.one_of(st.just(args),
                                                                               st.just(json.dumps(args)), scalars))}}
        body["phoneNumber"] = {"number": data.draw(phone_of(world))}
        check(world, lambda c: c.post(paths[tool], json=body, headers=AUTH))

    run()


# -- Twilio and /rpc ------------------------------------------------------------------------------------


def test_fuzz_twilio_callbacks_with_valid_signatures(world):
    validator = RequestValidator(TWILIO_TOKEN)

    @FUZZ
    @given(path=st.sampled_from(["/twilio/status", "/twilio/inbound"]),
           form=st.fixed_dictionaries({"AccountSid": st.one_of(st.just(TWILIO_SID), st.just(TWILIO_SID),
                                                                 st.text(max_size=40))}, optional={
               "MessageSid": st.one_of(st.just("SM" + secrets.token_hex(16)), st.text(max_size=40)),
               "MessageStatus": st.one_of(st.sampled_from(["queued", "sent", "delivered", "undelivered", "failed"]),
                                          st.text(max_size=20)),
               "ErrorCode": st.one_of(st.sampled_from(["30003", "21610"]), st.text(max_size=10)),
               "ErrorMessage": st.text(max_size=40), "To": st.one_of(st.just(world["phone"]), st.text(max_size=20)),
               "From": st.one_of(st.just(unique_phone()), st.text(max_size=20)),
               "Body": st.one_of(st.sampled_from(["STOP", "START", "HELP", "stop please"]), st.text(max_size=200)),
               "OptOutType": st.one_of(st.sampled_from(["STOP", "START", "HELP"]), st.text(max_size=10)),
           }))
    def run(path, form):
        sig = validator.compute_signature(PUBLIC_BASE_URL + path, form)
        check(world, lambda c: c.post(path, data=form, headers={"X-Twilio-Signature": sig}))

    run()


def test_fuzz_rpc(world):
    db = world["db"]
    functions = {r["proname"]: [n for n in (r["args"] or []) if n] for r in db.execute(
        "SELECT p.proname, p.proargnames AS args FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'api' AND has_function_privilege('voxbook_api', p.oid, 'EXECUTE')")}
    assert "check_availability" in functions

    @FUZZ
    @given(name=st.one_of(st.sampled_from(sorted(functions)), st.text(string.ascii_letters + string.digits + "_-.~%",
                                                                      min_size=1, max_size=70)), data=st.data())
    def run(name, data):
        params = functions.get(name, ["org_id"])
        keys = data.draw(st.lists(st.sampled_from(params + ["org_id", "bogus"]), unique=True, max_size=6))
        args = {k: data.draw(st.one_of(st.just(world["org"]) if k == "org_id" else scalars, scalars, json_values))
                for k in keys}
        r = check(world, lambda c: c.post(f"/rpc/{name}", json=args, headers={"Authorization": f"Bearer {ADMIN}"}))
        if r.status_code >= 400 and r.headers.get("content-type", "").startswith("application/json"):
            code = r.json().get("code")
            # ours (VB...), PostgREST's own (PGRST...) or a caller's mistake PostgreSQL refused (22..., 42883)
            assert code.startswith(("VB", "PGRST", "22", "42883")), code

    run()


def test_a_refused_tool_call_wrote_nothing_and_an_accepted_one_did(world):
    """The fuzzers' "nothing written" check can fail: a real reserve adds a hold."""
    c, db = world["client"], world["db"]
    slot = json.loads(c.post("/vapi/webhook", headers=AUTH, json=tool_calls(world["phone"], [
        tc("fz-a-" + secrets.token_hex(3), "check_availability", {"date": day(50)})])).json()["results"][0]["result"])
    before = counts(db)
    r = c.post("/vapi/webhook", headers=AUTH, json=tool_calls(world["phone"], [
        tc("fz-r-" + secrets.token_hex(3), "reserve_atomic", {"slotId": slot["slots"][0]["time"],
                                                               "calendarId": slot["slots"][0]["calendarId"],
                                                               "patientName": "Fuzz Control"})]))
    assert "result" in r.json()["results"][0]
    assert counts(db)["holds"] == before["holds"] + 1
    r = check(world, lambda c: c.post("/vapi/webhook", headers=AUTH, json=tool_calls(world["phone"], [
        tc("fz-r2-" + str(uuid.uuid4()), "reserve_atomic", {"slotId": "not a time", "calendarId": "cal-a",
                                                             "patientName": "Fuzz"})])))
    assert "error" in r.json()["results"][0]

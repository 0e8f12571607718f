"""Whatever arrives, the adapter answers 4xx or a per-call error, never 500, and writes nothing."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voxbook.api.vapi_tools import TOOLS
from clinic_helpers import new_clinic
from vapi_helpers import AUTH, MAX_BODY, day, first_slot, results, single_line, tc, tool_calls, written

JSON = {**AUTH, "content-type": "application/json"}
BOOKING_TABLES = ("holds", "appointments", "contacts", "sms_outbox", "calls", "hot_lead_alerts")


def booking_rows(db, org: str) -> dict[str, int]:
    counts = written(db, org)
    return {t: counts[t] for t in BOOKING_TABLES}


@pytest.fixture(scope="module")
def clinic(db_module):
    return new_clinic(db_module)


@pytest.fixture(scope="module")
def db_module(database_url):
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        yield conn


@pytest.mark.parametrize("body", [
    b"", b"{", b"not json", b"\xff\xfe", b"[]", b'"text"', b"42", b"null", b"[" * 5000 + b"]" * 5000,
    b"{}", b'{"message": null}', b'{"message": []}', b'{"message": {}}', b'{"message": {"type": 5}}',
    b'{"message": {"type": "tool-calls"}}', b'{"message": {"type": "tool-calls", "toolCallList": []}}',
    b'{"message": {"type": "tool-calls", "toolCallList": {"id": "x"}}}',
    b'{"message": {"type": "tool-calls", "toolCallList": ["x"]}}',
    b'{"message": {"type": "tool-calls", "toolCallList": [{"id": "x", "function": "reserve_atomic"}]}}',
    b'{"message": {"type": "tool-calls", "toolCallList": [{"id": [1], "function": {"name": "x"}}]}}',
    b'{"message": {"type": "tool-calls", "phoneNumber": "+15551234567", "toolCallList": [{"id": "x"}]}}',
    b'{"message": {"type": "no-such-type"}}', b'{"message": {"type": "voice-request"}}',
    b'{"message": {"type": "end-of-call-report"}}',
    b'{"message": {"type": "end-of-call-report", "call": {"id": "x"}, "phoneNumber": {"number": "+15550000001"}}}',
], ids=lambda b: b[:40].decode("latin-1"))
def test_malformed_bodies_get_a_4xx(client, body):
    r = client.post("/vapi/webhook", content=body, headers=JSON)
    assert 400 <= r.status_code < 500, (body[:80], r.status_code, r.text)
    r = client.post("/api/vapi/tools/booking/reserve-atomic", content=body, headers=JSON)
    assert 400 <= r.status_code < 500, (body[:80], r.status_code, r.text)


def test_wrong_content_type_oversized_body_and_wrong_method(client, clinic, db_module):
    org, phone = clinic
    payload = json.dumps(tool_calls(phone, [tc("ct", "check_availability", {"date": day()})])).encode()
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        headers = {**AUTH, **({"content-type": ctype} if ctype else {})}
        assert client.post("/vapi/webhook", content=payload, headers=headers).status_code == 415, ctype
    assert client.post("/vapi/webhook", content=payload,
                       headers={**AUTH, "content-type": "application/json; charset=utf-8"}).status_code == 200

    big = json.dumps(tool_calls(phone, [tc("big", "reserve_atomic", {"patientName": "x" * MAX_BODY})])).encode()
    assert client.post("/vapi/webhook", content=big, headers=JSON).status_code == 413
    assert client.get("/vapi/webhook", headers=AUTH).status_code == 405
    assert booking_rows(db_module, org) == dict.fromkeys(BOOKING_TABLES, 0)


def test_bad_arguments_are_per_call_errors_and_write_nothing(client, clinic, db_module):
    org, phone = clinic
    slot = first_slot(client, phone)
    good = {"slotId": slot["time"], "calendarId": slot["calendarId"], "patientName": "Fay"}
    cases = [
        ({**good, "slotId": {"at": 1}}, "slotId must be a single value"),
        ({**good, "slotId": ["2030-01-01T10:00:00Z"]}, "slotId must be a single value"),
        ({**good, "slotId": "tomorrow at ten"}, "timestamp"),
        ({**good, "slotId": "2001-01-01T15:00:00Z"}, "slot is in the past"),
        ({**good, "slotId": slot["time"].replace(":00:00Z", ":07:00Z").replace(":30:00Z", ":07:00Z")}, "grid"),
        ({**good, "calendarId": "cal-nope"}, "unknown calendar"),
        ({**good, "patientPhone": "12"}, "malformed phone number"),
        ({**good, "patientName": "A\u0000B"}, "NUL"),
        ({**good, "service": "brain surgery"}, "unknown service"),
        ({"calendarId": "cal-a", "patientName": "x"}, "slotId is required"),
        ({**good, "slotId": "  "}, "slotId is required"),
    ]
    before = written(db_module, org)
    calls = [tc(f"bad-{i}", "reserve_atomic", args) for i, (args, _) in enumerate(cases)]
    items = results(client.post("/vapi/webhook", json=tool_calls(phone, calls), headers=AUTH))
    for item, (_, expected) in zip(items, cases, strict=True):
        assert expected in item["error"], item
        assert single_line(item)
    # and without a toolCallId, even a good call does nothing
    [item] = results(client.post("/vapi/webhook", json=tool_calls(phone, [tc(None, "reserve_atomic", good)]),
                                 headers=AUTH))
    assert "toolCallId is missing" in item["error"]
    assert written(db_module, org) == before
    assert booking_rows(db_module, org) == dict.fromkeys(BOOKING_TABLES, 0)


@pytest.mark.parametrize("tool,args,expected", [
    ("check_availability", {"date": "2026-02-30"}, "date"),
    ("check_availability", {"date": day(), "days": "many"}, "integer"),
    ("check_availability", {"date": day(), "days": 999}, "days must be between"),
    ("send_otp_code", {"holdId": "abc"}, "uuid"),
    ("send_otp_code", {"holdId": "00000000-0000-0000-0000-000000000000"}, "unknown hold"),
    ("verify_otp", {"holdId": "00000000-0000-0000-0000-000000000000"}, "providedOTP is required"),
    ("send_confirmation_sms", {"appointmentId": 12}, "uuid"),
    ("cancel_appointment", {}, "appointmentId is required"),
    ("reschedule_appointment", {"appointmentId": "00000000-0000-0000-0000-000000000000", "slotId": True},
     "timestamp"),
])
def test_mistyped_arguments(client, clinic, db_module, tool, args, expected):
    org, phone = clinic
    [item] = results(client.post("/vapi/webhook", json=tool_calls(phone, [tc("m", tool, args)]), headers=AUTH))
    assert expected in item["error"], item
    assert booking_rows(db_module, org) == dict.fromkeys(BOOKING_TABLES, 0)


def test_end_of_call_report_with_bad_fields_is_refused_and_not_stored(client, clinic, db_module):
    org, phone = clinic
    base = {"type": "end-of-call-report", "endedReason": "hangup", "call": {"id": "eocr-bad"},
            "phoneNumber": {"number": phone}, "artifact": {}, "analysis": {}}
    for extra, status in [
        ({"analysis": {"structuredData": [1, 2]}}, 400),
        ({"call": {}}, 400),
        ({"phoneNumber": {"number": "+15550000002"}}, 404),
        ({"artifact": "not an object"}, 400),
    ]:
        r = client.post("/vapi/webhook", json={"message": {**base, **extra}}, headers=AUTH)
        assert r.status_code == status, (extra, r.text)
    assert booking_rows(db_module, org) == dict.fromkeys(BOOKING_TABLES, 0)


def test_end_of_call_report_with_nonsense_values_is_still_stored(client, clinic, db_module):
    """The report is the lead: times that are not times (or an end before the start, or infinity) are stored
    as unknown, and a NUL character, which PostgreSQL's text cannot hold, is dropped; never refused."""
    org, phone = clinic
    base = {"type": "end-of-call-report", "endedReason": "hangup", "phoneNumber": {"number": phone},
            "artifact": {}, "analysis": {}}
    cases = {
        "eocr-t1": {"startedAt": "yesterday-ish"},
        "eocr-t2": {"startedAt": "2026-01-01T10:10:00Z", "endedAt": "2026-01-01T10:00:00Z"},
        "eocr-t3": {"startedAt": "infinity", "endedAt": "-infinity"},
        "eocr-t4": {"startedAt": "0001-01-01T00:00:00Z", "endedAt": 1e300},
        "eocr-t5": {"artifact": {"transcript": "hello\u0000there"},
                    "analysis": {"structuredData": {"service": "x\u0000"}, "summary": "s\u0000"}},
    }
    for call_id, extra in cases.items():
        r = client.post("/vapi/webhook", json={"message": {**base, "call": {"id": call_id}, **extra}}, headers=AUTH)
        assert r.status_code == 200, (extra, r.text)
    rows = {r["vapi_call_id"]: r for r in db_module.execute(
        "SELECT vapi_call_id, started_at, ended_at, transcript, summary FROM voxbook.calls WHERE org_id = %s",
        [org]).fetchall()}
    assert set(rows) == set(cases)
    assert rows["eocr-t2"]["started_at"] is not None and rows["eocr-t2"]["ended_at"] is None
    assert all(rows[k]["started_at"] is None and rows[k]["ended_at"] is None for k in ("eocr-t1", "eocr-t3", "eocr-t4"))
    assert rows["eocr-t5"]["transcript"] == "hellothere" and rows["eocr-t5"]["summary"] == "s"
    db_module.execute("DELETE FROM voxbook.calls WHERE org_id = %s", [org])


def test_end_of_call_report_from_a_withheld_number_is_kept(client, clinic, db_module):
    """A caller who hides their number is still a call (and maybe a lead): stored with no number."""
    org, phone = clinic
    r = client.post("/vapi/webhook", headers=AUTH, json={"message": {
        "type": "end-of-call-report", "endedReason": "hangup", "call": {"id": "eocr-anonymous", "customer": {"number": "anonymous"}},
        "phoneNumber": {"number": phone}, "artifact": {}, "analysis": {}}})
    assert r.status_code == 200, r.text
    row = db_module.execute(
        "SELECT customer_phone FROM voxbook.calls WHERE org_id = %s AND vapi_call_id = 'eocr-anonymous'", [org]
    ).fetchone()
    assert row is not None and row["customer_phone"] is None
    db_module.execute("DELETE FROM voxbook.calls WHERE org_id = %s AND vapi_call_id = 'eocr-anonymous'", [org])


def test_openapi_schema_lists_the_endpoints(client):
    r = client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert {"/vapi/webhook", "/rpc/{function}", "/api/vapi/tools/booking/reserve-atomic", "/health"} <= paths.keys()


# -- fuzzing ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
ARG_NAMES = sorted({n for t in TOOLS.values() for n in t.accepted_names()})
arg_values = json_values | st.sampled_from(["2026-01-15T15:00:00Z", "cal-a", "00000000-0000-0000-0000-000000000000",
                                            "+15551234567", "1234", "tomorrow", "", " ", "\u0000", "9" * 40])
arguments = st.dictionaries(st.sampled_from(ARG_NAMES) | st.text(max_size=8), arg_values, max_size=6)
tool_names = st.sampled_from(list(TOOLS)) | st.text(max_size=12)


@st.composite
def tool_call_items(draw):
    form = draw(st.sampled_from(["function", "string", "flat", "junk"]))
    if form == "junk":
        return draw(json_values)
    args = draw(arguments | st.text(max_size=20))
    item = tc(draw(st.none() | st.text(max_size=12)), draw(tool_names), args,
              form="flat" if form == "flat" else "function")
    return item


@st.composite
def messages(draw, phone):
    kind = draw(st.sampled_from(["tool-calls", "tool-calls", "tool-calls", "end-of-call-report", "status-update",
                                 "assistant-request", "?"]).flatmap(
        lambda k: st.text(max_size=12) if k == "?" else st.just(k)))
    junk = st.dictionaries(st.sampled_from(
        ["call", "phoneNumber", "customer", "artifact", "analysis", "startedAt", "endedAt", "timestamp",
         "toolCalls", "assistant", "endedReason"]), json_values, max_size=3)
    msg = {"type": kind, **draw(st.sampled_from([False, False, True]).flatmap(
        lambda mess: junk if mess else st.just({})))}
    if draw(st.booleans()):
        msg["call"] = {"id": draw(st.text(max_size=8)), "customer": {"number": draw(st.sampled_from(
            ["+15557654321", "anonymous", ""]))}}
    if draw(st.booleans()):
        msg["phoneNumber"] = {"number": draw(st.sampled_from([phone, "+15550000003", "x"]))}
    if kind == "tool-calls" or draw(st.booleans()):
        msg[draw(st.sampled_from(["toolCallList", "toolCalls"]))] = draw(st.lists(tool_call_items(), max_size=4))
    return msg if draw(st.sampled_from(["wrapped"] * 9 + ["bare"])) == "bare" else {"message": msg}


def test_fuzz_webhook_never_fails_and_never_books(client, clinic, db_module):
    org, phone = clinic

    @settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(payload=messages(phone))
    def run(payload):
        r = client.post("/vapi/webhook", content=json.dumps(payload).encode(), headers=JSON)
        assert r.status_code in (200, 400, 404), (r.status_code, r.text)
        if r.status_code == 200 and "results" in r.json():
            items = r.json()["results"]
            assert all(single_line(i) and ("result" in i) != ("error" in i) for i in items)

    run()
    rows = booking_rows(db_module, org)
    # Fuzzed end-of-call reports may legitimately be stored; nothing else is booked, held or texted.
    assert {k: v for k, v in rows.items() if k not in ("calls", "hot_lead_alerts", "sms_outbox")} == \
        {"holds": 0, "appointments": 0, "contacts": 0}
    assert db_module.execute("SELECT count(*) AS n FROM voxbook.sms_outbox WHERE org_id = %s AND kind <> 'hot_lead'",
                             [org]).fetchone()["n"] == 0


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(body=st.binary(max_size=300) | st.text(max_size=200).map(str.encode),
       path=st.sampled_from(["/vapi/webhook", "/api/vapi/tools/calendar/check", "/api/vapi/tools/booking/verify-otp"]))
def test_fuzz_raw_bytes(client, body, path):
    r = client.post(path, content=body, headers=JSON)
    assert r.status_code < 500, r.text


# -- issue 10, item 9: bodies Python's json module accepted and nothing after it could handle -------------

ADMIN_JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("value", [
    b'"\\ud800"',                 # a lone UTF-16 surrogate, escaped: psycopg cannot encode it
    b'"ok \\udfff then"',
    b'"\xed\xa0\x80"',            # the same surrogate as raw (invalid) UTF-8 bytes
    b"1" + b"0" * 4400,           # over Python's 4,300-digit int/str limit
    b"NaN", b"Infinity", b"1e999",
], ids=["escaped-high", "escaped-low", "raw-bytes", "huge-int", "nan", "infinity", "overflow"])
def test_invalid_unicode_and_huge_numbers_are_a_400_everywhere(client, clinic, db_module, value):
    from vapi_helpers import ADMIN
    org, phone = clinic
    before = booking_rows(db_module, org)
    phone_json = json.dumps(phone).encode()
    report = (b'{"message": {"type": "end-of-call-report", "call": {"id": "eocr-unicode"}, "phoneNumber": {"number": '
              + phone_json + b'}, "artifact": {"transcript": ' + value + b'}}}')
    tool = (b'{"message": {"type": "tool-calls", "phoneNumber": {"number": ' + phone_json + b'}, "toolCallList": '
            b'[{"id": "uni-1", "function": {"name": "check_availability", "arguments": {"date": ' + value + b'}}}]}}')
    seed = b'{"toolCall": {"arguments": {"date": ' + value + b'}}, "phoneNumber": {"number": ' + phone_json + b'}}'
    status = b'{"message": {"type": "status-update", "status": ' + value + b'}}'
    for path, body in [("/vapi/webhook", report), ("/vapi/webhook", tool), ("/vapi/webhook", status),
                       ("/api/vapi/tools/calendar/check", seed)]:
        r = client.post(path, content=body, headers=JSON)
        assert r.status_code == 400, (path, r.status_code, r.text)
    r = client.post("/rpc/check_availability", headers={**ADMIN_JSON, "Authorization": f"Bearer {ADMIN}"},
                    content=b'{"org_id": "' + org.encode() + b'", "date": ' + value + b'}')
    assert r.status_code == 400, r.text
    # ... and inside a tool call's arguments sent as a JSON string: that call's error, not a 500
    args = json.dumps({"date": "x"}).replace('"x"', value.decode("latin-1"))
    r = client.post("/vapi/webhook", headers=AUTH, json=tool_calls(phone, [tc("uni-2", "check_availability", args)]))
    if r.status_code == 200:
        assert "error" in results(r)[0]
    else:
        assert r.status_code == 400   # the raw-bytes case is not a valid JSON string to begin with
    assert booking_rows(db_module, org) == before


def test_an_oversized_end_of_call_report_is_stored(client, clinic, db_module):
    """A call id over 200 characters and a hot lead whose alert would pass 1,600 characters were a 500 on
    every retry: the call and its lead were lost. Now stored, the fields cut in the database."""
    org, phone = clinic
    long_id = "eocr-long-" + "x" * 250
    r = client.post("/vapi/webhook", headers=AUTH, json={"message": {
        "type": "end-of-call-report", "endedReason": "customer-ended-call",
        "call": {"id": long_id, "customer": {"number": "+15557651111"}}, "phoneNumber": {"number": phone},
        "startedAt": "2030-01-01T10:00:00Z", "endedAt": "2030-01-01T10:08:00Z",
        "artifact": {"transcript": "How much is it? Do you take insurance? " * 500},
        "analysis": {"structuredData": {"patientName": "Maximilian " * 300, "sentiment": "positive"}}}})
    assert r.status_code == 200, r.text
    assert r.json()["hot"] is True
    row = db_module.execute(
        "SELECT length(c.vapi_call_id) AS id_len, length(m.body) AS alert_len FROM voxbook.calls AS c "
        "JOIN voxbook.hot_lead_alerts AS a ON a.org_id = c.org_id AND a.call_id = c.id "
        "JOIN voxbook.sms_outbox AS m ON m.org_id = a.org_id AND m.id = a.sms_id "
        "WHERE c.org_id = %s AND c.id = %s", [org, r.json()["callId"]]).fetchone()
    assert row["id_len"] == 200 and row["alert_len"] <= 1600
    again = client.post("/vapi/webhook", headers=AUTH, json={"message": {
        "type": "end-of-call-report", "call": {"id": long_id}, "phoneNumber": {"number": phone}}})
    assert again.status_code == 200 and again.json()["duplicate"] is True
    db_module.execute("DELETE FROM voxbook.hot_lead_alerts WHERE org_id = %s", [org])
    db_module.execute("DELETE FROM voxbook.sms_outbox WHERE org_id = %s AND kind = 'hot_lead'", [org])
    db_module.execute("DELETE FROM voxbook.calls WHERE org_id = %s", [org])


def test_body_limits_are_sized_for_real_calls(app_database_url, clinic, db_module):
    """Vapi resends the whole conversation in every tool-calls message: one of 1 MiB (a long call) is
    answered, as it is under the default MAX_BODY_BYTES (8 MiB); other endpoints keep a small limit."""
    from litestar.testing import TestClient

    from voxbook.api.app import create_app
    from vapi_helpers import ADMIN, settings_for
    from voxbook.settings import Settings

    org, phone = clinic
    defaults = Settings()
    assert defaults.max_body_bytes >= 8 * 1024 * 1024 and defaults.max_other_body_bytes <= 256 * 1024
    s = settings_for(app_database_url, max_body_bytes=defaults.max_body_bytes,
                     max_other_body_bytes=defaults.max_other_body_bytes)
    with TestClient(create_app(s)) as c:
        payload = tool_calls(phone, [tc("big-1", "check_availability", {"date": day()})])
        turn = {"role": "user", "message": "Could you look at Tuesday afternoon instead? " * 20}
        payload["message"]["artifact"]["messages"] = [turn] * 1200
        body = json.dumps(payload).encode()
        assert len(body) > 1024 * 1024
        r = c.post("/vapi/webhook", content=body, headers=JSON)
        assert r.status_code == 200 and "result" in results(r)[0]
        big = json.dumps({"org_id": org, "date": day(), "calendar_id": "x" * (300 * 1024)}).encode()
        r = c.post("/rpc/check_availability", content=big,
                   headers={**ADMIN_JSON, "Authorization": f"Bearer {ADMIN}"})
        assert r.status_code == 413
        r = c.post("/vapi/webhook", content=b" " * (defaults.max_body_bytes + 1), headers=JSON)
        assert r.status_code == 413

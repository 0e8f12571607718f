"""Who gets in: Vapi's secret header, Bearer or HMAC for the webhooks; the admin token for /rpc.
A refused request does nothing at all."""

from __future__ import annotations

import json
import logging
import time

import pytest
from litestar.testing import TestClient

from voxbook.api.app import create_app
from voxbook.api.auth import hmac_signature
from clinic_helpers import new_clinic
from vapi_helpers import (
    ADMIN,
    AUTH,
    HMAC_KEY,
    SECRET,
    day,
    first_slot,
    result_of,
    results,
    settings_for,
    tc,
    tool_calls,
    written,
)


def _reserve(phone: str, slot: dict) -> bytes:
    return json.dumps(tool_calls(phone, [tc("auth-1", "reserve_atomic", {
        "slotId": slot["time"], "calendarId": slot["calendarId"], "patientName": "Eve"})])).encode()


def _signed(body: bytes, ts: str | None = None, key: str = HMAC_KEY) -> dict[str, str]:
    ts = ts or str(int(time.time() * 1000))
    return {"x-timestamp": ts, "x-signature": hmac_signature(key, ts, body), "content-type": "application/json"}


@pytest.mark.parametrize("headers", [
    {},
    {"X-Vapi-Secret": "wrong"},
    {"X-Vapi-Secret": ""},
    {"X-Vapi-Secret": SECRET[:-1]},
    {"Authorization": "Bearer wrong"},
    {"Authorization": SECRET},
    {"Authorization": f"Basic {SECRET}"},
    {"Authorization": f"Bearer {ADMIN}"},
    {"X-Vapi-Secret": "sécret\u00ff".encode("latin-1")},
], ids=["none", "wrong", "empty", "prefix", "bearer-wrong", "no-scheme", "basic", "admin-token", "non-ascii"])
def test_wrong_credentials_get_401_and_change_nothing(client, db, headers):
    org, phone = new_clinic(db)
    slot = first_slot(client, phone)
    before = written(db, org)
    for path in ("/vapi/webhook", "/api/vapi/tools/booking/reserve-atomic"):
        r = client.post(path, content=_reserve(phone, slot), headers={**headers, "content-type": "application/json"})
        assert r.status_code == 401, (path, r.text)
    assert written(db, org) == before


def test_secret_header_and_bearer_are_accepted(client, db):
    org, phone = new_clinic(db)
    slot = first_slot(client, phone)
    r = client.post("/vapi/webhook", content=_reserve(phone, slot),
                    headers={"Authorization": f"bearer {SECRET}", "content-type": "application/json"})
    assert result_of(results(r)[0])["success"] is True
    r = client.post("/vapi/webhook", json={"message": {"type": "status-update"}}, headers=AUTH)
    assert r.status_code == 200


def test_hmac_signatures(client, db):
    org, phone = new_clinic(db)
    slot = first_slot(client, phone)
    body = _reserve(phone, slot)
    stale = str(int(time.time()) - 3600)
    refused = [
        _signed(body, key="other-key"),
        _signed(body, ts=stale),
        {**_signed(body), "x-signature": "sha256=" + "0" * 64},
        {k: v for k, v in _signed(body).items() if k != "x-timestamp"},
        {**_signed(body), "x-timestamp": "yesterday"},
    ]
    for headers in refused:
        assert client.post("/vapi/webhook", content=body, headers=headers).status_code == 401
    # the signature covers the exact bytes: the same JSON re-serialised is not signed
    assert client.post("/vapi/webhook", content=body + b" ", headers=_signed(body)).status_code == 401
    assert written(db, org)["holds"] == 0

    r = client.post("/vapi/webhook", content=body, headers=_signed(body))
    assert result_of(results(r)[0])["success"] is True
    headers = _signed(body, ts=str(int(time.time())))
    headers["x-signature"] = "sha256=" + headers["x-signature"].upper()
    assert client.post("/vapi/webhook", content=body, headers=headers).status_code == 200


def test_unset_secret_refuses_everyone(app_database_url, db):
    org, phone = new_clinic(db)
    app = create_app(settings_for(app_database_url, vapi_secret=None, vapi_hmac_secret=None, admin_token=None))
    with TestClient(app) as c:
        for headers in ({}, {"X-Vapi-Secret": ""}, {"Authorization": "Bearer "}, {"X-Vapi-Secret": "None"}):
            r = c.post("/vapi/webhook", json=tool_calls(phone, [tc("u", "check_availability", {"date": day()})]),
                       headers=headers)
            assert r.status_code == 401
        r = c.post("/rpc/get_organization", json={"org_id": org}, headers={"Authorization": "Bearer "})
        assert r.status_code == 403 and "disabled" in r.text


def test_secrets_bodies_and_numbers_stay_out_of_logs(client, db, caplog):
    org, phone = new_clinic(db)
    caplog.set_level(logging.DEBUG)
    slot = first_slot(client, phone)
    client.post("/vapi/webhook", content=_reserve(phone, slot), headers={"X-Vapi-Secret": "not-" + SECRET,
                                                                        "content-type": "application/json"})
    client.post("/vapi/webhook", content=_reserve(phone, slot), headers={**AUTH, "content-type": "application/json"})
    client.post("/vapi/webhook", content=b'{"message": {"type": "tool-calls", "toolCallList": "+15557654321"}}',
                headers={**AUTH, "content-type": "application/json"})
    text = "\n".join(r.getMessage() for r in caplog.records)
    for needle in (SECRET, phone, "+15557654321", "Eve", slot["time"]):
        assert needle not in text


def test_rpc_needs_the_admin_token(client, db):
    org, _ = new_clinic(db)
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Bearer {SECRET}"}, AUTH):
        r = client.post("/rpc/get_organization", json={"org_id": org}, headers=headers)
        assert r.status_code == 401
    r = client.post("/rpc/get_organization", json={"org_id": org}, headers={"Authorization": f"Bearer {ADMIN}"})
    assert r.status_code == 200 and r.json()["org_id"] == org


def test_rpc_calls_only_api_functions_with_named_arguments(client, db):
    org, _ = new_clinic(db)
    admin = {"Authorization": f"Bearer {ADMIN}"}

    r = client.post("/rpc/check_availability", json={"org_id": org, "date": day(), "max_slots": 2, "days": "1"},
                    headers=admin)
    assert r.status_code == 200 and len(r.json()["slots"]) == 2

    r = client.post("/rpc/record_call_end", json={"org_id": org, "call_id": "rpc-call", "duration_seconds": 30,
                                                  "structured_data": {"sentiment": "positive"}}, headers=admin)
    assert r.status_code == 200 and r.json()["score"] == 15

    r = client.post("/rpc/expire_stale_holds", headers=admin)   # no body: no arguments
    assert r.status_code == 200 and r.json()["success"] is True

    for name in ("clock", "fail", "normalize_phone", "pg_sleep", "version", "Get_Organization", "a;b", "x" * 70):
        r = client.post(f"/rpc/{name}", json={}, headers=admin)
        assert r.status_code == 404, name

    cases = [
        ({"org_id": "not-a-uuid"}, 400, "uuid"),
        ({"org_id": "00000000-0000-0000-0000-000000000000"}, 404, "unknown organization"),
        ({"org_id": org, "bogus": 1}, 404, "PGRST202"),   # PostgREST's "no such function with these arguments"
        ({}, 404, "PGRST202"),
        ({"org_id": [1, 2]}, 400, "22P02"),
        ({"org_id": "\u0000"}, 400, "NUL"),
    ]
    for args, status, text in cases:
        r = client.post("/rpc/get_organization", json=args, headers=admin)
        assert r.status_code == status, (args, r.text)
        if text:
            assert text in r.text
    r = client.post("/rpc/get_organization", content=b"[1]", headers={**admin, "content-type": "application/json"})
    assert r.status_code == 400
    r = client.post("/rpc/get_organization", content=b"org_id=1", headers={**admin, "content-type": "text/plain"})
    assert r.status_code == 415

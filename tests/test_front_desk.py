"""A human when needed, over HTTP in Vapi's wire format: the transferCall tool in the generated assistant, the
transfer-destination-request answered with the clinic's front desk while it is open, an after-hours request
recorded and texted once, a failed transfer reported by Vapi recorded once."""

from __future__ import annotations

import json

import pytest

from clinic_helpers import new_clinic
from conftest import run_cli
from vapi_helpers import AUTH, tool_calls

FRONT_DESK = "+15557770001"
CALLER = "+15557654321"

# CreateTransferCallToolDTO's properties in Vapi's OpenAPI spec (VapiAI/docs fern/apis/api/openapi.json).
TRANSFER_TOOL_KEYS = {"type", "messages", "destinations", "rejectionPlan"}


def _message(kind: str, phone: str, vapi_call: str, **fields) -> dict:
    msg = tool_calls(phone, [], vapi_call=vapi_call, caller=CALLER)["message"]
    msg.pop("toolCallList", None)
    msg.update(type=kind, **fields)
    return {"message": msg}


def _hours(db, org: str, open_all_day: bool) -> None:
    db.execute("DELETE FROM voxbook.working_hours WHERE org_id = %s", (org,))
    if open_all_day:
        db.execute("INSERT INTO voxbook.working_hours (org_id, calendar_id, iso_dow, starts, ends) "
                   "SELECT %s, 'cal-a', d, '00:00', '24:00' FROM generate_series(1, 7) AS d", (org,))
    db.execute("UPDATE voxbook.organizations SET front_desk_phone = %s WHERE id = %s", (FRONT_DESK, org))


def _requests(db, org: str) -> list[dict]:
    return db.execute("SELECT * FROM voxbook.callback_requests WHERE org_id = %s ORDER BY created_at", (org,)).fetchall()


def _front_desk_texts(db, org: str) -> list[dict]:
    return db.execute("SELECT * FROM voxbook.sms_outbox WHERE org_id = %s AND recipient = %s", (org, FRONT_DESK)).fetchall()


def test_the_assistant_carries_the_transfer_tool_and_asks_for_its_destination():
    res = run_cli("vapi-config", "--base-url", "https://voxbook.example.com", "--clinic", "Smile Dental",
                  database_url=None)
    assert res.returncode == 0, res.stderr
    config = json.loads(res.stdout)
    [transfer] = [t for t in config["model"]["tools"] if t["type"] == "transferCall"]
    assert set(transfer) <= TRANSFER_TOOL_KEYS
    assert "destinations" not in transfer   # Vapi asks the server: the clinic's number, at call time
    assert "transfer-destination-request" in config["serverMessages"]
    assert "status-update" in config["serverMessages"] and "end-of-call-report" in config["serverMessages"]
    prompt = config["model"]["messages"][0]["content"]
    assert "transferCall" in prompt and "emergency" in prompt
    es = json.loads(run_cli("vapi-config", "--base-url", "https://voxbook.example.com", "--locale", "es-MX",
                            database_url=None).stdout)
    assert "transferCall" in es["model"]["messages"][0]["content"]


def test_an_open_clinic_transfers_to_its_front_desk(client, db):
    org, phone = new_clinic(db)
    _hours(db, org, open_all_day=True)
    r = client.post("/vapi/webhook", json=_message("transfer-destination-request", phone, "call-fd-open"), headers=AUTH)
    assert r.status_code == 200
    body = r.json()
    assert body["destination"]["type"] == "number" and body["destination"]["number"] == FRONT_DESK
    assert "front desk" in body["destination"]["message"]
    assert _requests(db, org) == []

    # Vapi reports that the transfer failed: once per call, whichever message says it first.
    for kind in ("status-update", "end-of-call-report", "status-update"):
        fields = {"endedReason": "call.in-progress.error-transfer-failed", "status": "ended"}
        if kind == "end-of-call-report":
            fields.update(artifact={"messages": []}, analysis={})
        r = client.post("/vapi/webhook", json=_message(kind, phone, "call-fd-open", **fields), headers=AUTH)
        assert r.status_code == 200, r.text
    [req] = _requests(db, org)
    assert (req["kind"], req["phone"], req["vapi_call_id"], req["status"]) == ("transfer_failed", CALLER, "call-fd-open", "open")
    [text] = _front_desk_texts(db, org)
    assert "transfer" in text["body"] and "(555) 765-4321" in text["body"]


def test_after_hours_a_callback_request_is_recorded_and_texted_once(client, db):
    org, phone = new_clinic(db)
    _hours(db, org, open_all_day=False)   # no hours at all: closed now, whatever the time
    for _ in range(2):   # Vapi retries; the model may try twice
        r = client.post("/vapi/webhook", json=_message("transfer-destination-request", phone, "call-fd-late"),
                        headers=AUTH)
        assert r.status_code == 200
        assert "destination" not in r.json()
        assert r.json()["error"].startswith("The front desk is closed right now")
    [req] = _requests(db, org)
    assert (req["kind"], req["phone"], req["vapi_call_id"]) == ("after_hours", CALLER, "call-fd-late")
    assert len(_front_desk_texts(db, org)) == 1
    # Staff see it through the api and close it.
    listed = db.execute("SELECT api.list_callback_requests(%s) AS j", (org,)).fetchone()["j"]
    assert [c["id"] for c in listed["callback_requests"]] == [str(req["id"])]
    done = db.execute("SELECT api.resolve_callback_request(%s, %s, 'ana') AS j", (org, req["id"])).fetchone()["j"]
    assert done["callback_request"]["status"] == "done"


def test_an_unknown_number_gets_a_spoken_refusal_not_an_error(client, db):
    r = client.post("/vapi/webhook", json=_message("transfer-destination-request", "+15550000001", "call-fd-x"),
                    headers=AUTH)
    assert r.status_code == 200 and "error" in r.json()


@pytest.mark.parametrize("reason", ["assistant-forwarded-call", "customer-ended-call"])
def test_a_call_that_ended_otherwise_records_nothing(client, db, reason):
    org, phone = new_clinic(db)
    r = client.post("/vapi/webhook", json=_message("status-update", phone, "call-fd-ok", endedReason=reason,
                                                   status="ended"), headers=AUTH)
    assert r.status_code == 200
    assert _requests(db, org) == []

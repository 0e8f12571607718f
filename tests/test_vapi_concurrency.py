"""Races through a real server: `voxbook serve` (uvicorn, uvloop, httptools) on 127.0.0.1, hit by an
async HTTP client with many requests in flight at once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest

from clinic_helpers import new_clinic
from vapi_helpers import AUTH, day, serve_process, tc, tool_calls


@pytest.fixture(scope="module")
def server(app_database_url: str) -> Iterator[str]:
    with serve_process(app_database_url) as base:
        yield base


async def _post_all(base: str, payloads: list[dict]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(payloads), max_keepalive_connections=len(payloads))
    async with httpx.AsyncClient(base_url=base, headers=AUTH, limits=limits, timeout=60) as client:
        return await asyncio.gather(*(client.post("/vapi/webhook", json=p) for p in payloads))


def _item(resp: httpx.Response) -> dict:
    assert resp.status_code == 200, resp.text
    [item] = resp.json()["results"]
    return item


def test_fifty_callers_race_for_one_slot(server, db):
    org, phone = new_clinic(db)
    avail = _item(httpx.post(server + "/vapi/webhook", headers=AUTH, json=tool_calls(
        phone, [tc("avail", "check_availability", {"date": day(50), "calendarId": "cal-a"})])))
    slot = json.loads(avail["result"])["slots"][0]
    payloads = [
        tool_calls(phone, [tc(f"race-{i}", "reserve_atomic", {
            "slotId": slot["time"], "calendarId": "cal-a", "patientName": f"Caller {i}"})],
            vapi_call=f"race-call-{i}", caller=f"+1555300{i:04d}")
        for i in range(50)
    ]
    responses = asyncio.run(_post_all(server, payloads))
    items = [_item(r) for r in responses]
    answers = [json.loads(i["result"]) for i in items]   # no call errored: each is a result

    winners = [a for a in answers if a["success"]]
    losers = [(i, a) for i, a in zip(items, answers, strict=True) if not a["success"]]
    assert len(winners) == 1 and len(losers) == 49
    for item, answer in losers:
        assert answer["code"] == "slot_taken" and answer["error"] == "Slot already held"
        text = item["message"]["content"]
        assert text.startswith("That time was just taken")
        assert "\n" not in text and "\n" not in item["result"]
    holds = db.execute("SELECT count(*) AS n, min(id::text) AS id FROM voxbook.holds WHERE org_id = %s AND status = 'held'",
                       [org]).fetchone()
    assert holds == {"n": 1, "id": winners[0]["holdId"]}


def test_a_tool_call_delivered_many_times_at_once_runs_once(server, db):
    org, phone = new_clinic(db)
    avail = _item(httpx.post(server + "/vapi/webhook", headers=AUTH, json=tool_calls(
        phone, [tc("avail", "check_availability", {"date": day(51)})])))
    slot = json.loads(avail["result"])["slots"][0]
    reserve = tool_calls(phone, [tc("dup-reserve", "reserve_atomic", {
        "slotId": slot["time"], "calendarId": slot["calendarId"], "patientName": "Gil"})], vapi_call="dup-call")
    items = [_item(r) for r in asyncio.run(_post_all(server, [reserve] * 10))]
    assert all(i == items[0] for i in items)
    hold_id = json.loads(items[0]["result"])["holdId"]

    code = tool_calls(phone, [tc("dup-code", "send_otp_code", {"holdId": hold_id})], vapi_call="dup-call")
    items = [_item(r) for r in asyncio.run(_post_all(server, [code] * 10))]
    assert all(i == items[0] for i in items)
    assert json.loads(items[0]["result"])["codeSent"] is True
    counts = db.execute(
        "SELECT (SELECT count(*) FROM voxbook.holds WHERE org_id = %(o)s) AS holds, "
        "(SELECT count(*) FROM voxbook.sms_outbox WHERE org_id = %(o)s AND kind = 'otp') AS codes, "
        "(SELECT otp_sends FROM voxbook.holds WHERE org_id = %(o)s) AS sends", {"o": org}).fetchone()
    assert counts == {"holds": 1, "codes": 1, "sends": 1}

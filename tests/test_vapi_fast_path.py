"""The tool-call hot path: one database statement per tool call (api.run_tool_call), the clinic cached
by dialled number, and the same answers and redelivery guarantees as the general path."""

from __future__ import annotations

import pytest

import api.vapi_tools as vapi_tools
from api.vapi_tools import ClinicCache
from vapi_helpers import (
    AUTH,
    client,  # noqa: F401 - fixture
    first_slot,
    new_clinic,
    result_of,
    results,
    spoken,
    tc,
    tool_calls,
    written,
)


def hook(client, payload):  # noqa: F811
    return client.post("/vapi/webhook", json=payload, headers=AUTH)


@pytest.fixture
def statements(monkeypatch) -> list[str]:
    """The api functions the adapter calls, in order."""
    seen: list[str] = []
    real = vapi_tools.call

    async def counting(conn, function, /, **kwargs):
        seen.append(function)
        return await real(conn, function, **kwargs)

    monkeypatch.setattr(vapi_tools, "call", counting)
    return seen


def _reserve(slot: dict, name: str = "Ann") -> dict:
    return {"slotId": slot["time"], "calendarId": slot["calendarId"], "patientName": name}


def test_a_reserve_is_one_statement_once_the_clinic_is_known(client, db, statements):  # noqa: F811
    org, phone = new_clinic(db)
    slot = first_slot(client, phone)
    assert statements == ["find_organization", "run_tool_call"]   # the availability check
    statements.clear()
    first = results(hook(client, tool_calls(phone, [tc("fp-r", "reserve_atomic", _reserve(slot))])))
    assert statements == ["run_tool_call"]
    assert result_of(first[0])["success"] is True and spoken(first[0]).startswith("I've held ")

    statements.clear()
    again = results(hook(client, tool_calls(phone, [tc("fp-r", "reserve_atomic", _reserve(slot))])))
    assert statements == ["run_tool_call"] and again == first
    assert written(db, org)["holds"] == 1
    stored = db.execute("SELECT response FROM voxbook.tool_calls WHERE org_id = %s AND tool_call_id = 'fp-r'",
                        [org]).fetchone()["response"]
    assert stored["answer"]["hold_id"] == result_of(first[0])["holdId"]


def test_a_lost_race_takes_the_general_path_and_replays_byte_for_byte(client, db, statements):  # noqa: F811
    org, phone = new_clinic(db)
    slot = first_slot(client, phone, calendarId="cal-a")
    results(hook(client, tool_calls(phone, [tc("fp-w", "reserve_atomic", _reserve(slot))], vapi_call="w")))
    statements.clear()
    lost = hook(client, tool_calls(phone, [tc("fp-l", "reserve_atomic", _reserve(slot, "Bo"))], vapi_call="l",
                                   caller="+15557654399"))
    # Deferred by the database (nothing done), then lock, claim, other times, store, in one transaction.
    assert statements == ["run_tool_call", "begin_tool_call", "claim_slot_atomic", "check_availability",
                          "finish_tool_call"]
    [item] = results(lost)
    assert result_of(item)["code"] == "slot_taken" and result_of(item)["alternatives"]
    assert spoken(item).startswith("That time was just taken; I can offer ")

    statements.clear()
    again = hook(client, tool_calls(phone, [tc("fp-l", "reserve_atomic", _reserve(slot, "Bo"))], vapi_call="l",
                                    caller="+15557654399"))
    assert statements == ["run_tool_call"]
    assert again.content == lost.content
    assert written(db, org)["holds"] == 1 and written(db, org)["tool_calls"] == 3


def test_a_failed_call_stores_nothing_and_can_be_retried(client, db):  # noqa: F811
    org, phone = new_clinic(db)
    slot = first_slot(client, phone)
    bad = {**_reserve(slot), "calendarId": "cal-zzz"}
    [item] = results(hook(client, tool_calls(phone, [tc("fp-f", "reserve_atomic", bad)])))
    assert "unknown calendar" in item["error"]
    assert written(db, org)["tool_calls"] == 1 and written(db, org)["holds"] == 0
    [item] = results(hook(client, tool_calls(phone, [tc("fp-f", "reserve_atomic", _reserve(slot))])))
    assert result_of(item)["success"] is True


def test_a_missing_argument_still_sees_a_reused_id_first(client, db):  # noqa: F811
    org, phone = new_clinic(db)
    slot = first_slot(client, phone)
    results(hook(client, tool_calls(phone, [tc("fp-u", "reserve_atomic", _reserve(slot))])))
    [item] = results(hook(client, tool_calls(phone, [tc("fp-u", "send_otp_code", {})])))
    assert "another tool" in item["error"]
    [item] = results(hook(client, tool_calls(phone, [tc("fp-u2", "send_otp_code", {})])))
    assert item["error"] == "holdId is required"


def test_an_unknown_number_is_not_cached(client, db, statements):  # noqa: F811
    from vapi_helpers import unique_phone

    phone = unique_phone()
    payload = tool_calls(phone, [tc("fp-n", "check_availability", {"date": "2030-01-15"})])
    [item] = results(hook(client, payload))
    assert "no clinic for this call" in item["error"]
    db.execute("SELECT tests.create_clinic(phone => %s)", [phone])
    [item] = results(hook(client, payload))
    assert "error" not in item
    assert statements == ["find_organization", "find_organization", "run_tool_call"]


def test_clinic_cache_expires_and_is_bounded():
    now = [100.0]
    cache = ClinicCache(ttl=30, max_size=2, clock=lambda: now[0])
    cache.put("a", {"org_id": "A"})
    assert cache.get("a") == {"org_id": "A"}
    now[0] += 29.9
    assert cache.get("a") == {"org_id": "A"}
    now[0] += 0.1
    assert cache.get("a") is None
    cache.put("a", {"org_id": "A"})
    cache.put("b", {"org_id": "B"})
    cache.put("c", {"org_id": "C"})
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, {"org_id": "B"}, {"org_id": "C"})
    cache.clear()
    assert cache.get("b") is None

"""Every tool call is one database statement (api.run_tool_call), the clinic cached by dialled number;
a lost race included, and a replay is byte for byte the first answer."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import voxbook.api.vapi_tools as vapi_tools
from voxbook.api.vapi_tools import ClinicCache
from clinic_helpers import new_clinic, unique_phone
from vapi_helpers import AUTH, first_slot, result_of, results, spoken, tc, tool_calls, written


def hook(client, payload):
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


def test_a_reserve_is_one_statement_once_the_clinic_is_known(client, db, statements):
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


def test_a_lost_race_is_one_statement_and_replays_byte_for_byte(client, db, statements):
    org, phone = new_clinic(db)
    slot = first_slot(client, phone, calendarId="cal-a")
    results(hook(client, tool_calls(phone, [tc("fp-w", "reserve_atomic", _reserve(slot))], vapi_call="w")))
    statements.clear()
    lost = hook(client, tool_calls(phone, [tc("fp-l", "reserve_atomic", _reserve(slot, "Bo"))], vapi_call="l",
                                   caller="+15557654399"))
    # The refusal carries the other times (computed by the claim itself): no second protocol, no second claim.
    assert statements == ["run_tool_call"]
    [item] = results(lost)
    assert result_of(item)["code"] == "slot_taken" and len(result_of(item)["alternatives"]) == 2
    assert spoken(item).startswith("That time was just taken; I can offer ")
    stored = db.execute("SELECT response FROM voxbook.tool_calls WHERE org_id = %s AND tool_call_id = 'fp-l'",
                        [org]).fetchone()["response"]
    # Stored as answered: the result and the line said for it (worded in SQL from the message catalogue).
    assert stored == {"answer": stored["answer"], "spoken": spoken(item)} and stored["answer"]["code"] == "slot_taken"

    # The times offered are taken meanwhile: a replay still says what the first answer said, because its
    # words are a function of the stored result alone.
    for i, alt in enumerate(result_of(item)["alternatives"]):
        results(hook(client, tool_calls(phone, [tc(f"fp-t{i}", "reserve_atomic", {
            "slotId": alt["time"], "calendarId": alt["calendarId"], "patientName": "Cy"})], vapi_call=f"t{i}")))
    statements.clear()
    again = hook(client, tool_calls(phone, [tc("fp-l", "reserve_atomic", _reserve(slot, "Bo"))], vapi_call="l",
                                    caller="+15557654399"))
    assert statements == ["run_tool_call"]
    assert again.content == lost.content
    assert written(db, org)["holds"] == 3 and written(db, org)["tool_calls"] == 5


def test_a_code_replay_says_the_digits_of_the_code_that_was_sent(client, db):
    org, phone = new_clinic(db)
    slot = first_slot(client, phone)
    held = result_of(results(hook(client, tool_calls(phone, [tc("fp-h", "reserve_atomic", _reserve(slot))])))[0])
    send = tool_calls(phone, [tc("fp-c", "send_otp_code", {"holdId": held["holdId"]})])
    first = hook(client, send)
    assert "6-digit code" in spoken(results(first)[0])
    # The clinic now asks for 8 digits, and the process has forgotten its cached copy of the clinic:
    # the replay still speaks of the 6-digit code that was sent (the result carries code_length).
    db.execute("UPDATE voxbook.organizations SET code_length = 8 WHERE id = %s", [org])
    client.app.state["vapi_clinic_cache"].clear()
    assert hook(client, send).content == first.content


def test_a_failed_call_stores_nothing_and_can_be_retried(client, db):
    org, phone = new_clinic(db)
    slot = first_slot(client, phone)
    bad = {**_reserve(slot), "calendarId": "cal-zzz"}
    [item] = results(hook(client, tool_calls(phone, [tc("fp-f", "reserve_atomic", bad)])))
    assert "unknown calendar" in item["error"]
    assert written(db, org)["tool_calls"] == 1 and written(db, org)["holds"] == 0
    [item] = results(hook(client, tool_calls(phone, [tc("fp-f", "reserve_atomic", _reserve(slot))])))
    assert result_of(item)["success"] is True


def test_a_refused_argument_never_reaches_the_database(client, db, statements):
    org, phone = new_clinic(db)
    slot = first_slot(client, phone)
    results(hook(client, tool_calls(phone, [tc("fp-u", "reserve_atomic", _reserve(slot))])))
    statements.clear()
    [item] = results(hook(client, tool_calls(phone, [tc("fp-u2", "send_otp_code", {})])))
    assert item["error"] == "holdId is required"
    [item] = results(hook(client, tool_calls(phone, [tc("fp-u3", "send_otp_code", {"holdId": ["a", "b"]})])))
    assert item["error"] == "holdId must be a single value, not a list or object"
    assert statements == [] and written(db, org)["tool_calls"] == 2   # the availability check and the reserve


def test_an_unknown_number_is_not_cached(client, db, statements):
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


SPOKEN_WORDS = re.compile(r"\b(I|I'm|I've|I'll|you|your|you're|Sorry|Shall|Perfect)\b")


def _spoken_literals(source: str) -> list[str]:
    """String literals of a module that read as something said to a caller, outside the tool definitions
    (Tool/Arg descriptions for the model and the request-start/-failed lines) and docstrings."""
    tree = ast.parse(source)
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in {"Tool", "Arg"}:
            skip.update(id(n) for n in ast.walk(node))
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and ast.get_docstring(node):
            skip.add(id(node.body[0].value))
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") in {"_SLOT", "_PHONE"} for t in node.targets):
            skip.update(id(n) for n in ast.walk(node))
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in skip and SPOKEN_WORDS.search(n.value)]


def test_the_adapter_words_no_spoken_line():
    """Every line the assistant says for a tool call comes from the message catalogue (worded in SQL,
    stored with the result): the adapter has no spoken English of its own to drift from it."""
    assert _spoken_literals(Path(vapi_tools.__file__).read_text()) == []
    assert not [name for name in dir(vapi_tools) if name.startswith("speak")]
    # The check sees such lines (as the module had before the catalogue), and not the tool definitions.
    sample = ('def speak_verify(r):\n    return f"Perfect! You\'re booked for {r}."\n'
              'T = Tool("verify_otp", "Checks the code you read.", (), "Let me check that code.", "I couldn\'t.")\n')
    assert _spoken_literals(sample) == ["Perfect! You're booked for "]


def test_what_is_said_is_what_was_stored(client, db):
    org, phone = new_clinic(db)
    slot = first_slot(client, phone)
    [item] = results(hook(client, tool_calls(phone, [tc("fp-said", "reserve_atomic", _reserve(slot))])))
    stored = db.execute("SELECT response->>'spoken' AS s FROM voxbook.tool_calls "
                        "WHERE org_id = %s AND tool_call_id = 'fp-said'", [org]).fetchone()["s"]
    assert spoken(item) == stored == f"I've held {slot['localTime']} with {slot['provider']} for you."

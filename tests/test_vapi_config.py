"""`voxbook vapi-config`: the assistant it prints only calls tools the webhook serves, with the
argument names the webhook reads."""

from __future__ import annotations

import json
import re

import pytest

from clinic_helpers import new_clinic
from conftest import run_cli
from vapi_helpers import AUTH, day, first_slot, result_of, results, tc, tool_calls

BASE = "https://voxbook.example.com"


@pytest.fixture(scope="module")
def config() -> dict:
    res = run_cli("vapi-config", "--base-url", BASE + "/", "--credential-id", "cred-123", "--clinic", "Smile Dental",
                  database_url=None)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def _tools(config: dict) -> list[dict]:
    """Our function tools (Vapi's native transferCall is tested in tests/test_front_desk.py)."""
    return [t for t in config["model"]["tools"] if t["type"] != "transferCall"]


def test_tool_definitions_are_valid_vapi_function_tools(config):
    tools = _tools(config)
    names = [t["function"]["name"] for t in tools]
    assert len(names) == len(set(names))
    assert {"check_availability", "reserve_atomic", "send_otp_code", "verify_otp", "send_confirmation_sms",
            "cancel_appointment", "reschedule_appointment",
            "find_my_appointments", "cancel_my_appointment", "reschedule_my_appointment", "join_waitlist"} == set(names)
    for t in tools:
        assert t["type"] == "function" and t["async"] is False
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", t["function"]["name"])
        params = t["function"]["parameters"]
        assert params["type"] == "object" and set(params["required"]) <= params["properties"].keys()
        assert t["server"] == {"url": BASE + "/vapi/webhook", "timeoutSeconds": 10, "credentialId": "cred-123"}
        assert [m["type"] for m in t["messages"]] == ["request-start", "request-failed"]
        assert {p["key"]: p["value"] for p in t["parameters"]} == {"callId": "{{ call.id }}",
                                                                    "callerNumber": "{{ customer.number }}"}
    assert config["server"]["url"] == BASE + "/vapi/webhook"
    assert "end-of-call-report" in config["serverMessages"]


def test_prompt_names_the_steps_in_order(config):
    prompt = config["model"]["messages"][0]["content"]
    assert "Smile Dental" in prompt and "Smile Dental" in config["firstMessage"]
    steps = re.findall(r"^(\d)\. (.*)$", prompt, re.M)
    tools = ("check_availability", "reserve_atomic", "send_otp_code", "verify_otp", "send_confirmation_sms")
    assert [n for n, _ in steps] == ["1", "2", "3", "4", "5"]
    assert all(tool in text for (_, text), tool in zip(steps, tools, strict=True))
    assert "taken" in prompt and "tries" in prompt


def test_a_bad_base_url_is_refused():
    res = run_cli("vapi-config", "--base-url", "voxbook.example.com", database_url=None)
    assert res.returncode == 2 and "--base-url" in res.stderr


def _sample(name: str, slot: dict) -> str:
    return {"date": day(), "slotId": slot["time"], "calendarId": slot["calendarId"], "patientName": "Hal",
            "providedOTP": "1234"}.get(name, "00000000-0000-0000-0000-000000000000")


def test_every_generated_tool_and_argument_is_served_by_the_webhook(config, client, db):
    org, phone = new_clinic(db)
    slot = first_slot(client, phone)
    for tool in _tools(config):
        name = tool["function"]["name"]
        schema = tool["function"]["parameters"]
        static = {p["key"]: "x" for p in tool["parameters"]}

        # The required arguments are enough to get past the adapter to the database.
        args = {**{n: _sample(n, slot) for n in schema["required"]}, "callId": f"cfg-{name}"}
        [item] = results(client.post("/vapi/webhook", json=tool_calls(phone, [tc(f"cfg-{name}", name, args)]),
                                     headers=AUTH))
        answer = item.get("error", "")
        assert "unknown tool" not in answer and "is required" not in answer, (name, item)

        # Every advertised argument (and static parameter) is one the webhook reads: a value of the
        # wrong shape under that name is reported under that name.
        for prop in [*schema["properties"], *static]:
            if prop in ("callId", "callerNumber"):
                continue   # context, read leniently (see the next test)
            [item] = results(client.post("/vapi/webhook", json=tool_calls(phone, [
                tc(f"cfg-{name}-{prop}", name, {**args, prop: {"wrong": "shape"}})]), headers=AUTH))
            assert item.get("error", "").startswith(f"{prop} must be a single value"), (name, prop, item)


def test_static_parameters_fill_in_the_call_context(client, db):
    org, phone = new_clinic(db)
    slot = first_slot(client, phone)
    payload = tool_calls(phone, [tc("st-1", "reserve_atomic", {
        "slotId": slot["time"], "calendarId": slot["calendarId"], "patientName": "Ida",
        "callId": "static-call-id", "callerNumber": "+15557659999"})], caller=None)
    del payload["message"]["call"]
    held = result_of(results(client.post("/vapi/webhook", json=payload, headers=AUTH))[0])
    row = db.execute("SELECT vapi_call_id, patient_phone::text AS phone FROM voxbook.holds WHERE id = %s",
                     [held["holdId"]]).fetchone()
    assert row == {"vapi_call_id": "static-call-id", "phone": "+15557659999"}


def test_the_multilingual_prompt_lists_its_languages_in_the_prompts_language():
    from voxbook.api.assistant import LANGUAGES

    res = run_cli("vapi-config", "--base-url", BASE, "--clinic", "Clínica Sol", "--locale", "es-MX",
                  "--languages", "es,en", database_url=None)
    assert res.returncode == 0, res.stderr
    prompt = json.loads(res.stdout)["model"]["messages"][0]["content"]
    paragraph = prompt.split("\n\n")[-1]
    assert paragraph.startswith("Idiomas: usted habla y entiende español e inglés, y solo estos."), paragraph
    assert "(es, en)" in paragraph and "puede atenderle en español e inglés." in paragraph
    assert "Languages" not in prompt and " you " not in prompt, "no English in the Spanish prompt"

    res = run_cli("vapi-config", "--base-url", BASE, "--clinic", "Smile Dental", "--languages", "en,es",
                  database_url=None)
    paragraph = json.loads(res.stdout)["model"]["messages"][0]["content"].split("\n\n")[-1]
    assert paragraph.startswith("Languages: you speak and understand English and Spanish, and only these."), paragraph
    # Every prompt language can name every language the assistant offers.
    assert all(set(entry["names"]) == set(LANGUAGES) for entry in LANGUAGES.values())

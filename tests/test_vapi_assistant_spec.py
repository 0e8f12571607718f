"""The assistant `voxbook vapi-config` prints is a valid body for Vapi's "create assistant" call: checked against
CreateAssistantDTO from Vapi's own OpenAPI spec (tests/vapi_spec/extract.py cuts it out), in every language setup,
with every tool -- the transfer tool included.

Read as Vapi's server reads it (a NestJS class-validator DTO, which the spec is generated from), not as a strict
JSON Schema reader would, in four ways (`_as_vapi_reads`):
- properties a DTO does not declare are refused (forbidNonWhitelisted), which the spec leaves implicit: every
  object schema with declared properties is closed (additionalProperties false), so a misspelt key fails;
- `oneOf` means "one of these shapes", not "exactly one" (a model name is both a string and one of the known
  names): read as anyOf;
- an `enum` on an array (serverMessages) applies to its items;
- patterns are written as JavaScript literals ('/^[a-z]+$/'): the slashes go.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

SPEC = Path(__file__).parent / "vapi_spec" / "create_assistant_dto.json"


def _as_vapi_reads(node):
    if isinstance(node, dict):
        out = {("anyOf" if k == "oneOf" else k): _as_vapi_reads(v) for k, v in node.items()}
        if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        if out.get("type") == "array" and "enum" in out:
            out["items"] = {**out.get("items", {}), "enum": out.pop("enum")}
        pattern = out.get("pattern")
        if isinstance(pattern, str) and len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/"):
            out["pattern"] = pattern[1:-1]
        return out
    if isinstance(node, list):
        return [_as_vapi_reads(v) for v in node]
    return node


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    doc = json.loads(SPEC.read_text())
    schema = {"components": _as_vapi_reads(doc["components"]), "$ref": f"#/components/schemas/{doc['root']}"}
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _vapi_config(*args: str) -> dict:
    res = subprocess.run([sys.executable, "-m", "voxbook.cli", "vapi-config", "--base-url", "https://voxbook.example.com",
                          "--credential-id", "cred-123", *args], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@pytest.mark.parametrize("args", [(), ("--locale", "es-MX"), ("--locale", "en-GB"), ("--languages", "en,es"),
                                  ("--org-id", "a0000000-0000-0000-0000-000000000001")],
                         ids=["en-US", "es-MX", "en-GB", "multilingual", "pinned"])
def test_the_generated_assistant_is_a_valid_create_assistant_body(validator, args):
    config = _vapi_config(*args)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors[:10])
    assert any(t["type"] == "transferCall" for t in config["model"]["tools"]), "the transfer tool is in it"


def test_the_check_catches_what_vapi_would_refuse(validator):
    config = _vapi_config()
    bad_key = {**config, "voice": {**config["voice"], "voiceID": config["voice"]["voiceId"]}}
    bad_tool = json.loads(json.dumps(config))
    bad_tool["model"]["tools"][0]["type"] = "funtion"
    no_model = {k: v for k, v in config.items() if k != "model"} | {"model": {"provider": "openai"}}
    for bad in (bad_key, bad_tool, no_model):
        assert list(validator.iter_errors(bad)), "an invalid body passes the check"
